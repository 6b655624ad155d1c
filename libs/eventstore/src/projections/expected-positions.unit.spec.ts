import { expectedPositions } from './batch-statements';

describe('expectedPositions', () => {
  const event = (streamId: string, streamVersion: number) => ({ streamId, streamVersion });

  it('expects each stream just below its first delivered event, ids sorted', () => {
    expect(expectedPositions([event('s-b', 4), event('s-a', 1), event('s-b', 5), event('s-a', 2), event('s-a', 3)])).toEqual({
      streamIds: ['s-a', 's-b'],
      versions: [0, 3],
    });
  });

  it('expects nothing of a batch whose events of one stream do not follow one another', () => {
    expect(expectedPositions([event('s-a', 1), event('s-a', 1)])).toBeUndefined();
    expect(expectedPositions([event('s-a', 1), event('s-a', 3)])).toBeUndefined();
    expect(expectedPositions([event('s-a', 2), event('s-a', 1)])).toBeUndefined();
  });
});
