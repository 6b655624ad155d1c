import { readBoolean, readEnum, readInt, readString, type Env } from './env';

export const SERVICE_NAMES = ['gateway', 'session', 'query', 'driver', 'result'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Every setting of a node, read once from the environment. The README's configuration table
 * lists the same keys; keep the two together.
 */
export interface QuarryConfig {
  nodeId: string;
  httpHost: string;
  httpPort: number;
  /** The gRPC API's port (quarry.v1, with server reflection), on httpHost, where the node runs the gateway; `0` picks a free one. */
  grpcPort: number;
  /** The URL other nodes use to reach this one (forwarding, health probes): `http://host:port`, nothing more. */
  advertisedUrl: string;
  /**
   * Shared by the nodes of one cluster and sent on every request between them; internal routes
   * answer only requests that carry it. Unset: the node runs alone (it refuses to join running nodes).
   */
  clusterSecret?: string;
  /**
   * Proxies whose X-Forwarded-For is believed (Express's `trust proxy`: addresses, subnets,
   * `loopback`..., or a number of proxy hops), so a client behind the balancer is known by its own
   * address; false: none.
   */
  trustProxy: string | number | false;
  databaseUrl: string;
  dbPoolSize: number;
  /** Count Quarry's database statements by purpose (lens, relay, projection, ...), not only in total: costs a few percent of CPU. */
  dbCountByPurpose: boolean;
  kafkaBrokers: string[];
  kafkaClientId: string;
  kafkaPartitions: number;
  /** Prefix of topic and consumer-group names; `quarry` gives `quarry.session.events`. */
  topicPrefix: string;
  relayBatchSize: number;
  relayIdleMs: number;
  relayLingerMs: number;
  logLevel: (typeof LOG_LEVELS)[number];
  membership: MembershipSettings;
  sessions: SessionSettings;
  auth: AuthSettings;
  queries: QuerySettings;
  drivers: DriverSettings;
  results: ResultSettings;
}

export interface ResultSettings {
  /** The shared result store's folder (a shared mount when nodes are on several hosts). */
  dir: string;
  /** Persist results unless the query says otherwise (lens.query.enable.persistent.resultset). */
  persistByDefault: boolean;
  /** How long the executing node keeps an in-memory result (Lens: 300 s). */
  heldTtlMs: number;
  /** Largest in-memory result; past it the query fails or persists (`overflow`). */
  heldMaxBytes: number;
  /** All in-memory results of one node together. */
  heldTotalBytes: number;
  overflow: 'fail' | 'persist';
  /** A GET on a node that does not hold the result: forward to the holder, or 307 to its URL. */
  fetchMode: 'forward' | 'redirect';
  /** Memory for pages a forwarding node reads ahead from their holder (PageReadAhead); 0: no read-ahead. */
  readAheadBytes: number;
  /** Re-run a query whose in-memory result is gone instead of answering 410 (quarry.query.rerun.on.lost.result). */
  rerunOnLost: boolean;
  /** How long a result request waits for such a re-run before answering 503 with "poll the status". */
  rerunWaitMs: number;
  /** The largest single value a query may return (bytes of its text), in memory or persisted; past it the query fails. */
  maxValueBytes: number;
  /** The largest row (bytes of its values together); past it the query fails. Below what one V8 string holds, so any row reads back. */
  maxRowBytes: number;
  /** The most bytes of rows one read from the warehouse gathers (pg: one cursor FETCH, sized to fit); past it the query fails. */
  maxBatchBytes: number;
}

export interface QuerySettings {
  /** Queries one node runs at once; the rest wait QUEUED with a queue number. */
  maxRunningPerNode: number;
  /**
   * How long a submit that launches its query on its own node waits for the run to end before its
   * append is sent: ended by then, the query is recorded from submitted to succeeded in that one
   * commit (0: never waits; every query then takes a second commit for its end).
   */
  quickEndMs: number;
  /** How long a submit reuses the driver chosen for the same query text, database, user and resources (0: never). */
  driverChoiceTtlMs: number;
  /** Finished queries become CLOSED this long after they finished. */
  retentionMs: number;
  retentionCheckMs: number;
  /** How often one node looks in PostgreSQL for queries of ended incarnations that Kafka did not bring. */
  takeoverReconcileMs: number;
  /** On SIGTERM, how long running queries may go on before they are handed over to other nodes. */
  drainGraceMs: number;
}

export interface DriverSettings {
  /** The warehouse PostgreSQL the `pg` driver queries (not Quarry's own database). */
  pgWarehouseUrl: string;
  /** The folder of Parquet and CSV files the `duckdb` driver reads (and may read only). */
  duckdbWarehouseDir: string;
  /**
   * Warehouse connections one node keeps for sessions with `.sql` init scripts (one per recently
   * used such session, least recent closed first). Every node holds its own, so nodes x (this +
   * pgWarehousePoolMax + 2) must stay below the warehouse's limit.
   */
  pgMaxSessions: number;
  /** Warehouse connections one node shares among the sessions without init scripts. */
  pgWarehousePoolMax: number;
  /** Each pg driver statement's limit, and each transaction's as a whole (0: none). */
  pgStatementTimeoutMs: number;
  /** Start and run queries even when the warehouse role is privileged (superuser, server files); logged as a warning. */
  pgAllowPrivileged: boolean;
  /** SET ROLE to the role named after the session's user for every pg driver transaction. */
  pgRolePerUser: boolean;
}

export interface SessionSettings {
  maxPerUser: number;
  idleTimeoutMs: number;
  expiryCheckMs: number;
  defaultDatabase: string;
  /** Folders resources may be read from; empty means adding resources is refused. */
  resourceRoots: string[];
  resourceMaxBytes: number;
  paramValueMaxBytes: number;
}

export interface MembershipSettings {
  /** How often every node records in `node_heartbeats` that it is alive. */
  heartbeatMs: number;
  /** A node whose heartbeat is older than this is declared down (NodeDown), unless it still answers its health URL. */
  downAfterMs: number;
  /** How long the failure detector waits for a silent node's /health before declaring it down. */
  probeTimeoutMs: number;
}

export interface AuthSettings {
  mode: 'none' | 'file';
  usersFile?: string;
  /** Presented as `Authorization: Bearer <token>`, lets a caller see every user's sessions. */
  adminToken?: string;
  logins: LoginLimits;
}

/** Failed logins one node accepts before it answers 429 for a while (per node, in memory). */
export interface LoginLimits {
  maxFailuresPerUser: number;
  maxFailuresPerAddress: number;
  /** Failures count for this long from the first one; then the slate is clean again. */
  windowMs: number;
}

export function loadConfig(env: Env = process.env): QuarryConfig {
  const httpPort = readInt(env, 'QUARRY_HTTP_PORT', 3000, 0, 65535);
  const httpHost = readString(env, 'QUARRY_HTTP_HOST', '127.0.0.1');
  const topicPrefix = readString(env, 'QUARRY_TOPIC_PREFIX', 'quarry');
  if (!/^[a-zA-Z0-9_-]+$/.test(topicPrefix)) {
    throw new Error(`QUARRY_TOPIC_PREFIX=${topicPrefix} may hold only letters, digits, _ and -`);
  }
  const nodeId = readString(env, 'QUARRY_NODE_ID', `node-${httpPort}`);
  return {
    nodeId,
    httpHost,
    httpPort,
    grpcPort: readInt(env, 'QUARRY_GRPC_PORT', 9090, 0, 65535),
    advertisedUrl: readAdvertisedUrl(readString(env, 'QUARRY_ADVERTISED_URL', `http://${httpHost.includes(':') ? `[${httpHost}]` : httpHost}:${httpPort}`)),
    clusterSecret: readClusterSecret(env),
    trustProxy: readTrustProxy(env),
    databaseUrl: readString(env, 'DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/quarry'),
    dbPoolSize: readInt(env, 'QUARRY_DB_POOL_SIZE', 10, 2, 200),
    dbCountByPurpose: readBoolean(env, 'QUARRY_DB_COUNT_BY_PURPOSE'),
    kafkaBrokers: readString(env, 'KAFKA_BROKERS', '127.0.0.1:9092').split(',').map((b) => b.trim()).filter(Boolean),
    kafkaClientId: readString(env, 'QUARRY_KAFKA_CLIENT_ID', `quarry-${nodeId}`),
    kafkaPartitions: readInt(env, 'QUARRY_KAFKA_PARTITIONS', 6, 1, 1000),
    topicPrefix,
    relayBatchSize: readInt(env, 'QUARRY_RELAY_BATCH_SIZE', 500, 1, 10000),
    relayIdleMs: readInt(env, 'QUARRY_RELAY_IDLE_MS', 500, 10, 60000),
    relayLingerMs: readInt(env, 'QUARRY_RELAY_LINGER_MS', 25, 0, 1000),
    logLevel: readEnum(env, 'QUARRY_LOG_LEVEL', LOG_LEVELS, 'info'),
    membership: readMembership(env),
    sessions: {
      maxPerUser: readInt(env, 'QUARRY_MAX_SESSIONS_PER_USER', 10, 1, 100_000),
      idleTimeoutMs: readInt(env, 'QUARRY_SESSION_IDLE_TIMEOUT_MS', 86_400_000, 1000),
      expiryCheckMs: readInt(env, 'QUARRY_SESSION_EXPIRY_CHECK_MS', 60_000, 50),
      defaultDatabase: readString(env, 'QUARRY_DEFAULT_DATABASE', 'default'),
      resourceRoots: readString(env, 'QUARRY_RESOURCE_ROOTS', '').split(',').map((r) => r.trim()).filter(Boolean),
      resourceMaxBytes: readInt(env, 'QUARRY_RESOURCE_MAX_BYTES', 16 * 1024 * 1024, 1, 512 * 1024 * 1024),
      paramValueMaxBytes: readInt(env, 'QUARRY_PARAM_VALUE_MAX_BYTES', 16 * 1024, 1, 65_536),
    },
    auth: readAuth(env),
    queries: {
      maxRunningPerNode: readInt(env, 'QUARRY_MAX_RUNNING_QUERIES', 8, 1, 1000),
      quickEndMs: readInt(env, 'QUARRY_QUICK_END_MS', 50, 0, 1000),
      driverChoiceTtlMs: readInt(env, 'QUARRY_DRIVER_CHOICE_TTL_MS', 30_000, 0, 86_400_000),
      retentionMs: readInt(env, 'QUARRY_QUERY_RETENTION_MS', 3_600_000, 1000),
      retentionCheckMs: readInt(env, 'QUARRY_QUERY_RETENTION_CHECK_MS', 60_000, 50),
      takeoverReconcileMs: readInt(env, 'QUARRY_TAKEOVER_RECONCILE_MS', 2000, 50, 600_000),
      drainGraceMs: readInt(env, 'QUARRY_DRAIN_GRACE_MS', 10_000, 0, 3_600_000),
    },
    drivers: {
      pgWarehouseUrl: readString(env, 'QUARRY_PG_WAREHOUSE_URL', 'postgres://quarry_reader@127.0.0.1:5432/quarry_warehouse'),
      duckdbWarehouseDir: readString(env, 'QUARRY_DUCKDB_WAREHOUSE', `${process.cwd()}/.cache/warehouse`),
      pgMaxSessions: readInt(env, 'QUARRY_PG_MAX_SESSIONS', 16, 1, 1000),
      pgWarehousePoolMax: readInt(env, 'QUARRY_PG_WAREHOUSE_POOL_MAX', 16, 1, 1000),
      pgStatementTimeoutMs: readInt(env, 'QUARRY_PG_STATEMENT_TIMEOUT_MS', 900_000, 0, 2_147_483_647),
      pgAllowPrivileged: readBoolean(env, 'QUARRY_PG_ALLOW_PRIVILEGED'),
      pgRolePerUser: readBoolean(env, 'QUARRY_PG_ROLE_PER_USER'),
    },
    results: {
      dir: readString(env, 'QUARRY_RESULT_DIR', `${process.cwd()}/.cache/results`),
      persistByDefault: readBoolean(env, 'QUARRY_PERSIST_RESULTS'),
      heldTtlMs: readInt(env, 'QUARRY_RESULT_TTL_SECONDS', 300, 1, 7 * 86_400) * 1000,
      heldMaxBytes: readInt(env, 'QUARRY_RESULT_MEMORY_MAX_BYTES', 64 * 1024 * 1024, 1024, 2 ** 40),
      heldTotalBytes: readInt(env, 'QUARRY_RESULT_MEMORY_TOTAL_BYTES', 512 * 1024 * 1024, 1024, 2 ** 40),
      overflow: readEnum(env, 'QUARRY_RESULT_OVERFLOW', ['fail', 'persist'] as const, 'fail'),
      fetchMode: readEnum(env, 'QUARRY_RESULT_FETCH', ['forward', 'redirect'] as const, 'forward'),
      readAheadBytes: readInt(env, 'QUARRY_RESULT_READ_AHEAD_BYTES', 64 * 1024 * 1024, 0, 2 ** 40),
      rerunOnLost: readBoolean(env, 'QUARRY_RERUN_ON_LOST_RESULT'),
      rerunWaitMs: readInt(env, 'QUARRY_RERUN_WAIT_MS', 30_000, 0, 600_000),
      ...readResultLimits(env),
    },
  };
}

/**
 * Other nodes build every request to this one from this URL and a route of their own, so it may
 * name a scheme, host and port only (node-to-node traffic is plain HTTP).
 */
function readAdvertisedUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`QUARRY_ADVERTISED_URL=${raw} is not a URL; give http://host:port`);
  }
  if (url.protocol !== 'http:' || url.username || url.password || url.pathname !== '/' || url.search || url.hash) {
    throw new Error(`QUARRY_ADVERTISED_URL=${raw} must be http://host:port, without user, path, query or fragment`);
  }
  return url.origin;
}

