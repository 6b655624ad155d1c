// Starts and stops a single-node KRaft Kafka broker from the jars fetched by jars.mjs.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { cacheDir } from '../paths.mjs';
import { readPidFile, removePidFile, tailFile } from '../lib/files.mjs';
import { tcpAnswers } from '../lib/net.mjs';
import { isProcessAlive, processCommandLine, terminateProcess } from '../lib/processes.mjs';
import { waitFor } from '../lib/wait.mjs';
import { describeCluster } from './admin.mjs';
import { brokerProperties, log4j2Properties } from './config.mjs';
import { ensureKafkaJars, kafkaClasspath } from './jars.mjs';
import { ensureFormattedStorage, javaBinary, javaMissingHint } from './storage.mjs';

const startDeadlineMs = 90_000;
const stopGraceMs = 30_000;
const brokerMainClass = 'kafka.Kafka';

/** Data dir used by the CLIs (`kafka.mjs start`, `stack.mjs up`). */
export const defaultKafkaDataDir = join(cacheDir, 'kafka', 'data');

/**
 * Files kept next to a data dir. Everything except the data dir itself lives in its parent so
 * wiping the data dir keeps the configuration, logs and cluster id. The pid and cluster-id files
 * are not named per broker, so give each broker its own parent directory.
 */
export function brokerFiles(dataDir, name = 'kafka') {
  const parent = dirname(resolve(dataDir));
  return {
    dataDir: resolve(dataDir),
    propertiesFile: join(parent, `${name}.server.properties`),
    log4jFile: join(parent, `${name}.log4j2.properties`),
    brokerLog: join(parent, `${name}.log`),
    consoleLog: join(parent, `${name}.console.log`),
    clusterIdFile: join(parent, 'cluster-id'),
    pidFile: join(parent, 'broker.pid'),
  };
}

/**
 * Starts a broker and resolves once it answers describeCluster.
 * `detached: true` lets the calling process exit while the broker keeps running (stop it with
 * stopKafkaByPidFile); otherwise the broker gets SIGTERM when this process exits (it never keeps
 * the process alive by itself, and shares its process group, so Ctrl-C reaches it too).
 */
export async function startKafka({
  port = 9092,
  controllerPort = 9093,
  dataDir = defaultKafkaDataDir,
  name = 'kafka',
  partitions = 6,
  detached = false,
  logFile,
  log = () => {},
} = {}) {
  const files = brokerFiles(dataDir, name);
  const consoleLog = logFile ? resolve(logFile) : files.consoleLog;
  const brokers = `127.0.0.1:${port}`;

  await assertNotRunning(files, [port, controllerPort]);
  const libsDir = await ensureKafkaJars({ log });

  mkdirSync(files.dataDir, { recursive: true });
  writeFileSync(files.propertiesFile, brokerProperties({ port, controllerPort, dataDir: files.dataDir, partitions }));
  writeFileSync(files.log4jFile, log4j2Properties({ logFile: files.brokerLog }));
  await ensureFormattedStorage({ libsDir, ...files });

  log(`Starting Kafka on ${brokers} (data: ${files.dataDir}, log: ${files.brokerLog})`);
  const child = spawnBroker({ libsDir, files, consoleLog, detached });
  if (child.pid === undefined) {
    const [error] = await once(child, 'error');
    const reason = error.code === 'ENOENT' ? `'${javaBinary()}' was not found. ${javaMissingHint}` : error.message;
    throw new Error(`Cannot start Kafka: ${reason}`);
  }
  writeFileSync(files.pidFile, `${child.pid}\n`);
  const handle = brokerHandle({ child, brokers, files, detached });

  try {
    await waitUntilReady({ child, brokers, files, consoleLog });
  } catch (error) {
    await handle.stop();
    throw error;
  }
  return handle;
}

/** Stops the broker whose pid file sits next to `dataDir`. Returns false when none was running. */
export async function stopKafkaByPidFile(dataDir = defaultKafkaDataDir, name = 'kafka') {
  const { pidFile } = brokerFiles(dataDir, name);
  const pid = runningBrokerPid(pidFile);
  if (pid === undefined) {
    removePidFile(pidFile, readPidFile(pidFile));
    return false;
  }
  await terminateProcess(pid, { graceMs: stopGraceMs, description: `Kafka broker (pid ${pid})` });
  removePidFile(pidFile, pid);
  return true;
}

