import { readFile } from 'node:fs/promises';
import type { AuthSettings } from '@quarry/platform';
import { verifyPassword } from './password-hash';

/** Who may open a session. `none` trusts the user name (local use); `file` checks scrypt hashes. */
export interface Authenticator {
  authenticate(userName: string, password: string): Promise<boolean>;
}

const acceptEveryone: Authenticator = { authenticate: async () => true };

/**
 * A users file has one `name:scrypt$N$r$p$salt$hash` line per user (`#` comments allowed); make
 * lines with `npm run users:hash`. It is re-read when it changes, so users can be added live.
 */
class UsersFileAuthenticator implements Authenticator {
  private cache?: { text: string; users: Map<string, string> };

  constructor(private readonly path: string) {}

  async authenticate(userName: string, password: string): Promise<boolean> {
    const stored = (await this.users()).get(userName);
    // Hash anyway for unknown users, so timing does not tell which names exist.
    const verified = await verifyPassword(password, stored ?? 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=');
    return stored !== undefined && verified;
  }

  private async users(): Promise<Map<string, string>> {
    const text = await readFile(this.path, 'utf8');
    if (this.cache?.text === text) return this.cache.users;
    const users = new Map<string, string>();
    for (const line of text.split('\n')) {
      const trimmed = line.trim();
      if (!trimmed || trimmed.startsWith('#')) continue;
      const colon = trimmed.indexOf(':');
      if (colon > 0) users.set(trimmed.slice(0, colon), trimmed.slice(colon + 1));
    }
    this.cache = { text, users };
    return users;
  }
}

export function createAuthenticator(settings: AuthSettings): Authenticator {
  return settings.mode === 'file' ? new UsersFileAuthenticator(settings.usersFile!) : acceptEveryone;
}
