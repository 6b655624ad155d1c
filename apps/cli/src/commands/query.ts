import { setTimeout as sleep } from 'node:timers/promises';
import type { LensQueryAnswer } from '@quarry/contracts';
import { Command } from 'commander';
import { CliError, EXIT } from '../cli-error';
import type { CliContext } from '../config/cli-context';
import type { QuarryApi, SessionKey } from '../http/quarry-api';
import { printRecords, type Format } from '../output/formats';
import { queryProgress, type QueryProgress } from '../output/query-progress';
import { writeResult } from '../output/write-result';
import { confOption, formatOption, type ContextOf } from './options';

const ENDED = ['SUCCESSFUL', 'FAILED', 'CANCELED', 'CLOSED'];

export function queryCommand(contextOf: ContextOf): Command {
  const query = new Command('query').description('run queries and read their state and results');

  query
    .command('run')
    .description('submit SQL, show its progress, print its result (Ctrl-C cancels it on the server)')
    .argument('<sql>', 'the query')
    .addOption(formatOption())
    .option('-o, --output <file>', 'stream the result to a file (csv unless --format says otherwise)')
    .addOption(confOption('query conf entry key=value (repeatable), e.g. lens.query.driver=duckdb'))
    .option('--name <name>', 'query name')
    .action(async (sql: string, options: { format?: Format; output?: string; conf: Record<string, string>; name?: string }, command: Command) => {
      await runQuery(contextOf(command), sql, options);
    });

  query
    .command('status')
    .description("a query's state, progress, driver and times")
    .argument('<handle>')
    .addOption(formatOption())
    .action(async (handle: string, options: { format?: Format }, command: Command) => {
      const ctx = contextOf(command);
      const status = await ctx.withSession((session) => ctx.api.query(session, handle));
      printStatus(status, options.format ?? 'table');
    });

  query
    .command('list')
    .description('your queries (handles), optionally by state or name')
    .option('--state <states>', 'comma list of states, e.g. RUNNING,QUEUED')
    .option('--name <name>', 'query name')
    .addOption(formatOption())
    .action(async (options: { state?: string; name?: string; format?: Format }, command: Command) => {
      const ctx = contextOf(command);
      const handles = await ctx.withSession((session) => ctx.api.queries(session, options));
      printRecords(options.format ?? 'table', ['handle'], handles.map((h) => [h]));
    });

  query
    .command('cancel')
    .description('cancel a query')
    .argument('<handle>')
    .action(async (handle: string, _options: unknown, command: Command) => {
      const ctx = contextOf(command);
      await ctx.withSession((session) => ctx.api.cancel(session, handle));
      process.stderr.write(`quarry: query ${handle} canceled\n`);
    });

  query
    .command('results')
    .description("a finished query's result")
    .argument('<handle>')
    .addOption(formatOption())
    .option('-o, --output <file>', 'stream the result to a file (csv unless --format says otherwise)')
    .action(async (handle: string, options: { format?: Format; output?: string }, command: Command) => {
      const ctx = contextOf(command);
      await ctx.withSession((session) => writeResult(ctx.api, session, handle, resultOptions(options)));
    });

  return query;
}

const resultOptions = (options: { format?: Format; output?: string }) => ({ format: options.format ?? (options.output ? 'csv' : 'table'), output: options.output });

async function runQuery(ctx: CliContext, sql: string, options: { format?: Format; output?: string; conf: Record<string, string>; name?: string }): Promise<void> {
  // Ctrl-C cancels the query on the server while it runs; a second one, or one once it has ended, leaves at once.
  const interrupted = new AbortController();
  let ended: LensQueryAnswer | undefined;
  const onSigint = () => (interrupted.signal.aborted || ended ? process.exit(130) : interrupted.abort());
  process.on('SIGINT', onSigint);
  try {
    const { session, handle } = await ctx.withSession(async (s) => ({ session: s, handle: await ctx.api.submit(s, sql, { conf: options.conf, name: options.name }) }));
    const started = Date.now();
    const progress = queryProgress(handle);
    try {
      ended = await waitUntilEnded(ctx.api, session, handle, progress, interrupted.signal);
    } catch (error) {
      progress.stop();
      if (!interrupted.signal.aborted) throw error;
      await ctx.api.cancel(session, handle);
      throw new CliError(`query ${handle} canceled on the server (interrupted)`, EXIT.failed);
    }
    progress.stop();
    const took = `${((Date.now() - started) / 1000).toFixed(1)} s`;
    const { status } = ended;
    if (status.status !== 'SUCCESSFUL') {
      const why = status.errorMessage ?? status.statusMessage;
      throw new CliError(`query ${handle} ${status.status}${why ? `: ${why}` : ''}`, EXIT.failed);
    }
    if (!status.isResultSetAvailable) {
      process.stderr.write(`quarry: query ${handle} SUCCESSFUL in ${took}, no result set\n`);
      return;
    }
    const rows = await writeResult(ctx.api, session, handle, resultOptions(options));
    process.stderr.write(`quarry: query ${handle} SUCCESSFUL in ${took}, ${rows} row${rows === 1 ? '' : 's'}\n`);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** Polls the status (often at first, then every half second) until the query ends; throws AbortError when interrupted. */
async function waitUntilEnded(api: QuarryApi, session: SessionKey, handle: string, progress: QueryProgress, signal: AbortSignal): Promise<LensQueryAnswer> {
  for (let pause = 50; ; pause = Math.min(pause * 2, 500)) {
    signal.throwIfAborted();
    const query = await api.query(session, handle, signal);
    const { status, queueNumber, progress: done } = query.status;
    progress.update(status === 'QUEUED' && queueNumber ? `QUEUED #${queueNumber}` : status, done);
    if (ENDED.includes(query.status.status)) return query;
    await sleep(pause, undefined, { signal });
  }
}

function printStatus(query: LensQueryAnswer, format: Format): void {
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(query, null, 2)}\n`);
    return;
  }
  const time = (ms: number) => (ms > 0 ? new Date(ms).toISOString() : null);
  const { status } = query;
  const fields: [string, string | number | null][] = [
    ['handle', query.queryHandle.handleId],
    ['state', status.status],
    ['progress', `${Math.round(status.progress * 100)}%`],
    ['driver', query.selectedDriverName ?? null],
    ['user', query.submittedUser],
    ['query', query.userQuery],
    ['name', query.queryName || null],
    ['submitted', time(query.submissionTime)],
    ['launched', time(query.launchTime)],
    ['finished', time(query.finishTime)],
    ['status message', status.statusMessage ?? null],
    ['error', status.errorMessage ?? null],
    ['queue number', status.queueNumber ?? null],
    ['result available', String(status.isResultSetAvailable)],
  ];
  printRecords(format, ['field', 'value'], fields.filter(([, v]) => v !== null));
}