/** Pid from the pid file if that process is alive and really is a Kafka broker (pids get reused). */
export function runningBrokerPid(pidFile) {
  const pid = readPidFile(pidFile);
  if (pid === undefined || !isProcessAlive(pid)) return undefined;
  const commandLine = processCommandLine(pid);
  if (commandLine !== undefined && !commandLine.includes(brokerMainClass)) return undefined;
  return pid;
}

async function assertNotRunning(files, ports) {
  const pid = runningBrokerPid(files.pidFile);
  if (pid !== undefined) {
    throw new Error(
      `A Kafka broker recorded in ${files.pidFile} is already running (pid ${pid}); stop it first ` +
        '(each broker needs its own parent directory for its data dir).',
    );
  }
  for (const port of ports) {
    if (await tcpAnswers('127.0.0.1', port)) {
      throw new Error(`Cannot start Kafka: port ${port} on 127.0.0.1 is already in use.`);
    }
  }
}

function spawnBroker({ libsDir, files, consoleLog, detached }) {
  mkdirSync(dirname(consoleLog), { recursive: true });
  // The broker logs through log4j2 to its own file; the console file only catches JVM-level failures.
  const consoleFd = openSync(consoleLog, 'a');
  try {
    const child = spawn(
      javaBinary(),
      [
        '-Xmx512m',
        '-XX:+UseG1GC',
        // The client compiler only: C2 kept compiling for minutes after a start, and a local broker's
        // load never pays it back (side by side, same idle minute: 1.47% -> 1.20% of a core; start
        // 7.0 -> 2.9 s of CPU; 500 kafkajs round trips p50 5.3 -> 3.9 ms, broker CPU 5.2 -> 2.8 s).
        '-XX:TieredStopAtLevel=1',
        '-XX:MaxGCPauseMillis=20',
        // No hsperfdata: the JVM's sampler thread wakes every 50 ms to update it, a fifth of an idle
        // broker's CPU (measured 2.35% -> 2.00% of a core with no client); nothing here reads it (jstat, jps).
        '-XX:-UsePerfData',
        '-XX:+ExitOnOutOfMemoryError',
        '-Djava.awt.headless=true',
        `-Dlog4j2.configurationFile=${files.log4jFile}`,
        '-cp',
        kafkaClasspath(libsDir),
        brokerMainClass,
        files.propertiesFile,
      ],
      { detached, stdio: ['ignore', consoleFd, consoleFd] },
    );
    // Never keep the event loop alive for the broker: a detached one outlives us on purpose, an
    // attached one is stopped by the exit hook in brokerHandle when this process exits.
    child.unref();
    return child;
  } finally {
    closeSync(consoleFd);
  }
}

function brokerHandle({ child, brokers, files, detached }) {
  // A broker tied to this process must not outlive it (e.g. a test runner that crashes).
  const stopOnExit = () => child.kill('SIGTERM');
  if (!detached) process.once('exit', stopOnExit);

  let stopping;
  const stop = () => {
    stopping ??= (async () => {
      process.removeListener('exit', stopOnExit);
      if (child.pid !== undefined) {
        await terminateProcess(child.pid, { graceMs: stopGraceMs, description: `Kafka broker (pid ${child.pid})` });
        removePidFile(files.pidFile, child.pid);
      }
    })();
    return stopping;
  };
  return { brokers, pid: child.pid, dataDir: files.dataDir, stop };
}

async function waitUntilReady({ child, brokers, files, consoleLog }) {
  // The broker dying mid-start aborts the wait at once instead of running into the deadline.
  const brokerDied = new AbortController();
  const onExit = (code, signal) =>
    brokerDied.abort(
      new Error(
        `Kafka broker exited during startup (${signal ?? `exit code ${code}`}).\n` +
          `--- ${files.brokerLog} ---\n${tailFile(files.brokerLog, 30)}\n` +
          `--- ${consoleLog} ---\n${tailFile(consoleLog, 20)}`,
      ),
    );
  child.once('exit', onExit);
  try {
    await waitFor(async () => (await describeCluster(brokers, 2000)).brokers.length > 0, {
      timeoutMs: startDeadlineMs,
      intervalMs: 300,
      signal: brokerDied.signal,
      description: `Kafka on ${brokers} to answer (log: ${files.brokerLog})`,
    });
  } finally {
    child.removeListener('exit', onExit);
  }
}
