// Resolves the Kafka broker jars from Maven Central once and reuses them from the cache.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mkdtemp } from 'node:fs/promises';
import { cacheDir, repoRoot } from '../paths.mjs';
import { runCommand } from '../lib/processes.mjs';

const pomPath = join(repoRoot, 'tools', 'stack', 'kafka', 'pom.xml');

/** The Kafka version pinned by the <kafka.version> property of tools/stack/kafka/pom.xml. */
export function kafkaVersion() {
  const match = /<kafka\.version>\s*([^<\s]+)\s*<\/kafka\.version>/.exec(readFileSync(pomPath, 'utf8'));
  if (!match) throw new Error(`${pomPath} has no <kafka.version> property`);
  return match[1];
}

/** Directory of one Kafka version's cached files: `<cacheDir>/kafka/<version>`. */
export function kafkaVersionDir(version = kafkaVersion()) {
  return join(cacheDir, 'kafka', version);
}

/** Java classpath covering every jar of a libs dir (java expands the trailing `*` itself). */
export function kafkaClasspath(libsDir) {
  return join(libsDir, '*');
}

/**
 * Returns the directory holding the broker's runtime jars, downloading them with Maven on first use.
 * Maven writes into a temp dir that is renamed into place, and a marker written last means
 * "complete", so an interrupted fetch is never mistaken for a usable one.
 */
export async function ensureKafkaJars({ log = () => {} } = {}) {
  const version = kafkaVersion();
  const versionDir = kafkaVersionDir(version);
  const libsDir = join(versionDir, 'libs');
  const markerPath = join(versionDir, 'libs.complete');
  if (existsSync(markerPath)) return libsDir;

  mkdirSync(versionDir, { recursive: true });
  const tmpDir = await mkdtemp(join(versionDir, 'libs-tmp-'));
  try {
    log(`Fetching Kafka ${version} jars with Maven (first run only)...`);
    await runCommand(
      'mvn',
      ['-q', '-B', '-f', pomPath, 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${tmpDir}`],
      {
        cwd: repoRoot,
        description: `Fetching Kafka ${version} jars with Maven`,
        missingHint: 'Install Maven (e.g. `apt-get install maven`) and a JDK 17+, then retry.',
      },
    );
    const jars = readdirSync(tmpDir).filter((name) => name.endsWith('.jar'));
    if (!jars.some((name) => name.startsWith(`kafka_2.13-${version}`))) {
      throw new Error(`Maven finished but ${tmpDir} has no kafka_2.13-${version}.jar (got ${jars.length} jars)`);
    }
    if (existsSync(markerPath)) return libsDir; // another process finished first; keep its copy
    rmSync(libsDir, { recursive: true, force: true }); // leftovers of an interrupted run
    renameSync(tmpDir, libsDir);
    writeFileSync(markerPath, `${JSON.stringify({ version, jars: jars.length, fetchedAt: new Date().toISOString() })}\n`);
    return libsDir;
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
}