/** At least 16 visible ASCII characters (it travels in a header); `npm start` makes 32 random bytes. */
function readClusterSecret(env: Env): string | undefined {
  const secret = env['QUARRY_CLUSTER_SECRET'] || undefined;
  if (secret !== undefined && !/^[\x21-\x7e]{16,}$/.test(secret)) {
    throw new Error('QUARRY_CLUSTER_SECRET must be at least 16 visible ASCII characters without spaces (e.g. `openssl rand -base64 32`)');
  }
  return secret;
}

/**
 * Limits on one value, one row and the rows read at once, so that no result can hold what a node
 * cannot (V8's strings end below 512 MiB; a FETCH of many long rows is held whole).
 */
function readResultLimits(env: Env): Pick<ResultSettings, 'maxValueBytes' | 'maxRowBytes' | 'maxBatchBytes'> {
  const maxValueBytes = readInt(env, 'QUARRY_RESULT_MAX_VALUE_BYTES', 64 * 1024 * 1024, 1024, 256 * 1024 * 1024);
  const maxRowBytes = readInt(env, 'QUARRY_RESULT_MAX_ROW_BYTES', 128 * 1024 * 1024, 1024, 256 * 1024 * 1024);
  if (maxValueBytes > maxRowBytes) {
    throw new Error(`QUARRY_RESULT_MAX_VALUE_BYTES=${maxValueBytes} must not be more than QUARRY_RESULT_MAX_ROW_BYTES (${maxRowBytes})`);
  }
  // Two rows at the row limit: the first FETCH (sized before any row is seen) then still ends a one-row result.
  const minBatchBytes = 2 * maxRowBytes;
  const maxBatchBytes = readInt(env, 'QUARRY_RESULT_MAX_BATCH_BYTES', Math.max(256 * 1024 * 1024, minBatchBytes), 2048, 2 ** 40);
  if (maxBatchBytes < minBatchBytes) {
    throw new Error(`QUARRY_RESULT_MAX_BATCH_BYTES=${maxBatchBytes} must be at least twice QUARRY_RESULT_MAX_ROW_BYTES (${maxRowBytes})`);
  }
  return { maxValueBytes, maxRowBytes, maxBatchBytes };
}

