import { javaDoubleText } from './java-number';
import type { LensConf, QueryHandle } from './lens-types';
import type { FailedAttempt, LensQuery, QueryStatus } from './query-types';
import type { WireObject } from './wire-tree';

/*
 * Element trees for the query types, fields in the order JAXB wrote them (see query-types.ts and
 * Lens's own output in lens-api/src/test/resources/toString/org.apache.lens.api.query.LensQuery.xml).
 */

export const queryHandleWire = (q: QueryHandle): WireObject => ({ fields: [{ name: 'handleId', value: q.handleId }] });

/**
 * LensConf.java: a map under a `properties` wrapper, one `entry` {key, value} each, which MOXy
 * writes as {"properties": [{"key": .., "value": ..}]}.
 */
export const lensConfWire = (conf: LensConf): WireObject => ({
  fields: [
    {
      name: 'entry',
      wrapper: 'properties',
      items: Object.entries(conf).map(([key, value]) => ({
        fields: [
          { name: 'key', value: key },
          { name: 'value', value },
        ],
      })),
    },
  ],
});

const javaDouble = (value: number) => ({ numberText: javaDoubleText(value) });

export const queryStatusWire = (s: QueryStatus): WireObject => ({
  fields: [
    { name: 'progress', value: javaDouble(s.progress) },
    { name: 'status', value: s.status },
    { name: 'statusMessage', value: s.statusMessage },
    { name: 'isResultSetAvailable', value: s.isResultSetAvailable },
    { name: 'errorMessage', value: s.errorMessage },
    { name: 'progressMessage', value: s.progressMessage },
    { name: 'queueNumber', value: s.queueNumber },
  ],
});

const failedAttemptWire = (a: FailedAttempt): WireObject => ({
  fields: [
    { name: 'driverName', value: a.driverName },
    { name: 'progress', value: javaDouble(a.progress) },
    { name: 'progressMessage', value: a.progressMessage },
    { name: 'errorMessage', value: a.errorMessage },
    { name: 'driverStartTime', value: a.driverStartTime },
    { name: 'driverFinishTime', value: a.driverFinishTime },
  ],
});

export const lensQueryWire = (q: LensQuery): WireObject => ({
  fields: [
    { name: 'queryHandle', value: queryHandleWire(q.queryHandle) },
    { name: 'userQuery', value: q.userQuery },
    { name: 'submittedUser', value: q.submittedUser },
    { name: 'priority', value: q.priority },
    { name: 'isPersistent', value: q.isPersistent },
    { name: 'selectedDriverName', value: q.selectedDriverName },
    { name: 'driverQuery', value: q.driverQuery },
    { name: 'status', value: queryStatusWire(q.status) },
    { name: 'resultSetPath', value: q.resultSetPath },
    { name: 'driverOpHandle', value: q.driverOpHandle },
    { name: 'queryConf', value: lensConfWire(q.queryConf) },
    { name: 'submissionTime', value: q.submissionTime },
    { name: 'launchTime', value: q.launchTime },
    { name: 'driverStartTime', value: q.driverStartTime },
    { name: 'driverFinishTime', value: q.driverFinishTime },
    { name: 'finishTime', value: q.finishTime },
    { name: 'closedTime', value: q.closedTime },
    { name: 'queryName', value: q.queryName },
    // A List with @XmlElement and no wrapper: one `failedAttempts` element per attempt.
    { name: 'failedAttempts', items: (q.failedAttempts ?? []).map(failedAttemptWire) },
  ],
});
