import { ClusterSecret } from './cluster-secret';

describe('the cluster secret', () => {
  const secret = new ClusterSecret('k7P-2x_9Qa+Zr/5mW0=abcdef');

  it('matches only the same text, whatever the length of a guess', () => {
    expect(secret.matches('k7P-2x_9Qa+Zr/5mW0=abcdef')).toBe(true);
    for (const guess of ['', 'k7P-2x_9Qa+Zr/5mW0=abcdeg', 'k7P-2x_9Qa+Zr/5mW0=abcde', 'k7P-2x_9Qa+Zr/5mW0=abcdefg', 'K7P-2x_9Qa+Zr/5mW0=abcdef']) {
      expect([guess, secret.matches(guess)]).toEqual([guess, false]);
    }
  });

  it('refuses a header given twice or not at all', () => {
    expect(secret.matches(['k7P-2x_9Qa+Zr/5mW0=abcdef', 'k7P-2x_9Qa+Zr/5mW0=abcdef'])).toBe(false);
    expect(secret.matches(undefined)).toBe(false);
  });

  it('matches nothing on a node without one, not even an empty header', () => {
    const none = new ClusterSecret(undefined);
    expect([none.configured, none.matches(''), none.matches('anything')]).toEqual([false, false, false]);
  });
});
