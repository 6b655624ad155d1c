import { RoundTripGatherer } from './round-trip-gatherer';

describe('RoundTripGatherer', () => {
  it('sends the first ask at once, gathers those asked meanwhile, and sends what a round trip left before newer asks', async () => {
    const sent: number[][] = [];
    let finishFirst!: () => void;
    const first = new Promise<void>((resolve) => (finishFirst = resolve));
    let allSent!: () => void;
    const done = new Promise<void>((resolve) => (allSent = resolve));
    const gatherer: RoundTripGatherer<number> = new RoundTripGatherer<number>(async (waiting) => {
      sent.push(waiting);
      if (sent.length === 1) await first;
      if (sent.length === 2) {
        // Asked while this round trip is out; the odd ones are left for later.
        gatherer.add(9);
        return waiting.filter((n) => n % 2 === 1);
      }
      if (sent.length === 3) allSent();
      return [];
    });
    gatherer.add(1);
    gatherer.add(2);
    gatherer.add(3);
    expect(sent).toEqual([[1]]);
    finishFirst();
    await done;
    expect(sent).toEqual([[1], [2, 3], [3, 9]]);
  });
});
