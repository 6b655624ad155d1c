import { CommanderError } from 'commander';
import { CliError, EXIT } from './cli-error';
import { buildProgram } from './program';

const leave = (code: number) => process.stdout.write('', () => process.exit(code));

buildProgram()
  .parseAsync(process.argv)
  .then(() => leave(EXIT.ok))
  .catch((error: unknown) => {
    if (error instanceof CommanderError) {
      // Commander printed the message (or the help) already.
      return leave(['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(error.code) ? EXIT.ok : EXIT.usage);
    }
    if (error instanceof CliError) {
      process.stderr.write(`${error.line()}\n`);
      return leave(error.exitCode);
    }
    process.stderr.write(`quarry: unexpected error: ${(error as Error).message ?? error}\n`);
    leave(EXIT.failed);
  });
