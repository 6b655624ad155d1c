import { Command } from 'commander';
import { usageError } from '../cli-error';
import { printRecords, type Format } from '../output/formats';
import { confOption, formatOption, type ContextOf } from './options';

export function sessionCommand(contextOf: ContextOf): Command {
  const session = new Command('session').description('the Lens session the CLI keeps (saved in its config file, reused by every command)');

  session
    .command('open')
    .description('open a session and save it (closing the one saved before)')
    .option('-d, --database <name>', 'the current database')
    .addOption(confOption('session conf entry key=value (repeatable)'))
    .action(async (options: { database?: string; conf: Record<string, string> }, command: Command) => {
      const ctx = contextOf(command);
      const before = ctx.saved();
      if (before) await ctx.api.closeSession(before).catch(() => undefined);
      const opened = await ctx.open({ database: options.database, conf: options.conf });
      process.stdout.write(`${opened.publicId}\n`);
      process.stderr.write(`quarry: session ${opened.publicId} opened as ${ctx.user} on ${ctx.server}, saved in ${ctx.configFile}\n`);
    });

  session
    .command('close')
    .description('close the saved session')
    .action(async (_options: unknown, command: Command) => {
      const ctx = contextOf(command);
      const saved = ctx.saved();
      if (!saved) throw usageError(`no saved session for ${ctx.user} on ${ctx.server}`);
      await ctx.api.closeSession(saved).catch((error: { lens?: { code?: number } }) => {
        if (error.lens?.code !== 2005) throw error; // already gone: forgetting it is all that is left
      });
      ctx.forget();
      process.stderr.write(`quarry: session ${saved.publicId} closed\n`);
    });

  session
    .command('set')
    .description('set a session parameter')
    .argument('<key>')
    .argument('<value>')
    .action(async (key: string, value: string, _options: unknown, command: Command) => {
      const ctx = contextOf(command);
      await ctx.withSession((s) => ctx.api.setParam(s, key, value));
      process.stderr.write(`quarry: ${key} set\n`);
    });

  session
    .command('show')
    .description("the session's parameters (or one), or its resources")
    .argument('[key]')
    .option('-r, --resources', 'list the added resources instead')
    .addOption(formatOption())
    .action(async (key: string | undefined, options: { resources?: boolean; format?: Format }, command: Command) => {
      const ctx = contextOf(command);
      const format = options.format ?? 'table';
      if (options.resources) {
        const resources = await ctx.withSession((s) => ctx.api.resources(s));
        printRecords(format, ['type', 'path'], resources.map((r) => split(r, ':')));
        return;
      }
      const params = await ctx.withSession((s) => ctx.api.params(s, key));
      printRecords(format, ['key', 'value'], params.map((p) => split(p, '=')));
    });

  session
    .command('add-resource')
    .description('add a resource (jar, file or archive) to the session')
    .argument('<type>', 'jar, file or archive')
    .argument('<path>', 'a path on the server, under its QUARRY_RESOURCE_ROOTS')
    .action(async (type: string, path: string, _options: unknown, command: Command) => {
      const ctx = contextOf(command);
      await ctx.withSession((s) => ctx.api.addResource(s, type, path));
      process.stderr.write(`quarry: added ${type} ${path}\n`);
    });

  return session;
}

function split(entry: string, separator: string): [string, string] {
  const at = entry.indexOf(separator);
  return at < 0 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
}
