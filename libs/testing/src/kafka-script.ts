import { OwnedProcess } from './child-process';
import { KAFKA_SCRIPT } from './repo-paths';

/** Runs `node tools/stack/kafka.mjs <args>` (start/stop a private broker) and waits for it. */
export async function runKafkaScript(args: string[]): Promise<void> {
  const run = new OwnedProcess('kafka.mjs', process.execPath, [KAFKA_SCRIPT, ...args], process.env);
  const { code } = await run.exited;
  if (code !== 0) throw new Error(`kafka.mjs ${args.join(' ')} exited ${code}:\n${run.output()}`);
}
