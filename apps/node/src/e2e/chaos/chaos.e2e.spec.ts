import { runChaos } from './harness';
import { FAULT_KINDS } from './verdict';

/** The seed of `npm test`'s run; QUARRY_CHAOS_SEED picks another (the run prints its seed). */
const SEED = Number(process.env['QUARRY_CHAOS_SEED'] ?? 9);
/** Faults are dealt for this long, and the round under way is finished: about 90 s of faults. Long runs: npm run chaos. */
const SECONDS = 60;

describe(`chaos (seed ${SEED}): three nodes, four clients with known answers, one fault at a time`, () => {
  it(
    'loses, duplicates, corrupts and answers wrong nothing; every history is a path; no ghost writes, no unplanned exits',
    async () => {
      const result = await runChaos({ seconds: SECONDS, seed: SEED, clients: 4, settleSeconds: 20 });

      expect(FAULT_KINDS.filter((kind) => !result.faults.some((f) => f.kind === kind))).toEqual([]);
      expect(result.verdict.submitted).toBeGreaterThan(0);
      expect(result.verdict.succeeded).toBeGreaterThan(0);
      expect(result.failures).toEqual([]);
    },
    (SECONDS + 240) * 1000,
  );
});
