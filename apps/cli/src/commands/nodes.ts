import { Command } from 'commander';
import { printRecords, type Format } from '../output/formats';
import { formatOption, type ContextOf } from './options';

/** `quarry nodes`: the cluster view (GET /cluster/nodes) as a table. */
export function nodesCommand(contextOf: ContextOf): Command {
  return new Command('nodes')
    .description('the nodes of the cluster: state, heartbeat, running queries, held results')
    .addOption(formatOption())
    .action(async (options: { format?: Format }, command: Command) => {
      const nodes = await contextOf(command).api.nodes();
      printRecords(
        options.format ?? 'table',
        ['node', 'state', 'url', 'services', 'heartbeat ms ago', 'running', 'held results', 'incarnation'],
        nodes.map((n) => [n.nodeId, n.state, n.httpUrl, n.services.join(','), n.msSinceHeartbeat, n.runningQueries.count, n.heldResults.count, n.incarnation]),
      );
    });
}
