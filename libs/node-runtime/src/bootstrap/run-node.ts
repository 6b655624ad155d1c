import 'reflect-metadata';
import type { Server } from 'node:http';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { grpcServerOptions } from '@quarry/gateway';
import { createKafka, createPool, ensureTopics, runMigrations } from '@quarry/eventstore';
import { createLogger, DbPurposes, loadConfig, newIncarnation, PinoNestLogger, SERVER_KEEP_ALIVE_MS, StatementCounts, type ServiceName } from '@quarry/platform';
import type { NodeContext } from '../core/node-context';
import { ALL_MIGRATIONS, projectionsFor } from '../services/service-catalog';
import { configureHttpServer, putFastRoutesFirst, routesOf } from './http-server';
import { serveOpenApi } from './openapi-document';
import { NodeModule } from './node.module';
import { retryUntil } from './retry-until';

const DEPENDENCY_DEADLINE_MS = 120_000;

export interface RunningNode {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts a node running the given services: schema first (migrations under a lock), then the
 * topics, then the HTTP server. `stop()` closes it cleanly (NodeLeft, consumers, relay, pool).
 */
export async function runNode(targets: ServiceName[]): Promise<RunningNode> {
  const config = loadConfig();
  const identity = newIncarnation(config.nodeId);
  const logger = createLogger(identity, config.logLevel);
  logger.info({ targets, http: `${config.httpHost}:${config.httpPort}` }, 'node starting');
  if (config.auth.mode === 'none' && targets.includes('gateway')) {
    logger.warn('QUARRY_AUTH=none: sessions open for any user name without a password; for local use only (set QUARRY_AUTH=file)');
  }

  const applied = await retryUntil('database migration', () => runMigrations(config.databaseUrl, ALL_MIGRATIONS), DEPENDENCY_DEADLINE_MS, logger);
  if (applied.length > 0) logger.info({ migrations: applied }, 'schema migrated');

  const kafka = createKafka(
    { brokers: config.kafkaBrokers, clientId: config.kafkaClientId, topicPrefix: config.topicPrefix, partitions: config.kafkaPartitions },
    logger,
  );
  await retryUntil(
    'kafka topic set-up',
    async () => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        await ensureTopics(admin, config.topicPrefix, config.kafkaPartitions);
      } finally {
        await admin.disconnect();
      }
    },
    DEPENDENCY_DEADLINE_MS,
    logger,
  );

  const statements = new StatementCounts(new DbPurposes(config.dbCountByPurpose));
  const pool = createPool(config.databaseUrl, config.dbPoolSize, logger, identity.incarnation, statements);
  const ctx: NodeContext = { config, identity, logger, pool, statements, kafka, targets, projections: projectionsFor(targets) };
  // forceCloseConnections: a stopping node ends its kept-open connections instead of waiting for
  // clients that keep them busy (it has left the cluster by then; the balancer retries elsewhere).
  const app = await NestFactory.create<NestExpressApplication>(NodeModule.forNode(ctx), {
    logger: new PinoNestLogger(logger),
    bufferLogs: true,
    forceCloseConnections: true,
    bodyParser: false,
  });
  // Set, not left to Node's default: peers and the balancer close idle connections before it ends them.
  (app.getHttpServer() as Server).keepAliveTimeout = SERVER_KEEP_ALIVE_MS;
  configureHttpServer(app, config);
  serveOpenApi(app);
  // The gateway's gRPC API on its own port, in the same Nest application (the same use cases).
  if (targets.includes('gateway')) app.connectMicroservice(grpcServerOptions(config));
  await app.init();
  putFastRoutesFirst(app);
  logger.info({ routes: routesOf(app) }, 'http routes');
  if (targets.includes('gateway')) {
    await app.startAllMicroservices();
    logger.info({ grpc: `${config.httpHost}:${config.grpcPort}` }, 'grpc api listening (quarry.v1, with reflection)');
  }
  await app.listen(config.httpPort, config.httpHost);
  const url = await app.getUrl();
  logger.info({ url }, 'node ready');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info('node stopping');
      await app.close();
      await pool.end().catch(() => undefined);
      logger.info('node stopped');
    })());
  return { url, stop };
}
