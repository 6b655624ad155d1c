import { withTimeout } from '@quarry/platform';
import { DriverCanceled, type Execution } from './driver';

/** A cancel that reached the engine between two of its statements is lost, so it is repeated. */
const CANCEL_RETRY_MS = 100;
const CANCEL_GIVE_UP_MS = 5_000;

const ignore = () => undefined;

/** What a running statement and `cancel()` share. */
export class ExecutionControl {
  canceled = false;
  stop?: () => Promise<void>;
  /** Stops sent and not yet answered: one landing later could stop the connection's next statement. */
  private readonly stopsInFlight = new Set<Promise<void>>();

  constructor(private readonly driver: string) {}

  /** Called when the statement starts: refuses if cancel() came first, else says how to stop it. */
  begin(stop: () => Promise<void>): void {
    if (this.canceled) throw new DriverCanceled(this.driver);
    this.stop = () => {
      const sent = stop();
      const answered = sent.catch(ignore).finally(() => this.stopsInFlight.delete(answered));
      this.stopsInFlight.add(answered);
      return sent;
    };
  }

  /** After end(): resolves once every stop already sent was answered (the connection may then serve another statement). */
  async stopsAnswered(): Promise<void> {
    await Promise.all([...this.stopsInFlight]);
  }

  /** Between batches: a cancel that landed while the sink was busy ends the stream here. */
  check(): void {
    if (this.canceled) throw new DriverCanceled(this.driver);
  }

  end(): void {
    this.stop = undefined;
  }
}

/**
 * Wraps a driver's work as an Execution. Once cancel() was called, any failure reads as
 * DriverCanceled (the engine's own words for it differ). cancel() on a statement still queued
 * returns at once (it will not start); on a running one it resolves once the statement ended.
 */
export function startExecution(driver: string, work: (control: ExecutionControl) => Promise<number>): Execution {
  const control = new ExecutionControl(driver);
  const done = work(control).then(
    (rowCount) => ({ rowCount }),
    (error: unknown) => {
      throw control.canceled ? new DriverCanceled(driver) : error;
    },
  );
  let settled = false;
  const finished = done.then(
    () => (settled = true),
    () => (settled = true),
  );
  return {
    done,
    async cancel() {
      control.canceled = true;
      const deadline = Date.now() + CANCEL_GIVE_UP_MS;
      while (!settled && control.stop && Date.now() < deadline) {
        await control.stop();
        await withTimeout(finished, CANCEL_RETRY_MS).catch(ignore);
      }
    },
  };
}

/** A driver's executions still running, so close() can stop them instead of waiting for them. */
export class RunningExecutions {
  private readonly running = new Set<Execution>();

  track(execution: Execution): Execution {
    this.running.add(execution);
    void execution.done.then(
      () => this.running.delete(execution),
      () => this.running.delete(execution),
    );
    return execution;
  }

  async cancelAll(): Promise<void> {
    await Promise.all([...this.running].map((execution) => execution.cancel().catch(ignore)));
  }
}
