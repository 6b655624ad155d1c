// Brings up what a Quarry node needs locally: a Kafka broker and a PostgreSQL database.
//
//   node tools/stack/stack.mjs up     reuse or start Kafka + PostgreSQL; print KAFKA_BROKERS and DATABASE_URL
//   node tools/stack/stack.mjs down   stop what `up` started (a reused broker or server is left alone)
//
// The broker is started detached so it outlives `up`; `down` finds it through its pid file.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from './paths.mjs';
import { writeFileAtomic } from './lib/files.mjs';
import { isMainModule, logToStderr, runCli } from './lib/cli.mjs';
import { defaultKafkaDataDir, ensureKafkaJars, kafkaAnswers, startKafka, stopKafkaByPidFile } from './kafka.mjs';
import { brokerFiles, runningBrokerPid } from './kafka/broker.mjs';
import { ensurePostgres, stopLocalCluster } from './postgres.mjs';

/** Where `up` records what it found or started. */
export const stackStateFile = join(cacheDir, 'stack.json');

const defaultBrokers = '127.0.0.1:9092';

/**
 * Ensures Kafka and PostgreSQL are available and records them in <cacheDir>/stack.json.
 * `down()` stops only what this call started.
 */
export async function stackUp({ log = () => {} } = {}) {
  const kafka = await ensureKafka(log);
  let postgres;
  try {
    postgres = await ensurePostgres({ log });
  } catch (error) {
    await kafka.stop?.();
    throw error;
  }

  const state = {
    brokers: kafka.brokers,
    databaseUrl: postgres.databaseUrl,
    adminUrl: postgres.adminUrl,
    startedKafka: kafka.started,
    kafkaPid: kafka.pid,
    startedPostgres: postgres.started,
    updatedAt: new Date().toISOString(),
  };
  mkdirSync(cacheDir, { recursive: true });
  writeFileAtomic(stackStateFile, `${JSON.stringify(state, null, 2)}\n`);

  const down = async () => {
    await kafka.stop?.();
    await postgres.stop?.();
    rmSync(stackStateFile, { force: true });
  };
  const { brokers, databaseUrl, adminUrl, startedKafka } = state;
  return { brokers, databaseUrl, adminUrl, startedKafka, down };
}

async function ensureKafka(log) {
  const configured = process.env.KAFKA_BROKERS;
  if (configured) {
    if (!(await kafkaAnswers(configured, 5000))) throw new Error(`KAFKA_BROKERS (${configured}) does not answer.`);
    return { brokers: configured, started: false };
  }
  if (await kafkaAnswers(defaultBrokers)) {
    const ownPid = runningBrokerPid(brokerFiles(defaultKafkaDataDir).pidFile);
    const owner = ownPid === undefined ? 'not started by this tool' : `started earlier by this tool, pid ${ownPid}`;
    log(`Reusing the Kafka broker already answering on ${defaultBrokers} (${owner}).`);
    return { brokers: defaultBrokers, started: false };
  }
  await ensureKafkaJars({ log });
  const broker = await startKafka({ dataDir: defaultKafkaDataDir, detached: true, log });
  return { brokers: broker.brokers, started: true, pid: broker.pid, stop: broker.stop };
}

/** Stops whatever this tool started (found through pid files), whichever process started it. */
export async function stackDown() {
  const stoppedKafka = await stopKafkaByPidFile(defaultKafkaDataDir);
  const stoppedPostgres = await stopLocalCluster();
  rmSync(stackStateFile, { force: true });
  return { stoppedKafka, stoppedPostgres };
}

async function main() {
  const command = process.argv[2];
  if (command === 'up') {
    const startedAt = Date.now();
    const stack = await stackUp({ log: logToStderr });
    logToStderr(`Stack ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s (recorded in ${stackStateFile}).`);
    console.log(`KAFKA_BROKERS=${stack.brokers}`);
    console.log(`DATABASE_URL=${stack.databaseUrl}`);
    return 0;
  }
  if (command === 'down') {
    const { stoppedKafka, stoppedPostgres } = await stackDown();
    console.log(stoppedKafka ? 'Kafka stopped.' : 'No Kafka broker started by this tool is running.');
    if (stoppedPostgres) console.log('Private PostgreSQL cluster stopped.');
    return 0;
  }
  console.error('usage: node tools/stack/stack.mjs up|down');
  return 2;
}

if (isMainModule(import.meta.url)) runCli(main);
