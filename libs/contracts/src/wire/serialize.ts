import type {
  APIResult,
  LensAPIResult,
  LensAPIResultData,
  LensErrorTO,
  LensSessionHandle,
  QueryCost,
  QueryHandle,
  StringList,
  UserSessionInfo,
} from './lens-types';
import type { LensQuery } from './query-types';
import type { InMemoryQueryResult, PersistentQueryResult, QueryResultSetMetadata } from './result-types';
import { lensQueryWire, queryHandleWire } from './serialize-query';
import { driverRowsJson, driverRowsXml, inMemoryResultJson, inMemoryResultXml, writeDriverRowsJson, writeDriverRowsXml, type DriverRows, type PieceSink } from './result-page-text';
import { persistentResultWire, queryHandleWithResultSetWire, resultSetMetadataWire } from './serialize-result';
import { toJson, toJsonList, toXml, toXmlList, type WireObject } from './wire-tree';

export type WireMediaType = 'application/json' | 'application/xml';

/** A whole answer body, tagged with what it is, so one function can write it either way. */
export type WireRoot =
  | { kind: 'lensSessionHandle'; value: LensSessionHandle }
  | { kind: 'apiResult'; value: APIResult }
  | { kind: 'stringList'; value: StringList }
  | { kind: 'lensAPIResult'; value: LensAPIResult }
  /** GET queryapi/queries: List<QueryHandle>. */
  | { kind: 'queryHandleList'; value: QueryHandle[] }
  /** GET queryapi/queries/{handle}. */
  | { kind: 'lensQuery'; value: LensQuery }
  /** GET queryapi/queries/detail: List<LensQuery>. */
  | { kind: 'lensQueryList'; value: LensQuery[] }
  /** GET queryapi/queries/{handle}/resultsetmetadata. */
  | { kind: 'queryResultSetMetadata'; value: QueryResultSetMetadata }
  /** GET queryapi/queries/{handle}/resultset, rows held by the server. */
  | { kind: 'inMemoryQueryResult'; value: InMemoryQueryResult }
  /** The same, from the rows a driver gave: written as inMemoryQueryResult without a ResultValue per cell. */
  | { kind: 'driverRows'; value: DriverRows }
  /** GET queryapi/queries/{handle}/resultset, rows in a file. */
  | { kind: 'persistentQueryResult'; value: PersistentQueryResult }
  /** GET session/sessions: List<UserSessionInfo>. */
  | { kind: 'userSessionInfoList'; value: UserSessionInfo[] }
  /** text/plain answers such as GET session's `session is up!`; written as is. */
  | { kind: 'text'; value: string };

/** The Content-Type to send with what serialize() returns. */
export function contentTypeFor(root: WireRoot, mediaType: WireMediaType): string {
  return root.kind === 'text' ? 'text/plain' : mediaType;
}

const sessionHandle = (h: LensSessionHandle): WireObject => ({
  fields: [
    { name: 'publicId', value: h.publicId },
    { name: 'secretId', value: h.secretId },
  ],
});

const apiResult = (r: APIResult): WireObject => ({
  fields: [
    { name: 'status', value: r.status },
    { name: 'message', value: r.message },
  ],
});

const queryCost = (c: QueryCost): WireObject => ({
  fields: [
    { name: 'estimatedExecTimeMillis', value: c.estimatedExecTimeMillis },
    { name: 'estimatedResourceUsage', value: c.estimatedResourceUsage },
    { name: 'costType', value: c.costType },
  ],
});

// Fields of a subtype carried in `data` (declared type Object), typed by xsi:type.
function data(d: LensAPIResultData): WireObject {
  switch (d.type) {
    case 'queryHandle':
      return { ...queryHandleWire(d), xsiType: d.type };
    case 'queryCostTO':
      return { ...queryCost(d), xsiType: d.type };
    case 'queryPlan':
      return {
        xsiType: d.type,
        fields: [
          { name: 'tablesQueried', items: d.tablesQueried, wrapper: 'tablesQueried' },
          { name: 'hasSubQuery', value: d.hasSubQuery },
          { name: 'execMode', value: d.execMode },
          { name: 'scanMode', value: d.scanMode },
          { name: 'planString', value: d.planString },
          { name: 'queryCost', value: d.queryCost && queryCost(d.queryCost) },
        ],
      };
    case 'queryHandleWithResultSet':
      return { ...queryHandleWithResultSetWire(d), xsiType: d.type };
  }
}

