import { parseTargets, type ServiceName } from '@quarry/platform';

/** `--target=all`, `--target session,query`, or QUARRY_TARGETS; the default is all. */
export function targetsFromArgv(argv: string[], env = process.env): ServiceName[] {
  const index = argv.findIndex((a) => a === '--target' || a.startsWith('--target='));
  if (index < 0) return parseTargets(env['QUARRY_TARGETS']);
  const arg = argv[index];
  const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[index + 1];
  if (!value) throw new Error('--target needs a value: all, or a comma list of services');
  return parseTargets(value);
}
