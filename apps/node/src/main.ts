import { mainFor, targetsFromArgv } from '@quarry/node-runtime';

// One process running any set of services: --target=all (the default) or a comma list.
mainFor(() => targetsFromArgv(process.argv.slice(2)));
