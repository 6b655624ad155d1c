import { rebuildCommand } from '@quarry/node-runtime';

// npm run projection:rebuild -- <name>   (uses DATABASE_URL like a node does)
rebuildCommand(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`rebuild failed: ${error.message}`);
    process.exit(1);
  },
);
