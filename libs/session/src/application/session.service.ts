import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { ResourceType } from '@quarry/contracts';
import { DB_POOL, QUARRY_CONFIG, type QuarryConfig } from '@quarry/platform';
import type { Pool, PoolClient } from 'pg';
import { createAuthenticator, type Authenticator } from '../auth/authenticator';
import { LoginLimiter } from '../auth/login-limiter';
import { DEFAULT_SESSION_PARAMS } from '../domain/default-params';
import type { SessionCommand } from '../domain/session.decider';
import { checkDatabaseName, checkParamKey, checkUserName } from '../domain/session-input';
import { SessionRefused } from '../domain/session.errors';
import type { SessionState } from '../domain/session.state';
import { ResourceReader } from '../infrastructure/resource-reader';
import { SessionRepository } from '../infrastructure/session-repository';
import { secretMatches, sha256Hex, type SessionHandle } from './session-handle';
import { SessionActivity } from './session-activity';

export interface OpenSessionInput {
  userName: string;
  password: string;
  database?: string;
  conf: Record<string, string>;
  /** Where the login comes from (the client's address, past trusted proxies), for the failed-login limit. */
  clientAddress: string;
}

export interface SessionSummary {
  publicId: string;
  userName: string;
  openedAt: Date;
  lastAccess: Date;
}

/** The session use cases: each checks the handle, then reads or runs a command through the repository. */
@Injectable()
export class SessionService {
  private readonly authenticator: Authenticator;
  /** Only passwords can fail; with QUARRY_AUTH=none there is nothing to limit. */
  private readonly logins?: LoginLimiter;
  private readonly resources: ResourceReader;

  constructor(
    private readonly repository: SessionRepository,
    private readonly activity: SessionActivity,
    @Inject(DB_POOL) private readonly pool: Pool,
    @Inject(QUARRY_CONFIG) private readonly config: QuarryConfig,
  ) {
    this.authenticator = createAuthenticator(config.auth);
    if (config.auth.mode !== 'none') this.logins = new LoginLimiter(config.auth.logins);
    this.resources = new ResourceReader(config.sessions.resourceRoots, config.sessions.resourceMaxBytes);
  }

  async open(input: OpenSessionInput): Promise<SessionHandle> {
    // Input first: nothing malformed is worth a password check.
    const userName = input.userName.trim();
    checkUserName(userName);
    const database = input.database?.trim() || this.config.sessions.defaultDatabase;
    checkDatabaseName(database);
    for (const [key, value] of Object.entries(input.conf)) {
      checkParamKey(key);
      this.checkParamValue(value);
    }
    await this.authenticate(userName, input.password, input.clientAddress);
    const handle = { publicId: randomUUID(), secretId: randomUUID() };
    await this.repository.execute(
      handle.publicId,
      { type: 'OpenSession', publicId: handle.publicId, secretIdSha256: sha256Hex(handle.secretId), userName, database, params: input.conf },
      { alsoInTransaction: (tx) => this.reserve(tx, handle.publicId, userName) },
    );
    return handle;
  }

  /** The open session behind a handle; a wrong secret looks exactly like an unknown session. */
  async get(handle: SessionHandle): Promise<SessionState> {
    const { state } = await this.repository.load(handle.publicId);
    this.checkAccess(handle, state);
    this.activity.touch(handle.publicId);
    return state;
  }

  async params(handle: SessionHandle, key: string | undefined, verbose: boolean): Promise<string[]> {
    const state = await this.get(handle);
    const all = verbose || key ? { ...DEFAULT_SESSION_PARAMS, ...state.params } : state.params;
    if (key) {
      // Own keys only: `toString` or `__proto__` are unknown keys like any other.
      if (!Object.hasOwn(all, key)) throw new SessionRefused({ kind: 'param-not-found', key });
      return [`${key}=${all[key]}`];
    }
    return Object.entries(all).map(([k, v]) => `${k}=${v}`);
  }

  async setParam(handle: SessionHandle, key: string, value: string): Promise<void> {
    // Checked here as well as in the decider, so that bad input costs no read of the session.
    checkParamKey(key.trim());
    this.checkParamValue(value);
    await this.run(handle, { type: 'SetParam', key: key.trim(), value });
  }

