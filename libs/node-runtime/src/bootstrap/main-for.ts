import type { ServiceName } from '@quarry/platform';
import { runNode } from './run-node';

/** EX_SOFTWARE: an error escaped every handler, so the node's state can no longer be trusted. */
export const EXIT_UNCAUGHT = 70;

function logLine(level: 'error' | 'fatal', msg: string, error: unknown): void {
  const err = error instanceof Error ? { err: error.message, stack: error.stack } : { err: String(error) };
  console.error(JSON.stringify({ level, time: new Date().toISOString(), msg, ...err }));
}

/**
 * Last resort only: every error has a handler where it happens (a lost database connection too).
 * A promise rejection nobody handled is logged, not fatal; an exception nobody caught is logged
 * as fatal and ends the process with 70, for its supervisor to restart it.
 */
function logWhatEscapes(): void {
  process.on('unhandledRejection', (reason) => logLine('error', 'unhandled promise rejection (a bug: whoever made the promise should handle it)', reason));
  process.on('uncaughtException', (error) => {
    logLine('fatal', 'uncaught exception; the node exits', error);
    process.exit(EXIT_UNCAUGHT);
  });
}

/** The whole main() of every app: start the node, stop it on SIGTERM/SIGINT, exit 1 on a failed start. */
export function mainFor(targets: () => ServiceName[]): void {
  logWhatEscapes();
  let node: Awaited<ReturnType<typeof runNode>> | undefined;
  const shutdown = (signal: string) => {
    // A stop the node asked for itself may have set an exit code for its supervisor.
    const code = Number(process.exitCode ?? 0);
    if (!node) process.exit(code);
    void node.stop().then(
      () => process.exit(code),
      (error) => {
        console.error(`stop after ${signal} failed:`, error);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  try {
    const chosen = targets();
    void runNode(chosen).then(
      (running) => (node = running),
      (error: Error) => {
        console.error(JSON.stringify({ level: 'fatal', msg: 'node failed to start', err: error.message }));
        process.exit(1);
      },
    );
  } catch (error) {
    console.error(JSON.stringify({ level: 'fatal', msg: 'bad arguments', err: (error as Error).message }));
    process.exit(2);
  }
}
