// Which balancer runs in front of the nodes, and the command that runs it in the foreground.
//
//   QUARRY_BALANCER=auto      HAProxy when its binary is found (PATH, /usr/sbin, /usr/local/sbin), else the Node balancer
//   QUARRY_BALANCER=node      tools/stack/balancer.mjs
//   QUARRY_BALANCER=haproxy   HAProxy (Debian's `haproxy` package); an error when it is not installed
//
// npm start imports it; the test kit and the bench, written in TypeScript, run it as a CLI that
// prints the command as JSON and then start that command themselves, so that the balancer is their
// own child process (its pid is the one to stop and to measure):
//
//   node tools/stack/balancer-command.mjs --port 0 --backends http://127.0.0.1:3001,... [balancer.mjs flags]
//   → {"kind":"haproxy","command":"/usr/sbin/haproxy","args":["-db","-f",".cache/balancer/haproxy-41234-….cfg"],"configFile":"…","url":"http://127.0.0.1:41234"}
//   node tools/stack/balancer-command.mjs --which   → {"kind":"haproxy","haproxy":"/usr/sbin/haproxy"}
//
// HAProxy's configuration is written to .cache/balancer/ (QUARRY_CACHE_DIR), a file per start;
// whoever starts the command removes `configFile` when the process has exited.
import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { parseArgs } from 'node:util';
import { balancingFlags, balancingOptions, defaults } from './balancer.mjs';
import { haproxyConfig } from './haproxy-config.mjs';
import { isMainModule, parsePort, runCli } from './lib/cli.mjs';
import { freePort } from './lib/net.mjs';
import { cacheDir, repoRoot } from './paths.mjs';

export const balancerKinds = ['node', 'haproxy'];

// Debian installs haproxy in /usr/sbin, which is not on a non-root user's PATH.
const sbinDirs = ['/usr/local/sbin', '/usr/sbin'];

/** The haproxy binary: on PATH, else in an sbin folder; undefined when it is not installed. */
export function findHaproxy(env = process.env) {
  const dirs = [...(env.PATH ?? '').split(delimiter).filter(Boolean), ...sbinDirs];
  for (const dir of dirs) {
    const candidate = join(dir, 'haproxy');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** { kind: 'node' | 'haproxy', haproxy?: binary path } from QUARRY_BALANCER (default auto). */
export function chooseBalancer(env = process.env) {
  const asked = (env.QUARRY_BALANCER ?? '').trim().toLowerCase() || 'auto';
  if (asked !== 'auto' && !balancerKinds.includes(asked)) throw new Error(`QUARRY_BALANCER must be auto, node or haproxy, got ${JSON.stringify(env.QUARRY_BALANCER)}`);
  if (asked === 'node') return { kind: 'node' };
  const haproxy = findHaproxy(env);
  if (haproxy) return { kind: 'haproxy', haproxy };
  if (asked === 'haproxy') throw new Error(`QUARRY_BALANCER=haproxy, but no haproxy binary was found on PATH or in ${sbinDirs.join(', ')} (Debian: apt-get install haproxy)`);
  return { kind: 'node' };
}

/**
 * The command that runs the chosen balancer in the foreground on host:port (port 0: a free one,
 * picked here) in front of `backends`: { kind, command, args, url, configFile? }. `options` are
 * the Node balancer's flags (healthIntervalMs, ...), for both kinds.
 */
export async function balancerCommand({ choice = chooseBalancer(), host = '127.0.0.1', port = 0, backends, options = {} }) {
  const listenPort = port === 0 ? await freePort(host) : port;
  const url = `http://${host}:${listenPort}`;
  if (choice.kind === 'haproxy') {
    const configFile = join(cacheDir, 'balancer', `haproxy-${listenPort}-${randomBytes(4).toString('hex')}.cfg`);
    mkdirSync(join(cacheDir, 'balancer'), { recursive: true });
    writeFileSync(configFile, haproxyConfig({ host, port: listenPort, backends, ...options }));
    // -db: in the foreground, as a child of whoever runs it, which stops it with SIGTERM.
    return { kind: 'haproxy', command: choice.haproxy, args: ['-db', '-f', configFile], configFile, url };
  }
  const flags = Object.entries({ ...defaults, ...options }).flatMap(([name, value]) => [`--${kebab(name)}`, String(value)]);
  const args = [join(repoRoot, 'tools/stack/balancer.mjs'), '--host', host, '--port', String(listenPort), '--backends', backends.join(','), ...flags];
  return { kind: 'node', command: process.execPath, args, url };
}

function kebab(name) {
  return name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      backends: { type: 'string' },
      which: { type: 'boolean', default: false },
      ...balancingFlags,
    },
  });
  if (values.which) {
    console.log(JSON.stringify(chooseBalancer()));
    return 0;
  }
  if (!values.backends) {
    console.error('usage: node tools/stack/balancer-command.mjs --port 0 --backends http://127.0.0.1:3001,http://127.0.0.1:3002 [balancer.mjs flags]');
    console.error('       node tools/stack/balancer-command.mjs --which');
    return 2;
  }
  const command = await balancerCommand({
    host: values.host,
    port: parsePort(values.port, '--port'),
    backends: values.backends.split(',').map((entry) => entry.trim()).filter(Boolean),
    options: balancingOptions(values),
  });
  console.log(JSON.stringify(command));
  return 0;
}

if (isMainModule(import.meta.url)) runCli(main);
