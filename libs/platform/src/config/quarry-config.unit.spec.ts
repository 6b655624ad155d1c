import { loadConfig, parseTargets, SERVICE_NAMES } from './quarry-config';

describe('configuration', () => {
  it('has working defaults for a local node', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      httpPort: 3000,
      grpcPort: 9090,
      nodeId: 'node-3000',
      kafkaBrokers: ['127.0.0.1:9092'],
      topicPrefix: 'quarry',
      kafkaPartitions: 6,
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/quarry',
    });
    expect(config.advertisedUrl).toBe('http://127.0.0.1:3000');
    expect(config.membership).toEqual({ heartbeatMs: 1000, downAfterMs: 3000, probeTimeoutMs: 1000 });
  });

  it('reads every key from the environment', () => {
    const config = loadConfig({
      QUARRY_NODE_ID: 'L2',
      QUARRY_HTTP_PORT: '3002',
      QUARRY_GRPC_PORT: '9092',
      KAFKA_BROKERS: 'a:1, b:2',
      QUARRY_KAFKA_PARTITIONS: '12',
      QUARRY_TOPIC_PREFIX: 'staging',
      QUARRY_LOG_LEVEL: 'warn',
      QUARRY_HEARTBEAT_MS: '200',
      QUARRY_NODE_DOWN_AFTER_MS: '1500',
    });
    expect(config).toMatchObject({ nodeId: 'L2', httpPort: 3002, grpcPort: 9092, kafkaBrokers: ['a:1', 'b:2'], kafkaPartitions: 12, topicPrefix: 'staging', logLevel: 'warn' });
    expect(config.membership).toEqual({ heartbeatMs: 200, downAfterMs: 1500, probeTimeoutMs: 1000 });
  });

  it('limits failed logins and trusts the loopback balancer by default; both can be set', () => {
    const defaults = loadConfig({});
    expect(defaults.auth.logins).toEqual({ maxFailuresPerUser: 10, maxFailuresPerAddress: 30, windowMs: 60_000 });
    expect(defaults.trustProxy).toBe('loopback');
    const set = loadConfig({ QUARRY_LOGIN_MAX_FAILURES_PER_USER: '3', QUARRY_LOGIN_MAX_FAILURES_PER_ADDRESS: '8', QUARRY_LOGIN_WINDOW_MS: '5000', QUARRY_TRUST_PROXY: 'none' });
    expect(set.auth.logins).toEqual({ maxFailuresPerUser: 3, maxFailuresPerAddress: 8, windowMs: 5000 });
    expect(set.trustProxy).toBe(false);
    expect(loadConfig({ QUARRY_TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ QUARRY_TRUST_PROXY: '10.0.0.0/8, loopback' }).trustProxy).toBe('10.0.0.0/8, loopback');
    expect(() => loadConfig({ QUARRY_LOGIN_WINDOW_MS: '10' })).toThrow('QUARRY_LOGIN_WINDOW_MS=10 is not a whole number from 1000');
  });

  it('names the key and the allowed range of a bad value', () => {
    expect(() => loadConfig({ QUARRY_HTTP_PORT: 'eighty' })).toThrow('QUARRY_HTTP_PORT=eighty is not a whole number from 0 to 65535');
    expect(() => loadConfig({ QUARRY_KAFKA_PARTITIONS: '0' })).toThrow('QUARRY_KAFKA_PARTITIONS=0');
    expect(() => loadConfig({ QUARRY_LOG_LEVEL: 'loud' })).toThrow('QUARRY_LOG_LEVEL=loud is not one of');
    expect(() => loadConfig({ QUARRY_TOPIC_PREFIX: 'a.b' })).toThrow('QUARRY_TOPIC_PREFIX');
  });

  it('takes an advertised URL of scheme, host and port only, and no cluster secret unless one is given', () => {
    expect(loadConfig({ QUARRY_ADVERTISED_URL: 'http://l1:3000/' }).advertisedUrl).toBe('http://l1:3000');
    expect(loadConfig({}).clusterSecret).toBeUndefined();
    for (const bad of ['l1:3000', 'https://l1:3000', 'http://user:pw@l1:3000', 'http://l1:3000/quarry', 'http://l1:3000/?x=1', 'http://l1:3000/#top', 'nonsense']) {
      expect(() => loadConfig({ QUARRY_ADVERTISED_URL: bad })).toThrow(`QUARRY_ADVERTISED_URL=${bad}`);
    }
  });

  it('takes a cluster secret of at least 16 visible characters', () => {
    expect(loadConfig({ QUARRY_CLUSTER_SECRET: 'k7P-2x_9Qa+Zr/5mW0=' }).clusterSecret).toBe('k7P-2x_9Qa+Zr/5mW0=');
    for (const bad of ['short', 'sixteen chars ok?', 'line\nbreak-in-the-secret']) {
      expect(() => loadConfig({ QUARRY_CLUSTER_SECRET: bad })).toThrow('QUARRY_CLUSTER_SECRET must be at least 16 visible ASCII characters');
    }
  });

  it('limits a value to 64 MiB and a row to 128 MiB unless told; refuses a value limit over the row limit or past 256 MiB', () => {
    expect(loadConfig({}).results).toMatchObject({ maxValueBytes: 64 * 1024 * 1024, maxRowBytes: 128 * 1024 * 1024 });
    expect(loadConfig({ QUARRY_RESULT_MAX_VALUE_BYTES: '1048576', QUARRY_RESULT_MAX_ROW_BYTES: '2097152' }).results).toMatchObject({ maxValueBytes: 1048576, maxRowBytes: 2097152 });
    expect(() => loadConfig({ QUARRY_RESULT_MAX_ROW_BYTES: '1048576' })).toThrow('QUARRY_RESULT_MAX_VALUE_BYTES=67108864 must not be more than QUARRY_RESULT_MAX_ROW_BYTES (1048576)');
    expect(() => loadConfig({ QUARRY_RESULT_MAX_ROW_BYTES: String(512 * 1024 * 1024) })).toThrow('QUARRY_RESULT_MAX_ROW_BYTES');
  });

  it('bounds one FETCH to 256 MiB of rows, or twice the row limit when that is more; refuses less than twice the row limit', () => {
    const MiB = 1024 * 1024;
    expect(loadConfig({}).results.maxBatchBytes).toBe(256 * MiB);
    expect(loadConfig({ QUARRY_RESULT_MAX_ROW_BYTES: String(200 * MiB) }).results.maxBatchBytes).toBe(400 * MiB);
    expect(loadConfig({ QUARRY_RESULT_MAX_VALUE_BYTES: String(MiB), QUARRY_RESULT_MAX_ROW_BYTES: String(MiB), QUARRY_RESULT_MAX_BATCH_BYTES: String(4 * MiB) }).results).toMatchObject({ maxBatchBytes: 4 * MiB });
    expect(() => loadConfig({ QUARRY_RESULT_MAX_BATCH_BYTES: String(200 * MiB) })).toThrow(
      'QUARRY_RESULT_MAX_BATCH_BYTES=209715200 must be at least twice QUARRY_RESULT_MAX_ROW_BYTES (134217728)',
    );
  });

  it('refuses a heartbeat under 100 ms and a down-after of two heartbeats or less', () => {
    expect(() => loadConfig({ QUARRY_HEARTBEAT_MS: '99' })).toThrow('QUARRY_HEARTBEAT_MS=99 is not a whole number from 100');
    expect(() => loadConfig({ QUARRY_HEARTBEAT_MS: '500', QUARRY_NODE_DOWN_AFTER_MS: '1000' })).toThrow(
      'QUARRY_NODE_DOWN_AFTER_MS=1000 must be more than twice QUARRY_HEARTBEAT_MS (500)',
    );
    expect(() => loadConfig({ QUARRY_HEARTBEAT_MS: '1500' })).toThrow('QUARRY_NODE_DOWN_AFTER_MS=3000 must be more than twice');
    expect(loadConfig({ QUARRY_HEARTBEAT_MS: '500', QUARRY_NODE_DOWN_AFTER_MS: '1001' }).membership.downAfterMs).toBe(1001);
  });

  it('parses targets: all, a list, and refuses unknown names', () => {
    expect(parseTargets(undefined)).toEqual([...SERVICE_NAMES]);
    expect(parseTargets('all')).toEqual([...SERVICE_NAMES]);
    expect(parseTargets('session, query,session')).toEqual(['session', 'query']);
    expect(() => parseTargets('session,billing')).toThrow('unknown target(s) billing');
    expect(() => parseTargets(',')).toThrow('unknown target(s) (none)');
  });
});
