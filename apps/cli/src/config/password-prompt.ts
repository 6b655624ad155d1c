import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { CliError, EXIT } from '../cli-error';

/** Asks for a password on the terminal without echoing it. */
export async function promptPassword(label: string): Promise<string> {
  process.stderr.write(label);
  // readline echoes what is typed to its output; a muted one echoes nothing.
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  try {
    return await new Promise<string>((resolve, reject) => {
      rl.once('line', resolve);
      rl.once('close', () => reject(new CliError('no password given', EXIT.auth)));
      // In raw mode Ctrl-C reaches readline, not the process.
      rl.once('SIGINT', () => process.exit(130));
    });
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}
