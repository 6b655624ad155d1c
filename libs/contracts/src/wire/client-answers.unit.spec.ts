import { describe, expect, it } from '@jest/globals';
import {
  ApiResultAnswerSchema,
  LensQueryAnswerSchema,
  QueryHandleListAnswerSchema,
  ResultPageAnswerSchema,
  ResultSetMetadataAnswerSchema,
  SessionHandleAnswerSchema,
  StringListAnswerSchema,
  SubmitAnswerSchema,
} from './client-answers';
import type { LensQuery } from './query-types';
import { serialize, type WireRoot } from './serialize';

const json = (root: WireRoot) => JSON.parse(serialize(root, 'application/json'));
const handle = '0b8c1f9e-7a4e-4c1a-9d0e-3f1e2d3c4b5a';

// The client schemas read exactly what the server's serializer writes.
describe('client answer schemas', () => {
  it('read every JSON answer the serializer writes', () => {
    expect(SessionHandleAnswerSchema.parse(json({ kind: 'lensSessionHandle', value: { publicId: handle, secretId: handle } })).lensSessionHandle.secretId).toBe(handle);
    expect(ApiResultAnswerSchema.parse(json({ kind: 'apiResult', value: { status: 'FAILED', message: 'no' } })).apiResult).toEqual({ status: 'FAILED', message: 'no' });
    expect(StringListAnswerSchema.parse(json({ kind: 'stringList', value: { elements: ['a=1'] } })).stringList.elements).toEqual(['a=1']);
    expect(StringListAnswerSchema.parse(json({ kind: 'stringList', value: { elements: [] } })).stringList.elements ?? []).toEqual([]);
    expect(SubmitAnswerSchema.parse(json({ kind: 'lensAPIResult', value: { id: 'x', data: { type: 'queryHandle', handleId: handle } } })).lensAPIResult.data?.handleId).toBe(handle);
    expect(QueryHandleListAnswerSchema.parse(json({ kind: 'queryHandleList', value: [{ handleId: handle }] }))).toEqual([{ queryHandle: { handleId: handle } }]);
    expect(ResultSetMetadataAnswerSchema.parse(json({ kind: 'queryResultSetMetadata', value: { columns: [{ name: 'k', type: 'INT' }] } })).queryResultSetMetadata.columns).toEqual([{ name: 'k', type: 'INT' }]);
    const page = ResultPageAnswerSchema.parse(json({ kind: 'inMemoryQueryResult', value: { rows: [{ values: [{ type: 'int', value: 1 }, null, { type: 'string', value: 'a,b' }] }] } }));
    expect(page.inMemoryQueryResult.rows?.[0].values).toEqual([{ type: 'int', value: 1 }, null, { type: 'string', value: 'a,b' }]);
    expect(ResultPageAnswerSchema.parse(json({ kind: 'inMemoryQueryResult', value: { rows: [] } })).inMemoryQueryResult.rows ?? []).toEqual([]);
  });

  it('reads a LensQuery and refuses one without a status', () => {
    const query: LensQuery = {
      queryHandle: { handleId: handle },
      userQuery: 'SELECT 1',
      submittedUser: 'ana',
      isPersistent: false,
      selectedDriverName: 'pg',
      status: { progress: 1, status: 'SUCCESSFUL', isResultSetAvailable: true },
      queryConf: {},
      submissionTime: 1,
      launchTime: 2,
      driverStartTime: 2,
      driverFinishTime: 3,
      finishTime: 3,
      closedTime: 0,
    };
    const written = json({ kind: 'lensQuery', value: query });
    expect(LensQueryAnswerSchema.parse(written).lensQuery.status.status).toBe('SUCCESSFUL');
    delete written.lensQuery.status;
    expect(LensQueryAnswerSchema.safeParse(written).success).toBe(false);
  });
});
