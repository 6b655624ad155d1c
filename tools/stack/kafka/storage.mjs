// KRaft storage formatting: a data dir must be formatted with a cluster id before the first start.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseProperties } from '../lib/files.mjs';
import { runCommand } from '../lib/processes.mjs';
import { kafkaClasspath } from './jars.mjs';

/** The java binary: $JAVA_HOME/bin/java when set, else whatever is on PATH. */
export function javaBinary() {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

const javaMissingHint = 'Install a JDK 17+ (e.g. `apt-get install openjdk-17-jre-headless`) or set JAVA_HOME.';

/**
 * Formats `dataDir` unless it already is. The cluster id is kept in `clusterIdFile` so a wiped
 * data dir is re-formatted with the same id as before.
 */
export async function ensureFormattedStorage({ libsDir, dataDir, propertiesFile, log4jFile, clusterIdFile }) {
  // meta.properties is what the format step writes; its presence means there is nothing to do.
  const metaPath = join(dataDir, 'meta.properties');
  if (existsSync(metaPath)) return parseProperties(readFileSync(metaPath, 'utf8'))['cluster.id'];

  const clusterId = await readOrCreateClusterId({ libsDir, log4jFile, clusterIdFile });
  await runStorageTool(
    { libsDir, log4jFile },
    ['format', '-t', clusterId, '-c', propertiesFile, '--ignore-formatted'],
    `Formatting Kafka storage in ${dataDir}`,
  );
  return clusterId;
}

async function readOrCreateClusterId({ libsDir, log4jFile, clusterIdFile }) {
  if (existsSync(clusterIdFile)) {
    const stored = readFileSync(clusterIdFile, 'utf8').trim();
    if (stored) return stored;
  }
  const { stdout } = await runStorageTool({ libsDir, log4jFile }, ['random-uuid'], 'Generating a Kafka cluster id');
  const clusterId = stdout.trim().split('\n').pop().trim();
  if (!/^[A-Za-z0-9_-]{22}$/.test(clusterId)) {
    throw new Error(`kafka.tools.StorageTool random-uuid printed an unexpected cluster id: ${JSON.stringify(stdout)}`);
  }
  writeFileSync(clusterIdFile, `${clusterId}\n`);
  return clusterId;
}

function runStorageTool({ libsDir, log4jFile }, args, description) {
  return runCommand(
    javaBinary(),
    ['-Xmx256m', `-Dlog4j2.configurationFile=${log4jFile}`, '-cp', kafkaClasspath(libsDir), 'kafka.tools.StorageTool', ...args],
    { description, missingHint: javaMissingHint },
  );
}

export { javaMissingHint };
