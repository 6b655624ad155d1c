import { LoginLimiter } from './login-limiter';

const limits = { maxFailuresPerUser: 3, maxFailuresPerAddress: 5, windowMs: 10_000 };

function limiterAt(maxKeys = 100) {
  const clock = { now: 1_000_000 };
  return { clock, limiter: new LoginLimiter(limits, () => clock.now, maxKeys) };
}

const fail = (limiter: LoginLimiter, user: string, address: string) => {
  const admission = limiter.admit(user, address);
  if (!admission.ok) return admission;
  admission.finish(false);
  return admission;
};

describe('LoginLimiter', () => {
  it('refuses a user name after its limit of failures, with the seconds left in its window', () => {
    const { clock, limiter } = limiterAt();
    for (let i = 0; i < 3; i++) expect(fail(limiter, 'eve', `10.0.0.${i}`).ok).toBe(true);
    clock.now += 2_500;
    expect(limiter.admit('eve', '10.0.0.9')).toEqual({ ok: false, retryAfterSeconds: 8 });
    expect(limiter.admit('ana', '10.0.0.9').ok).toBe(true);
    clock.now += 7_500;
    expect(limiter.admit('eve', '10.0.0.9').ok).toBe(true);
  });

  it('refuses an address after its limit, whatever the user names', () => {
    const { limiter } = limiterAt();
    for (const user of ['a', 'b', 'c', 'd', 'e']) expect(fail(limiter, user, '10.0.0.1').ok).toBe(true);
    expect(limiter.admit('f', '10.0.0.1').ok).toBe(false);
    expect(limiter.admit('f', '10.0.0.2').ok).toBe(true);
  });

  it('counts logins still being checked, so a concurrent burst stops at the limit', () => {
    const { limiter } = limiterAt();
    const burst = Array.from({ length: 10 }, () => limiter.admit('eve', '10.0.0.1'));
    expect(burst.filter((a) => a.ok)).toHaveLength(3);
  });

  it('forgets a user name\'s failures when it logs in, and gives back the reservation', () => {
    const { limiter } = limiterAt();
    fail(limiter, 'ana', '10.0.0.1');
    fail(limiter, 'ana', '10.0.0.1');
    const ok = limiter.admit('ana', '10.0.0.1');
    if (!ok.ok) throw new Error('expected admission');
    ok.finish(true);
    for (let i = 0; i < 3; i++) expect(fail(limiter, 'ana', '10.0.0.2').ok).toBe(true);
    expect(limiter.admit('ana', '10.0.0.3').ok).toBe(false);
  });

  it('keeps at most its number of keys, dropping the oldest', () => {
    const { limiter } = limiterAt(4);
    for (let i = 0; i < 20; i++) fail(limiter, `user${i}`, `10.0.0.${i}`);
    expect(limiter.size).toBe(4);
  });
});
