import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';
import { runKafkaScript } from './kafka-script';
import { waitFor } from './wait-for';

/**
 * A Kafka broker of the test's own (tools/stack/kafka.mjs on free ports, data in a temp folder),
 * which the test may kill and start again; `stop` ends it and removes its folder. Never the
 * shared broker.
 */
export class PrivateBroker {
  private constructor(
    private readonly dir: string,
    private readonly port: number,
    private readonly controllerPort: number,
  ) {}

  static async start(): Promise<PrivateBroker> {
    const broker = new PrivateBroker(mkdtempSync(join(tmpdir(), 'quarry-broker-')), await freePort(), await freePort());
    try {
      await broker.startAgain();
    } catch (error) {
      await broker.stop();
      throw error;
    }
    return broker;
  }

  get brokers(): string[] {
    return [`127.0.0.1:${this.port}`];
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** The broker's pid while it runs (kafka.mjs keeps it next to the data folder). */
  get pid(): number | undefined {
    const file = join(this.dir, 'broker.pid');
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, 'utf8').trim());
    return pid > 0 && alive(pid) ? pid : undefined;
  }

  /** Starts it (again) on the same ports and data; resolves once it answers. */
  startAgain(): Promise<void> {
    return runKafkaScript(['start', '--port', String(this.port), '--controller-port', String(this.controllerPort), '--data-dir', this.dataDir]);
  }

  /** SIGKILL: no clean shutdown, as a crashed machine would leave it. */
  async kill(): Promise<void> {
    const pid = this.pid;
    if (pid === undefined) return;
    process.kill(pid, 'SIGKILL');
    await waitFor(`the broker (pid ${pid}) to die`, () => !alive(pid), { timeoutMs: 10_000 });
  }

  /**
   * Deletes its data folder (topics, offsets, consumer groups) while it is stopped, as an operator
   * wiping a broker would; the next `startAgain` formats it afresh with the same cluster id.
   */
  wipeData(): void {
    if (this.pid !== undefined) throw new Error('stop or kill the broker before wiping its data');
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  async stop(): Promise<void> {
    await runKafkaScript(['stop', '--data-dir', this.dataDir]).catch(() => this.kill());
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** True while `pid` runs (a zombie, reaped by nobody, counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}
