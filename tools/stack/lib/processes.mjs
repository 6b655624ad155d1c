// Running commands and stopping processes, with errors that say what to do next.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tailText } from './files.mjs';
import { waitFor } from './wait.mjs';

/**
 * Runs a command to completion, capturing its output.
 * Throws a readable error when the binary is missing (`missingHint`) or exits non-zero (with the output tail).
 */
export function runCommand(command, args, { cwd, env, description = command, missingHint = '' } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', (error) => {
      if (error.code === 'ENOENT') {
        const where = command.includes('/') ? '' : ' on PATH';
        reject(new Error(`${description} failed: '${command}' was not found${where}. ${missingHint}`.trim()));
      } else {
        reject(new Error(`${description} failed to start: ${error.message}`));
      }
    });
    child.on('close', (code, signal) => {
      if (code === 0) return resolvePromise({ stdout, stderr });
      const output = tailText(stripAnsi(`${stdout}\n${stderr}`), 40);
      reject(new Error(`${description} failed (${signal ?? `exit code ${code}`}):\n${output}`));
    });
  });
}

// Some tools (Maven) colour their output even when it is not a terminal.
function stripAnsi(text) {
  return text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
}

/** True while `pid` exists and is not a zombie (a container's pid 1 may never reap orphans). */
export function isProcessAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return error.code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (macOS): kill(0) succeeding is the best we know
  }
}

/** The command line of `pid` (Linux only), or undefined when it cannot be read. */
export function processCommandLine(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return undefined;
  }
}

/**
 * SIGTERM, wait up to `graceMs` for the exit, then SIGKILL.
 * Returns 'exited' | 'killed' | 'not-running'.
 */
export async function terminateProcess(pid, { graceMs = 30_000, description = `process ${pid}` } = {}) {
  if (!isProcessAlive(pid)) return 'not-running';
  sendSignal(pid, 'SIGTERM');
  try {
    await waitFor(() => !isProcessAlive(pid), { timeoutMs: graceMs, intervalMs: 100, description: `${description} to exit` });
    return 'exited';
  } catch {
    sendSignal(pid, 'SIGKILL');
    await waitFor(() => !isProcessAlive(pid), { timeoutMs: 10_000, intervalMs: 100, description: `${description} to die after SIGKILL` });
    return 'killed';
  }
}

function sendSignal(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if (error.code !== 'ESRCH') throw error;
  }
}
