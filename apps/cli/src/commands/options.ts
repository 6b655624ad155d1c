import { Command, InvalidArgumentError, Option } from 'commander';
import { CliContext, type GlobalOptions } from '../config/cli-context';
import { FORMATS } from '../output/formats';

/** How a command finds its context: the global flags, read where the command runs. */
export type ContextOf = (command: Command) => CliContext;

export const contextOf: ContextOf = (command) => new CliContext(command.optsWithGlobals<GlobalOptions>());

export const formatOption = () => new Option('-f, --format <format>', 'output format (default table)').choices(FORMATS);

/** `--conf key=value`, repeatable, gathered into one record. */
export const confOption = (description: string) =>
  new Option('-c, --conf <key=value>', description).default({}).argParser((entry: string, previous: Record<string, string>) => {
    const at = entry.indexOf('=');
    if (at <= 0) throw new InvalidArgumentError(`expected key=value, got ${JSON.stringify(entry)}`);
    return { ...previous, [entry.slice(0, at)]: entry.slice(at + 1) };
  });
