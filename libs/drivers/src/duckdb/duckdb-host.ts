import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResultLimits } from '../result-limits';
import { HOST_SOURCE } from './host-source';

/** A value or row the host found over its limit. */
export interface HostLimit {
  kind: 'value' | 'row';
  bytes: number;
  exact: boolean;
}

/** DuckDB refused a request; its message is the engine's own (or the host's, for a limit). */
export class DuckDbError extends Error {
  constructor(
    message: string,
    readonly limit?: HostLimit,
  ) {
    super(message);
  }
}

interface Reply {
  id?: number;
  value?: unknown;
  error?: string;
  limit?: HostLimit;
  ready?: boolean;
  fatal?: string;
}

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

const STOP_GRACE_MS = 5_000;

/** The child process running DuckDB (see host-source.ts), with its own temp folder. */
export class DuckDbHost {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private exited = false;
  private readonly exit: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    private readonly tempDir: string,
    onExit: (host: DuckDbHost) => void,
  ) {
    this.exit = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exited = true;
        rmSync(tempDir, { recursive: true, force: true });
        const error = new Error(`duckdb host exited (${signal ?? `code ${code}`})`);
        for (const request of this.pending.values()) request.reject(error);
        this.pending.clear();
        onExit(this);
        resolve();
      }),
    );
    child.on('message', (reply: Reply) => this.settle(reply));
    // Idle, the host does not keep the driver's process alive; a waiting request does (see request).
    child.unref();
    child.channel?.unref();
  }

  static start(warehouseDir: string, limits: ResultLimits, onExit: (host: DuckDbHost) => void): Promise<DuckDbHost> {
    const tempDir = mkdtempSync(join(tmpdir(), 'quarry-duckdb-'));
    const child = spawn(process.execPath, ['-e', HOST_SOURCE, JSON.stringify({ tempDir, ...limits })], {
      cwd: warehouseDir,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, QUARRY_DUCKDB_MODULE: require.resolve('@duckdb/node-api') },
    });
    const host = new DuckDbHost(child, tempDir, onExit);
    return new Promise((resolve, reject) => {
      child.channel?.ref();
      const started = (reply: Reply) => {
        if (!reply.ready && !reply.fatal) return;
        child.off('message', started);
        child.channel?.unref();
        if (reply.ready) resolve(host);
        else reject(new Error(`duckdb host failed to start: ${reply.fatal}`));
      };
      child.on('message', started);
      child.once('error', reject);
      void host.exit.then(() => reject(new Error('duckdb host exited while starting')));
    });
  }

  request<T>(message: Record<string, unknown>): Promise<T> {
    if (this.exited) return Promise.reject(new Error('duckdb host has exited'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (this.pending.size === 0) this.child.channel?.ref();
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      // A host that died meanwhile: its exit rejects the request (a send error would go unheard).
      this.child.send({ ...message, id }, () => undefined);
    });
  }

  /** Asks the host to close DuckDB and exit; kills it if it does not. */
  async stop(): Promise<void> {
    if (this.exited) return;
    await Promise.race([this.request({ op: 'shutdown' }).then(() => this.exit), delay(STOP_GRACE_MS)]).catch(() => undefined);
    if (!this.exited) this.child.kill('SIGKILL');
    await this.exit;
  }

  private settle(reply: Reply): void {
    if (reply.id === undefined) return;
    const request = this.pending.get(reply.id);
    if (!request) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.child.channel?.unref();
    if (reply.error !== undefined) request.reject(new DuckDbError(reply.error, reply.limit));
    else request.resolve(reply.value);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
