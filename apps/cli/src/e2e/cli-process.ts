import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT, waitFor } from '@quarry/testing';

/** The launcher `npx quarry` runs (the root package.json's bin). */
export const QUARRY_BIN = join(REPO_ROOT, 'bin/quarry.mjs');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `quarry <args>` as a script would: no terminal, stdout and stderr apart. */
export function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [QUARRY_BIN, ...args], { cwd: REPO_ROOT, env, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * `quarry <args>` in a real terminal: util-linux `script` gives it a pseudo-tty (stdin, stdout and
 * stderr all the terminal), whose output (both streams, with the progress line's redraws) is
 * read here, and whose input takes keys: \x03 is Ctrl-C, a SIGINT from the terminal driver.
 */
export class CliInTerminal {
  private readonly child: ChildProcess;
  private text = '';
  readonly exited: Promise<number | null>;

  constructor(args: string[], env: NodeJS.ProcessEnv) {
    const command = [process.execPath, QUARRY_BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    // exec: the CLI itself is the terminal's foreground process, not a shell that Ctrl-C would end first.
    this.child = spawn('script', ['-qfec', `exec ${command}`, '/dev/null'], { cwd: REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.text += chunk.toString('utf8')));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.text += chunk.toString('utf8')));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  get output(): string {
    return this.text;
  }

  async waitForOutput(what: string, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
    return waitFor(what, () => pattern.exec(this.text) ?? undefined, { timeoutMs, intervalMs: 50 });
  }

  type(keys: string): void {
    this.child.stdin!.write(keys);
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}
