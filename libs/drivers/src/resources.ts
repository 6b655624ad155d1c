import { DriverQueryError, type DriverSessionSpec } from './driver';

export interface InitScript {
  path: string;
  sql: string;
}

const isScript = (path: string) => path.toLowerCase().endsWith('.sql');

/** Whether the session has `.sql` resources, which a driver runs on a connection of its own. */
export function hasInitScripts(session: DriverSessionSpec): boolean {
  return session.resources.some((r) => isScript(r.path));
}

/** The session's `.sql` resources in order: run on a new driver session before its first statement. */
export function initScripts(driver: string, session: DriverSessionSpec): InitScript[] {
  return session.resources
    .filter((r) => isScript(r.path))
    .map((r) => {
      // Running without a script the user added would give silently different results.
      if (!r.content) throw new DriverQueryError(driver, `init script ${r.path} has no content`);
      return { path: r.path, sql: r.content.toString('utf8') };
    });
}

/** SQL engines cannot load Hive jars or archives; said per resource, never silently ignored. */
export function unsupportedResourceWarnings(driver: string, session: DriverSessionSpec): string[] {
  return session.resources.filter((r) => r.type === 'jar' || r.type === 'archive').map((r) => `${driver} cannot load ${r.type} resources: ${r.path}`);
}
