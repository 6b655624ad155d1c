import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { CliError, EXIT } from '../cli-error';

/** Asks for a password on the terminal without echoing it. */
export async function promptPassword(label: string): Promise<string> {
  // readline echoes what is typed to its output; a muted one echoes nothing. It puts the terminal
  // in raw mode (no echo by the terminal either) as it is made: only then is the prompt shown, or
  // what is typed (or pasted) at once after the prompt would be echoed by the terminal itself.
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  process.stderr.write(label);
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
