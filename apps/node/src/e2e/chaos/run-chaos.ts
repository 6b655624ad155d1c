import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { runChaos } from './harness';

/**
 * `npm run chaos -- --seconds=N [--seed=S] [--clients=C] [--settle-seconds=T]`, compiled and started
 * by tools/chaos/run-chaos.mjs. Exits 0 only when lost, duplicated, invalid, wrong, ghost_writes and
 * unplanned_exits are all 0. Ctrl-C cleans up (nodes, broker, databases) and exits 130 with no verdict.
 */
async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '120' },
      seed: { type: 'string', default: process.env['QUARRY_CHAOS_SEED'] },
      clients: { type: 'string', default: '4' },
      'settle-seconds': { type: 'string', default: '60' },
    },
  });
  const number = (name: string, raw: string | undefined, min: number) => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be a whole number of at least ${min} (got ${raw})`);
    return value;
  };
  const seconds = number('seconds', values.seconds, 1);
  const seed = values.seed === undefined ? randomInt(1, 1_000_000) : number('seed', values.seed, 0);
  const clients = number('clients', values.clients, 1);
  const settleSeconds = number('settle-seconds', values['settle-seconds'], 1);

  const stop = new AbortController();
  process.on('SIGINT', () => {
    if (stop.signal.aborted) process.exit(130);
    process.stderr.write('[chaos] SIGINT: cleaning up, no verdict (Ctrl-C again to quit at once, leaving things behind)\n');
    stop.abort();
  });
  const result = await runChaos({ seconds, seed, clients, settleSeconds, stop: stop.signal }).catch((error: Error) => {
    if (stop.signal.aborted) process.exit(130);
    throw error;
  });
  process.stderr.write(result.failures.length ? `[chaos] FAILED (seed ${seed}): ${result.failures.join(', ')}\n` : `[chaos] passed (seed ${seed})\n`);
  return result.failures.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`[chaos] error: ${error.stack ?? error.message}\n`);
    process.exit(2);
  },
);
