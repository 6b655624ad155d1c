/**
 * `work`, or a rejection once `ms` have passed without it settling. The work itself is not
 * stopped: use it where a hung call must not stall its caller (a check retried later).
 */
export function withTimeout<T>(work: Promise<T>, ms: number, what = 'the call'): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    work.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (error) => (clearTimeout(timer), reject(error)),
    );
  });
}
