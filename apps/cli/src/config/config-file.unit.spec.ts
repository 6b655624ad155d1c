import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError, EXIT } from '../cli-error';
import { configPath, readConfig, writeConfig } from './config-file';

describe('the config file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quarry-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lives under XDG_CONFIG_HOME, else ~/.config', () => {
    expect(configPath({ XDG_CONFIG_HOME: '/x' })).toBe('/x/quarry/config.json');
    expect(configPath({})).toMatch(/\/\.config\/quarry\/config\.json$/);
  });

  it('is written readable by its owner only (it holds session secrets) and read back', () => {
    const path = join(dir, 'a', 'quarry', 'config.json');
    expect(readConfig(path)).toEqual({ sessions: {} });
    const config = { server: 'http://h:1', sessions: { 'http://h:1': { user: 'ana', publicId: 'p', secretId: 's' } } };
    writeConfig(path, config);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'a', 'quarry')).mode & 0o777).toBe(0o700);
    expect(readConfig(path)).toEqual(config);
    // An existing file with looser permissions is tightened on the next write.
    chmodSync(path, 0o644);
    writeConfig(path, config);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('refuses a file that is not JSON or not a config, naming it (usage, exit 2)', () => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, '{nope');
    expect(() => readConfig(path)).toThrow(new CliError(`${path} is not JSON; fix or remove it`, EXIT.usage));
    writeFileSync(path, JSON.stringify({ sessions: { s: { user: 1 } } }));
    expect(() => readConfig(path)).toThrow(/is not a quarry config \(sessions\.s\.user: Expected string, received number\)/);
  });
});
