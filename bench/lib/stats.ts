import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

/** Nearest-rank percentile of already sorted values. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function summarize(samples: number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: sorted.length ? sum / sorted.length : Number.NaN,
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `worker(i)` for i = 0..count-1 with at most `concurrency` in flight; resolves when all are done. */
export async function runConcurrently(count: number, concurrency: number, worker: (i: number) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      signal?.throwIfAborted();
      const i = next++;
      try {
        await worker(i);
      } catch (error) {
        next = count; // the other lanes stop after their current item
        throw error;
      }
    }
  });
  await Promise.all(lanes);
}

/** What one closed-loop run achieved. */
export interface LoadRun {
  /** Operations that succeeded (their latencies are in `latency`). */
  requests: number;
  errors: number;
  firstError?: string;
  elapsedMs: number;
  perSecond: number;
  latency: LatencySummary;
  /** CPU time this (client) process used during the run / the run's wall time: 1 = one core busy. */
  clientCpuShare: number;
}

/** One operation of a closed loop: whether it got the right answer, and how long it took. */
export interface LoopOutcome {
  ok: boolean;
  ms: number;
  /** Why it is not ok (kept for the first failure only). */
  error?: string;
}

export interface ClosedLoopOfOptions {
  concurrency: number;
  durationMs: number;
  /** The i-th operation of the run (i counts across all lanes). A throw counts as a failure. */
  op: (i: number) => Promise<LoopOutcome>;
  signal?: AbortSignal;
}

/**
 * `concurrency` lanes, each starting its next operation as soon as the previous one is done, until
 * `durationMs` has passed; operations in flight then finish. perSecond = successes / the time until
 * the last one. A failed operation counts as an error (and is not in the latencies).
 */
export async function closedLoopOf(options: ClosedLoopOfOptions): Promise<LoadRun> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const deadline = started + options.durationMs;
  const lane = async () => {
    while (performance.now() < deadline) {
      options.signal?.throwIfAborted();
      try {
        const outcome = await options.op(next++);
        if (outcome.ok) latencies.push(outcome.ms);
        else {
          errors++;
          firstError ??= outcome.error ?? 'wrong answer';
        }
      } catch (error) {
        errors++;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, lane));
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpu0);
  return {
    requests: latencies.length,
    errors,
    firstError,
    elapsedMs,
    perSecond: (latencies.length / elapsedMs) * 1000,
    latency: summarize(latencies),
    clientCpuShare: (cpu.user + cpu.system) / 1000 / elapsedMs,
  };
}

/** The machine's CPU counters (all cores) at one moment, for busyShare. */
export interface MachineCpu {
  busyMs: number;
  totalMs: number;
  /** Processes started on the machine since boot (/proc/stat `processes`; NaN without /proc). */
  forks: number;
}

export function machineCpu(): MachineCpu {
  let busyMs = 0;
  let totalMs = 0;
  for (const { times } of cpus()) {
    const total = times.user + times.nice + times.sys + times.idle + times.irq;
    totalMs += total;
    busyMs += total - times.idle;
  }
  let forks = Number.NaN;
  try {
    forks = Number(/^processes (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1] ?? Number.NaN);
  } catch {
    // not Linux
  }
  return { busyMs, totalMs, forks };
}

/** The share of the whole machine's CPU (all cores) that was busy between two readings: 1 = every core busy. */
export function busyShare(before: MachineCpu, after: MachineCpu): number {
  const total = after.totalMs - before.totalMs;
  return total > 0 ? (after.busyMs - before.busyMs) / total : Number.NaN;
}

/**
 * CPU time (user + system, ms) process `pid` has used so far, from /proc/<pid>/stat, with its
 * command name; undefined where there is no /proc (not Linux) or no such process. Assumes 100
 * clock ticks per second, Linux's USER_HZ.
 */
export function processCpu(pid: number): { command: string; cpuMs: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    // The fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { command, cpuMs: (Number(fields[11]) + Number(fields[12])) * 10 };
  } catch {
    return undefined;
  }
}

export function processCpuMs(pid: number): number | undefined {
  return processCpu(pid)?.cpuMs;
}
