// Shared plumbing for the `node tools/stack/<tool>.mjs <command>` entry points.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** True when the module with this `import.meta.url` is the script node was started with. */
export function isMainModule(moduleUrl) {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/** Runs a CLI main function: prints errors without a stack trace (unless DEBUG is set) and sets the exit code. */
export function runCli(main) {
  main().then(
    (exitCode) => {
      if (typeof exitCode === 'number') process.exitCode = exitCode;
    },
    (error) => {
      console.error(`error: ${process.env.DEBUG ? error.stack : error.message}`);
      process.exitCode = 1;
    },
  );
}

/** Progress messages go to stderr so stdout stays machine-readable. */
export const logToStderr = (message) => console.error(message);

/** Parses a --port style option; 0 is allowed where the OS should pick a free port. */
export function parsePort(value, optionName) {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${optionName} must be a port number, got ${JSON.stringify(value)}`);
  return port;
}
