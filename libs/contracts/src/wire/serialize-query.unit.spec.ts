import type { LensQuery, QueryStatus } from './query-types';
import { serialize, type WireRoot } from './serialize';
import { readXml } from './xml-read';

const DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>';
const qh = '5d9f0a3e-1c2b-4e7f-8a90-6b1c2d3e4f50';

const xml = (root: WireRoot) => serialize(root, 'application/xml');
const json = (root: WireRoot) => JSON.parse(serialize(root, 'application/json'));

const running: QueryStatus = {
  progress: 0.25,
  status: 'RUNNING',
  statusMessage: 'running on the engine',
  isResultSetAvailable: false,
  errorMessage: 'none yet',
  progressMessage: 'stage 1 of 4',
  queueNumber: 3,
};

const query: LensQuery = {
  queryHandle: { handleId: qh },
  userQuery: 'select a from t',
  submittedUser: 'ana',
  priority: 'NORMAL',
  isPersistent: true,
  selectedDriverName: 'jdbc/main',
  driverQuery: 'SELECT a FROM t',
  status: running,
  resultSetPath: '/results/q1',
  driverOpHandle: 'op-1',
  queryConf: { 'lens.query.output.write.header': 'true' },
  submissionTime: 1700000000000,
  launchTime: 1700000000100,
  driverStartTime: 1700000000200,
  driverFinishTime: 0,
  finishTime: 0,
  closedTime: 0,
  queryName: 'nightly',
};

