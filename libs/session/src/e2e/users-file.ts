import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HASH_PASSWORD_SCRIPT } from '@quarry/testing';

/** A users file in `dir` for QUARRY_AUTH=file, made with the project's own command, as an operator would. */
export function writeUsersFile(dir: string, users: string[], password: string): string {
  const line = (user: string) => execFileSync(process.execPath, [HASH_PASSWORD_SCRIPT, user], { input: `${password}\n` }).toString().trim();
  const path = join(dir, 'users');
  writeFileSync(path, `# quarry users\n${users.map(line).join('\n')}\n`);
  return path;
}
