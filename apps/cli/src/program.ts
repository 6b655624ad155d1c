import { Command } from 'commander';
import { nodesCommand } from './commands/nodes';
import { contextOf } from './commands/options';
import { queryCommand } from './commands/query';
import { sessionCommand } from './commands/session';
import { DEFAULT_SERVER } from './config/cli-context';

export function buildProgram(): Command {
  const program = new Command('quarry')
    .description('Quarry from the command line: sessions, queries and the cluster, over the Lens REST API')
    .option('-s, --server <url>', `the server or balancer (QUARRY_SERVER, the config file, else ${DEFAULT_SERVER})`)
    .option('-u, --user <name>', 'user name (QUARRY_USER, the config file, else your login); the password comes from QUARRY_PASSWORD or a prompt')
    // Usage errors exit 2 (main.ts), not commander's 1, which means a failed query here.
    .exitOverride();
  program.addCommand(sessionCommand(contextOf));
  program.addCommand(queryCommand(contextOf));
  program.addCommand(nodesCommand(contextOf));
  overrideExits(program);
  return program;
}

/** addCommand does not pass settings down, so every command gets them here. */
function overrideExits(command: Command): void {
  command.exitOverride().configureOutput({ outputError: (text, write) => write(`quarry: ${text.replace(/^error: /, '')}`) });
  command.commands.forEach(overrideExits);
}