function lensError(e: LensErrorTO): WireObject {
  const payload: WireObject | undefined = e.payload && {
    xsiType: e.payload.type,
    fields: [{ name: 'operation', items: e.payload.supportedOperations, wrapper: 'supportedOperations' }],
  };
  return {
    fields: [
      { name: 'code', value: e.code },
      { name: 'message', value: e.message },
      { name: 'stackTrace', value: e.stackTrace },
      { name: 'payload', value: payload },
      { name: 'error', items: (e.childErrors ?? []).map(lensError), wrapper: 'childErrors' },
    ],
  };
}

const lensAPIResult = (r: LensAPIResult): WireObject => ({
  fields: [
    { name: 'apiVersion', value: r.apiVersion },
    { name: 'id', value: r.id },
    { name: 'data', value: r.data && data(r.data) },
    { name: 'error', value: r.error && lensError(r.error) },
  ],
});

const userSessionInfo = (u: UserSessionInfo): WireObject => ({
  fields: [
    { name: 'handle', value: u.handle },
    { name: 'userName', value: u.userName },
    { name: 'activeQueries', items: u.activeQueries.map(queryHandleWire) },
    { name: 'creationTime', value: u.creationTime },
    { name: 'lastAccessTime', value: u.lastAccessTime },
  ],
});

function one(rootName: string, root: WireObject, mediaType: WireMediaType): string {
  return mediaType === 'application/json' ? toJson(rootName, root) : toXml(rootName, root);
}

// XML list roots are Jersey's plural of the item class (AbstractCollectionJaxbProvider with its
// NounInflector): "...Info" takes "es", hence userSessionInfoes.
function list(listName: string, itemName: string, items: WireObject[], mediaType: WireMediaType): string {
  return mediaType === 'application/json' ? toJsonList(itemName, items) : toXmlList(listName, itemName, items);
}

/** Writes a Lens answer body the way Lens 2.7/2.8 did for the given media type. */
export function serialize(root: WireRoot, mediaType: WireMediaType): string {
  switch (root.kind) {
    case 'lensSessionHandle':
      return one('lensSessionHandle', sessionHandle(root.value), mediaType);
    case 'apiResult':
      return one('apiResult', apiResult(root.value), mediaType);
    case 'stringList':
      return one('stringList', { fields: [{ name: 'elements', items: root.value.elements }] }, mediaType);
    case 'lensAPIResult':
      return one('lensAPIResult', lensAPIResult(root.value), mediaType);
    case 'queryHandleList':
      return list('queryHandles', 'queryHandle', root.value.map(queryHandleWire), mediaType);
    case 'lensQuery':
      return one('lensQuery', lensQueryWire(root.value), mediaType);
    case 'lensQueryList':
      // Jersey's plural of lensQuery (y after a consonant or "qu" becomes "ies").
      return list('lensQueries', 'lensQuery', root.value.map(lensQueryWire), mediaType);
    case 'queryResultSetMetadata':
      return one('queryResultSetMetadata', resultSetMetadataWire(root.value), mediaType);
    case 'inMemoryQueryResult':
      // The page path: written directly, the same bytes as the element tree would give.
      return mediaType === 'application/json' ? inMemoryResultJson(root.value) : inMemoryResultXml(root.value);
    case 'driverRows':
      return mediaType === 'application/json' ? driverRowsJson(root.value) : driverRowsXml(root.value);
    case 'persistentQueryResult':
      return one('persistentQueryResult', persistentResultWire(root.value), mediaType);
    case 'userSessionInfoList':
      return list('userSessionInfoes', 'userSessionInfo', root.value.map(userSessionInfo), mediaType);
    case 'text':
      return root.value;
  }
}

/**
 * A page of a driver's rows as serialize() writes it, handed to `emit` in pieces that each end
 * with a row (see PAGE_PIECE_CHARS): the caller encodes each piece as it comes.
 */
export function serializeDriverRows(page: DriverRows, mediaType: WireMediaType, emit: PieceSink): void {
  if (mediaType === 'application/json') writeDriverRowsJson(page, emit);
  else writeDriverRowsXml(page, emit);
}
