import type { ServiceName } from '@quarry/platform';
import { runNode } from './run-node';

/** The whole main() of every app: start the node, stop it on SIGTERM/SIGINT, exit 1 on a failed start. */
export function mainFor(targets: () => ServiceName[]): void {
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
