import { userInfo } from 'node:os';
import { CliError, EXIT } from '../cli-error';
import { QuarryApi, type SessionKey } from '../http/quarry-api';
import { configPath, readConfig, writeConfig, type CliConfig } from './config-file';
import { promptPassword } from './password-prompt';

/** The local balancer `npm start` runs. */
export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

export interface GlobalOptions {
  server?: string;
  user?: string;
}

/**
 * Where and as whom the CLI works, and the session it uses: the flags, else the environment
 * (QUARRY_SERVER, QUARRY_USER, QUARRY_PASSWORD), else the config file, else the defaults.
 */
export class CliContext {
  readonly api: QuarryApi;
  readonly server: string;
  readonly user: string;
  private readonly config: CliConfig;

  constructor(
    options: GlobalOptions,
    private readonly env: NodeJS.ProcessEnv = process.env,
    readonly configFile = configPath(env),
  ) {
    this.config = readConfig(configFile);
    this.server = (options.server || env['QUARRY_SERVER'] || this.config.server || DEFAULT_SERVER).replace(/\/+$/, '');
    this.user = options.user || env['QUARRY_USER'] || this.config.user || userInfo().username;
    this.api = new QuarryApi(this.server);
  }

  /** The saved session for this server and user, if any. */
  saved(): SessionKey | undefined {
    const saved = this.config.sessions[this.server];
    return saved && saved.user === this.user ? saved : undefined;
  }

  /** The saved session, or a new one opened and saved. */
  async session(): Promise<SessionKey> {
    return this.saved() ?? (await this.open());
  }

  /** Opens a session and saves it (replacing the saved one) so later runs reuse it. */
  async open(options: { database?: string; conf?: Record<string, string> } = {}): Promise<SessionKey> {
    const fromEnv = this.env['QUARRY_PASSWORD'];
    let session: SessionKey;
    try {
      session = await this.api.openSession(this.user, fromEnv ?? '', options);
    } catch (error) {
      // No password given and the server wants one: ask, if someone is at a terminal.
      if (!(error instanceof CliError) || error.exitCode !== EXIT.auth || fromEnv !== undefined || !process.stdin.isTTY) throw error;
      session = await this.api.openSession(this.user, await promptPassword(`Password for ${this.user} on ${this.server}: `), options);
    }
    this.config.sessions[this.server] = { user: this.user, ...session };
    writeConfig(this.configFile, this.config);
    return session;
  }

  forget(): void {
    delete this.config.sessions[this.server];
    writeConfig(this.configFile, this.config);
  }

  /**
   * Runs `use` with the session; if a saved one has ended on the server (closed, expired: 410
   * 2005), opens a new one and runs `use` again once.
   */
  async withSession<T>(use: (session: SessionKey) => Promise<T>): Promise<T> {
    const saved = this.saved();
    if (!saved) return use(await this.open());
    try {
      return await use(saved);
    } catch (error) {
      if (!(error instanceof CliError) || error.lens?.code !== 2005) throw error;
      return use(await this.open());
    }
  }
}