describe('serialize: LensQuery (GET queryapi/queries/{handle})', () => {
  it('writes every field in LensQuery.java\'s order, the status in QueryStatus\'s binding order', () => {
    expect(xml({ kind: 'lensQuery', value: query })).toBe(
      `${DECL}<lensQuery><queryHandle><handleId>${qh}</handleId></queryHandle><userQuery>select a from t</userQuery>` +
        '<submittedUser>ana</submittedUser><priority>NORMAL</priority><isPersistent>true</isPersistent>' +
        '<selectedDriverName>jdbc/main</selectedDriverName><driverQuery>SELECT a FROM t</driverQuery>' +
        '<status><progress>0.25</progress><status>RUNNING</status><statusMessage>running on the engine</statusMessage>' +
        '<isResultSetAvailable>false</isResultSetAvailable><errorMessage>none yet</errorMessage>' +
        '<progressMessage>stage 1 of 4</progressMessage><queueNumber>3</queueNumber></status>' +
        '<resultSetPath>/results/q1</resultSetPath><driverOpHandle>op-1</driverOpHandle>' +
        '<queryConf><properties><entry><key>lens.query.output.write.header</key><value>true</value></entry></properties></queryConf>' +
        '<submissionTime>1700000000000</submissionTime><launchTime>1700000000100</launchTime>' +
        '<driverStartTime>1700000000200</driverStartTime><driverFinishTime>0</driverFinishTime>' +
        '<finishTime>0</finishTime><closedTime>0</closedTime><queryName>nightly</queryName></lensQuery>',
    );
  });

  it('wraps the JSON in lensQuery; times are numbers, the conf is an array under properties', () => {
    expect(json({ kind: 'lensQuery', value: query })).toEqual({
      lensQuery: {
        queryHandle: { handleId: qh },
        userQuery: 'select a from t',
        submittedUser: 'ana',
        priority: 'NORMAL',
        isPersistent: true,
        selectedDriverName: 'jdbc/main',
        driverQuery: 'SELECT a FROM t',
        status: {
          progress: 0.25,
          status: 'RUNNING',
          statusMessage: 'running on the engine',
          isResultSetAvailable: false,
          errorMessage: 'none yet',
          progressMessage: 'stage 1 of 4',
          queueNumber: 3,
        },
        resultSetPath: '/results/q1',
        driverOpHandle: 'op-1',
        queryConf: { properties: [{ key: 'lens.query.output.write.header', value: 'true' }] },
        submissionTime: 1700000000000,
        launchTime: 1700000000100,
        driverStartTime: 1700000000200,
        driverFinishTime: 0,
        finishTime: 0,
        closedTime: 0,
        queryName: 'nightly',
      },
    });
  });

  it('reads back as what the Python client uses: status.status, status.isResultSetAvailable, queryHandle', () => {
    const body = json({ kind: 'lensQuery', value: { ...query, status: { ...running, status: 'SUCCESSFUL', isResultSetAvailable: true } } });
    expect(body.lensQuery.status.status).toBe('SUCCESSFUL');
    expect(body.lensQuery.status.isResultSetAvailable).toBe(true);
    expect(body.lensQuery.queryHandle.handleId).toBe(qh);
  });

  it('writes progress as Java printed a double: 1.0 in XML and a bare 1.0 in JSON', () => {
    const done = { ...query, status: { ...running, progress: 1 } };
    expect(xml({ kind: 'lensQuery', value: done })).toContain('<status><progress>1.0</progress>');
    expect(serialize({ kind: 'lensQuery', value: done }, 'application/json')).toContain('"status":{"progress":1.0,');
    const zero = { ...query, status: { ...running, progress: 0 } };
    expect(xml({ kind: 'lensQuery', value: zero })).toContain('<progress>0.0</progress>');
  });

  it('leaves out what is unset, keeps primitives, and writes an empty conf as an empty element', () => {
    const fresh: LensQuery = {
      queryHandle: { handleId: qh },
      userQuery: 'select 1',
      submittedUser: 'ana',
      isPersistent: false,
      status: { progress: 0, status: 'QUEUED', statusMessage: 'Query is queued', isResultSetAvailable: false },
      queryConf: {},
      submissionTime: 1700000000000,
      launchTime: 0,
      driverStartTime: 0,
      driverFinishTime: 0,
      finishTime: 0,
      closedTime: 0,
    };
    expect(xml({ kind: 'lensQuery', value: fresh })).toBe(
      `${DECL}<lensQuery><queryHandle><handleId>${qh}</handleId></queryHandle><userQuery>select 1</userQuery>` +
        '<submittedUser>ana</submittedUser><isPersistent>false</isPersistent>' +
        '<status><progress>0.0</progress><status>QUEUED</status><statusMessage>Query is queued</statusMessage>' +
        '<isResultSetAvailable>false</isResultSetAvailable></status><queryConf/>' +
        '<submissionTime>1700000000000</submissionTime><launchTime>0</launchTime><driverStartTime>0</driverStartTime>' +
        '<driverFinishTime>0</driverFinishTime><finishTime>0</finishTime><closedTime>0</closedTime></lensQuery>',
    );
    const body = json({ kind: 'lensQuery', value: fresh }).lensQuery;
    // lens-ui's placeholder query shows the same: "queryConf": {} and closedTime 0.
    expect(body.queryConf).toEqual({});
    expect(body.closedTime).toBe(0);
    expect(body).not.toHaveProperty('priority');
    expect(body).not.toHaveProperty('queryName');
    expect(body).not.toHaveProperty('failedAttempts');
    expect(body.status).toEqual({ progress: 0, status: 'QUEUED', statusMessage: 'Query is queued', isResultSetAvailable: false });
  });

  it('keeps an empty query name, which is what Lens defaulted it to', () => {
    expect(xml({ kind: 'lensQuery', value: { ...query, queryName: '' } })).toContain('<queryName></queryName></lensQuery>');
    expect(json({ kind: 'lensQuery', value: { ...query, queryName: '' } }).lensQuery.queryName).toBe('');
  });

  it('writes failed attempts last, one element each, and as an array in JSON', () => {
    const retried: LensQuery = {
      ...query,
      failedAttempts: [
        { driverName: 'jdbc/main', progress: 0.5, errorMessage: 'connection reset', driverStartTime: 1700000000200, driverFinishTime: 1700000000300 },
        { driverName: 'jdbc/main', progress: 0, progressMessage: 'p', driverStartTime: 1700000000400, driverFinishTime: 1700000000500 },
      ],
    };
    expect(xml({ kind: 'lensQuery', value: retried })).toContain(
      '<queryName>nightly</queryName>' +
        '<failedAttempts><driverName>jdbc/main</driverName><progress>0.5</progress><errorMessage>connection reset</errorMessage>' +
        '<driverStartTime>1700000000200</driverStartTime><driverFinishTime>1700000000300</driverFinishTime></failedAttempts>' +
        '<failedAttempts><driverName>jdbc/main</driverName><progress>0.0</progress><progressMessage>p</progressMessage>' +
        '<driverStartTime>1700000000400</driverStartTime><driverFinishTime>1700000000500</driverFinishTime></failedAttempts></lensQuery>',
    );
    expect(json({ kind: 'lensQuery', value: retried }).lensQuery.failedAttempts).toEqual([
      { driverName: 'jdbc/main', progress: 0.5, errorMessage: 'connection reset', driverStartTime: 1700000000200, driverFinishTime: 1700000000300 },
      { driverName: 'jdbc/main', progress: 0, progressMessage: 'p', driverStartTime: 1700000000400, driverFinishTime: 1700000000500 },
    ]);
  });

  it('writes several conf entries in the map\'s order and escapes them', () => {
    const conf = { 'a.b': 'x<y', 'c&d': '"q"' };
    expect(xml({ kind: 'lensQuery', value: { ...query, queryConf: conf } })).toContain(
      '<queryConf><properties><entry><key>a.b</key><value>x&lt;y</value></entry>' +
        '<entry><key>c&amp;d</key><value>&quot;q&quot;</value></entry></properties></queryConf>',
    );
    expect(json({ kind: 'lensQuery', value: { ...query, queryConf: conf } }).lensQuery.queryConf).toEqual({
      properties: [
        { key: 'a.b', value: 'x<y' },
        { key: 'c&d', value: '"q"' },
      ],
    });
  });

  it('is a well formed document whose text reads back', () => {
    const read = readXml(xml({ kind: 'lensQuery', value: { ...query, userQuery: 'select * from t where a < 3 & b > "x"' } }));
    expect(read.ok && read.root).toBe('lensQuery');
    expect(read.ok && typeof read.content !== 'string' && read.content['userQuery']).toBe('select * from t where a < 3 & b > "x"');
  });
});

describe('serialize: lists of LensQuery (GET queryapi/queries/detail)', () => {
  it('uses Jersey\'s plural lensQueries in XML and a bare array of wrapped items in JSON', () => {
    const body = xml({ kind: 'lensQueryList', value: [query, query] });
    expect(body.startsWith(`${DECL}<lensQueries><lensQuery><queryHandle>`)).toBe(true);
    expect(body.endsWith('</lensQuery></lensQueries>')).toBe(true);
    expect(body.match(/<lensQuery>/g)).toHaveLength(2);
    const list = json({ kind: 'lensQueryList', value: [query] });
    expect(list).toHaveLength(1);
    expect(list[0].lensQuery.queryHandle.handleId).toBe(qh);
    expect(serialize({ kind: 'lensQueryList', value: [] }, 'application/json')).toBe('[]');
    expect(xml({ kind: 'lensQueryList', value: [] })).toBe(`${DECL}<lensQueries></lensQueries>`);
  });
});