  async changeDatabase(handle: SessionHandle, database: string): Promise<void> {
    checkDatabaseName(database.trim());
    await this.run(handle, { type: 'ChangeDatabase', database: database.trim() });
  }

  async addResource(handle: SessionHandle, type: ResourceType, path: string): Promise<void> {
    await this.get(handle);
    const resource = await this.resources.read(path);
    await this.run(
      handle,
      { type: 'AddResource', resourceType: type, path, sha256: resource.sha256, sizeBytes: resource.content.length },
      (tx) =>
        tx.query('INSERT INTO session_resource_blobs (sha256, content, size_bytes) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING', [
          resource.sha256,
          resource.content,
          resource.content.length,
        ]),
    );
  }

  async deleteResource(handle: SessionHandle, type: ResourceType, path: string): Promise<void> {
    await this.run(handle, { type: 'DeleteResource', resourceType: type, path });
  }

  async listResources(handle: SessionHandle, type: ResourceType | undefined): Promise<string[]> {
    const state = await this.get(handle);
    return state.resources.filter((r) => !type || r.type === type).map((r) => `${r.type}:${r.path}`);
  }

  async close(handle: SessionHandle): Promise<void> {
    await this.run(handle, { type: 'CloseSession' }, (tx) => tx.query('DELETE FROM open_sessions WHERE public_id = $1', [handle.publicId]));
    this.activity.forget(handle.publicId);
  }

  /** Open sessions: the caller's own, or everyone's for an administrator. */
  async list(scope: { userName: string } | 'all'): Promise<SessionSummary[]> {
    const { rows } = await this.pool.query<{ public_id: string; user_name: string; opened_at: Date; last_access: Date }>(
      `SELECT public_id, user_name, opened_at, last_access FROM open_sessions
       WHERE $1::text IS NULL OR user_name = $1 ORDER BY opened_at LIMIT 10000`,
      [scope === 'all' ? null : scope.userName],
    );
    return rows.map((r) => ({ publicId: r.public_id, userName: r.user_name, openedAt: r.opened_at, lastAccess: r.last_access }));
  }

  private async run(handle: SessionHandle, command: SessionCommand, alsoInTransaction?: (tx: PoolClient) => Promise<unknown>) {
    await this.repository.execute(handle.publicId, command, { check: (state) => this.checkAccess(handle, state), alsoInTransaction });
    this.activity.touch(handle.publicId);
  }

  /** The password check, within the failed-login limits of this node. */
  private async authenticate(userName: string, password: string, clientAddress: string): Promise<void> {
    const admission = this.logins?.admit(userName, clientAddress);
    if (admission && !admission.ok) throw new SessionRefused({ kind: 'login-throttled', retryAfterSeconds: admission.retryAfterSeconds });
    let verified = false;
    try {
      verified = await this.authenticator.authenticate(userName, password);
    } finally {
      admission?.finish(verified);
    }
    if (!verified) throw new SessionRefused({ kind: 'auth-failed', userName });
  }

  private checkAccess(handle: SessionHandle, state: SessionState): void {
    if (state.status === 'none' || !secretMatches(handle.secretId, state.secretIdSha256)) throw new SessionRefused({ kind: 'not-found' });
    if (state.status !== 'open') throw new SessionRefused({ kind: 'ended', status: state.status });
  }

  private checkParamValue(value: string): void {
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > this.config.sessions.paramValueMaxBytes) {
      throw new SessionRefused({ kind: 'invalid', message: `parameter value has ${bytes} bytes; the limit is ${this.config.sessions.paramValueMaxBytes}` });
    }
  }

  /** Counts the user's open sessions under a per-user lock, so two nodes cannot both take the last place. */
  private async reserve(tx: PoolClient, publicId: string, userName: string): Promise<void> {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`user-sessions:${userName}`]);
    const { rows } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM open_sessions WHERE user_name = $1', [userName]);
    const limit = this.config.sessions.maxPerUser;
    if (rows[0].n >= limit) throw new SessionRefused({ kind: 'too-many', userName, limit });
    await tx.query('INSERT INTO open_sessions (public_id, user_name) VALUES ($1, $2)', [publicId, userName]);
  }
}
