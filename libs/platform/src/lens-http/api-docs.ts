import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiHeader, ApiOperation, ApiParam, ApiProduces, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { API_RESULT_STATUSES, LENS_ERRORS, QUERY_STATES, RESULT_COLUMN_TYPES, type LensErrorName } from '@quarry/contracts';

/*
 * OpenAPI descriptions of the HTTP routes (served at /lensapi/openapi.json, see node-runtime's
 * openapi-document.ts): one decorator per route, `@ApiRoute({...})`, so a controller states its
 * fields, answers and Lens errors in one place. The answer schemas follow the wire types in
 * libs/contracts (lens-types.ts, query-types.ts, result-types.ts) in their JSON form; the XML has
 * the same element names under the same root.
 */

const str: SchemaObject = { type: 'string' };
const uuid: SchemaObject = { type: 'string', format: 'uuid' };
const int: SchemaObject = { type: 'integer', format: 'int64' };
const obj = (properties: Record<string, SchemaObject>, required?: string[]): SchemaObject => ({ type: 'object', properties, ...(required ? { required } : {}) });
const list = (items: SchemaObject): SchemaObject => ({ type: 'array', items });
const queryHandle = obj({ handleId: uuid }, ['handleId']);
const queryStatus = obj(
  {
    progress: { type: 'number' },
    status: { type: 'string', enum: [...QUERY_STATES] },
    statusMessage: str,
    isResultSetAvailable: { type: 'boolean' },
    errorMessage: str,
    progressMessage: str,
    queueNumber: { type: 'integer' },
  },
  ['progress', 'status', 'isResultSetAvailable'],
);
const resultMetadata = obj({ columns: list(obj({ name: str, type: { type: 'string', enum: [...RESULT_COLUMN_TYPES] } })) });
const inMemoryResult = obj({ rows: list(obj({ values: list({ ...obj({ type: { type: 'string', description: 'xs type: int, long, string, double, decimal, boolean, ...' }, value: {} }), nullable: true }) })) });
const persistentResult = obj({ persistedURI: str, numRows: int, fileSize: int, httpResultUrl: str });

/** Lens answer roots (the JSON root key, the XML root element) and the schema of what they hold. */
const ROOTS = {
  lensSessionHandle: obj({ publicId: uuid, secretId: uuid }, ['publicId', 'secretId']),
  apiResult: obj({ status: { type: 'string', enum: [...API_RESULT_STATUSES] }, message: str }, ['status']),
  stringList: obj({ elements: { ...list(str), description: 'left out when empty' } }),
  lensAPIResult: obj(
    {
      id: str,
      data: {
        type: 'object',
        description: 'by `type`: queryHandle (EXECUTE), queryHandleWithResultSet (EXECUTE_WITH_TIMEOUT: queryHandle, status, result, resultMetadata), queryPlan (EXPLAIN), queryCostTO (ESTIMATE)',
        properties: { type: { type: 'string', enum: ['queryHandle', 'queryHandleWithResultSet', 'queryPlan', 'queryCostTO'] }, handleId: uuid, queryHandle, status: queryStatus, resultMetadata },
      },
      error: obj({ code: { type: 'integer' }, message: str }),
    },
    ['id'],
  ),
  lensQuery: obj({
    queryHandle,
    userQuery: str,
    submittedUser: str,
    isPersistent: { type: 'boolean' },
    selectedDriverName: str,
    status: queryStatus,
    queryConf: { type: 'object', additionalProperties: str },
    submissionTime: int,
    launchTime: int,
    driverStartTime: int,
    driverFinishTime: int,
    finishTime: int,
    closedTime: int,
    queryName: str,
    failedAttempts: list(obj({ driverName: str, progress: { type: 'number' }, errorMessage: str, driverStartTime: int, driverFinishTime: int })),
  }),
  queryResultSetMetadata: resultMetadata,
  inMemoryQueryResult: inMemoryResult,
  persistentQueryResult: persistentResult,
} as const satisfies Record<string, SchemaObject>;

/** Lists: a JSON array of `{item: ...}`, an XML `<listName>` of `<item>`s (Jersey's plural). */
const LISTS = {
  queryHandles: { item: 'queryHandle', schema: queryHandle },
  userSessionInfoes: { item: 'userSessionInfo', schema: obj({ handle: uuid, userName: str, activeQueries: list(queryHandle), creationTime: int, lastAccessTime: int }) },
} as const;

export type LensRoot = keyof typeof ROOTS;
export type LensList = keyof typeof LISTS;

export type RouteAnswer =
  /** A Lens root, in XML (the default) or JSON by the Accept header. */
  | { lens: LensRoot }
  | { lensList: LensList }
  /** Plain JSON (Quarry's own routes), with its schema. */
  | { json: SchemaObject }
  /** Another media type, such as text/plain or a file download. */
  | { mediaType: string; schema?: SchemaObject };