function readMembership(env: Env): MembershipSettings {
  const heartbeatMs = readInt(env, 'QUARRY_HEARTBEAT_MS', 1000, 100);
  const downAfterMs = readInt(env, 'QUARRY_NODE_DOWN_AFTER_MS', 3000, 1);
  const probeTimeoutMs = readInt(env, 'QUARRY_NODE_PROBE_TIMEOUT_MS', 1000, 50, 60_000);
  // One late or lost beat must not make a live node look down.
  if (downAfterMs <= 2 * heartbeatMs) {
    throw new Error(`QUARRY_NODE_DOWN_AFTER_MS=${downAfterMs} must be more than twice QUARRY_HEARTBEAT_MS (${heartbeatMs})`);
  }
  return { heartbeatMs, downAfterMs, probeTimeoutMs };
}

function readAuth(env: Env): AuthSettings {
  const mode = readEnum(env, 'QUARRY_AUTH', ['none', 'file'] as const, 'none');
  const usersFile = env['QUARRY_USERS_FILE'] || undefined;
  if (mode === 'file' && !usersFile) throw new Error('QUARRY_AUTH=file needs QUARRY_USERS_FILE');
  const logins = {
    maxFailuresPerUser: readInt(env, 'QUARRY_LOGIN_MAX_FAILURES_PER_USER', 10, 1, 1_000_000),
    maxFailuresPerAddress: readInt(env, 'QUARRY_LOGIN_MAX_FAILURES_PER_ADDRESS', 30, 1, 1_000_000),
    windowMs: readInt(env, 'QUARRY_LOGIN_WINDOW_MS', 60_000, 1000, 86_400_000),
  };
  return { mode, usersFile, adminToken: env['QUARRY_ADMIN_TOKEN'] || undefined, logins };
}

function readTrustProxy(env: Env): string | number | false {
  const raw = readString(env, 'QUARRY_TRUST_PROXY', 'loopback').trim();
  if (raw === 'none') return false;
  return /^\d+$/.test(raw) ? readInt(env, 'QUARRY_TRUST_PROXY', 1, 1, 10) : raw;
}

/** `all`, or a comma list of service names; anything else is an error that names the choices. */
export function parseTargets(raw: string | undefined): ServiceName[] {
  if (!raw || raw === 'all') return [...SERVICE_NAMES];
  const names = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(SERVICE_NAMES as readonly string[]).includes(n));
  if (unknown.length > 0 || names.length === 0) {
    throw new Error(`unknown target(s) ${unknown.join(', ') || '(none)'}; use all or a list of ${SERVICE_NAMES.join(', ')}`);
  }
  return [...new Set(names)] as ServiceName[];
}
