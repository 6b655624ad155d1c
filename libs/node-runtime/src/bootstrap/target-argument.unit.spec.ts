import { targetsFromArgv } from './target-argument';

describe('--target', () => {
  it('defaults to every service', () => {
    expect(targetsFromArgv([], {})).toEqual(['gateway', 'session', 'query', 'driver', 'result']);
  });

  it('takes --target=a,b and --target a,b', () => {
    expect(targetsFromArgv(['--target=session,query'], {})).toEqual(['session', 'query']);
    expect(targetsFromArgv(['--target', 'driver'], {})).toEqual(['driver']);
  });

  it('falls back to QUARRY_TARGETS, and the flag wins over it', () => {
    expect(targetsFromArgv([], { QUARRY_TARGETS: 'result' })).toEqual(['result']);
    expect(targetsFromArgv(['--target=gateway'], { QUARRY_TARGETS: 'result' })).toEqual(['gateway']);
  });

  it('refuses a missing value or an unknown service', () => {
    expect(() => targetsFromArgv(['--target'], {})).toThrow('--target needs a value');
    expect(() => targetsFromArgv(['--target=web'], {})).toThrow('unknown target(s) web');
  });
});