interface Field {
  description: string;
  required?: boolean;
  /** A file part or an XML document (sessionconf, conf). */
  xml?: boolean;
}

export interface RouteDoc {
  tag: string;
  summary: string;
  description?: string;
  answer: RouteAnswer;
  /** Query string parameters. */
  query?: Record<string, Field>;
  /** Multipart (or urlencoded) form fields, as Lens clients send them. */
  form?: Record<string, Field>;
  /** A raw text body. */
  textBody?: string;
  /** Path parameters. */
  params?: Record<string, string>;
  /** Lens errors the route answers (HTTP status, code in the x-lens-error-code header). */
  errors?: LensErrorName[];
  /** Other answers than 200 and the Lens errors (e.g. 307, 503 while leaving). */
  otherAnswers?: Record<number, string>;
}

/** The sessionid parameter every Lens call takes. */
export const SESSION_ID: Field = {
  description: 'the session handle as POST /lensapi/session answered it: its XML (`<lensSessionHandle>...`) or JSON',
  required: true,
};

function content(answer: RouteAnswer): Record<string, { schema: SchemaObject }> {
  if ('lens' in answer) {
    const schema = ROOTS[answer.lens];
    return {
      'application/xml': { schema: { ...schema, xml: { name: answer.lens } } },
      'application/json': { schema: obj({ [answer.lens]: schema }, [answer.lens]) },
    };
  }
  if ('lensList' in answer) {
    const { item, schema } = LISTS[answer.lensList];
    return {
      'application/xml': { schema: { ...list({ ...schema, xml: { name: item } }), xml: { name: answer.lensList, wrapped: true } } },
      'application/json': { schema: list(obj({ [item]: schema }, [item])) },
    };
  }
  if ('json' in answer) return { 'application/json': { schema: answer.json } };
  return { [answer.mediaType]: { schema: answer.schema ?? str } };
}

/** One response per HTTP status, listing the Lens codes answered with it. */
function errorResponses(names: LensErrorName[]) {
  const byStatus = new Map<number, string[]>();
  for (const name of names) {
    const { code, httpStatus, message } = LENS_ERRORS[name];
    byStatus.set(httpStatus, [...(byStatus.get(httpStatus) ?? []), `${code} ${name}: ${message}`]);
  }
  return [...byStatus].map(([status, codes]) =>
    ApiResponse({
      status,
      description: `Lens error (code in the x-lens-error-code header): ${codes.join('; ')}`,
      headers: { 'x-lens-error-code': { description: 'the Lens error code', schema: { type: 'integer' } } },
    }),
  );
}

/** What every route may answer whatever it does: Quarry's database or this node out of reach. */
const ALWAYS: LensErrorName[] = ['SERVICE_UNAVAILABLE', 'NODE_ENDED'];
const FORM_ERRORS: LensErrorName[] = ['PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'];

/** The OpenAPI description of one route. */
export function ApiRoute(doc: RouteDoc): MethodDecorator {
  const answer = content(doc.answer);
  const decorators = [
    ApiTags(doc.tag),
    ApiOperation({ summary: doc.summary, description: doc.description }),
    ApiProduces(...Object.keys(answer)),
    ApiResponse({ status: 200, description: doc.summary, content: answer }),
    ...Object.entries(doc.params ?? {}).map(([name, description]) => ApiParam({ name, description, type: String })),
    ...Object.entries(doc.query ?? {}).map(([name, field]) => ApiQuery({ name, description: field.description, required: field.required ?? false, type: String })),
    ...Object.entries(doc.otherAnswers ?? {}).map(([status, description]) => ApiResponse({ status: Number(status), description })),
  ];
  if (doc.form) {
    const properties = Object.fromEntries(
      Object.entries(doc.form).map(([name, field]) => [name, { type: 'string', description: field.xml ? `${field.description} (an XML document)` : field.description }]),
    );
    const required = Object.entries(doc.form).filter(([, field]) => field.required).map(([name]) => name);
    decorators.push(ApiConsumes('multipart/form-data', 'application/x-www-form-urlencoded'), ApiBody({ schema: obj(properties, required.length ? required : undefined) }));
  }
  if (doc.textBody) decorators.push(ApiConsumes('text/plain', 'application/json'), ApiBody({ description: doc.textBody, schema: str }));
  const errors = [...new Set([...(doc.errors ?? []), ...(doc.form || doc.textBody ? FORM_ERRORS : []), ...ALWAYS])];
  decorators.push(...errorResponses(errors));
  return applyDecorators(...decorators);
}

/** For node-to-node routes: the cluster secret header they require. */
export const ApiClusterSecret = () => ApiHeader({ name: 'x-quarry-cluster-secret', required: true, description: 'the cluster secret (QUARRY_CLUSTER_SECRET); the balancer never passes these routes' });
