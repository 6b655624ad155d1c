import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { CliError, EXIT } from '../cli-error';

/** A session the CLI keeps open between runs, for one server and user. Its secret id makes it usable, hence the file's 0600. */
const SavedSessionSchema = z.object({ user: z.string(), publicId: z.string(), secretId: z.string() });
export type SavedSession = z.infer<typeof SavedSessionSchema>;

const ConfigSchema = z.object({
  server: z.string().optional(),
  user: z.string().optional(),
  /** By server URL. */
  sessions: z.record(SavedSessionSchema).default({}),
});
export type CliConfig = z.infer<typeof ConfigSchema>;

/** `$XDG_CONFIG_HOME/quarry/config.json`, else `~/.config/quarry/config.json`. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env['XDG_CONFIG_HOME'] || join(homedir(), '.config');
  return join(base, 'quarry', 'config.json');
}

export function readConfig(path: string): CliConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { sessions: {} };
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`, EXIT.usage);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError(`${path} is not JSON; fix or remove it`, EXIT.usage);
  }
  const parsed = ConfigSchema.safeParse(json);
  if (!parsed.success) throw new CliError(`${path} is not a quarry config (${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}); fix or remove it`, EXIT.usage);
  return parsed.data;
}

/** Written readable by its owner only: it holds session secrets. */
export function writeConfig(path: string, config: CliConfig): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}
