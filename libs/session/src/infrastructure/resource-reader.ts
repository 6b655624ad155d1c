import { createHash } from 'node:crypto';
import { realpath, open } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export class ResourceRefused extends Error {}

export interface ReadResource {
  path: string;
  content: Buffer;
  sha256: string;
}

/**
 * Reads a resource a client names by path, only from under the configured roots: the real path
 * (links followed) must lie inside a root's real path, so neither `..` nor a symlink escapes.
 */
export class ResourceReader {
  constructor(
    private readonly roots: string[],
    private readonly maxBytes: number,
  ) {}

  async read(requested: string): Promise<ReadResource> {
    if (this.roots.length === 0) {
      throw new ResourceRefused('adding resources is disabled: no resource roots are configured (QUARRY_RESOURCE_ROOTS)');
    }
    const path = this.localPath(requested);
    if (path.split(/[\\/]/).includes('..')) throw new ResourceRefused(`resource path ${requested} may not contain ..`);
    // Refused before the file system is asked, so the answer says nothing of whether it exists.
    if (!(await this.insideARoot(path))) throw this.outside(requested);
    let real: string;
    try {
      real = await realpath(path);
    } catch {
      throw new ResourceRefused(`resource ${requested} does not exist or cannot be read`);
    }
    // A link inside a root may still point outside.
    if (!(await this.insideARoot(real))) throw this.outside(requested);
    const file = await open(real, 'r');
    try {
      const stat = await file.stat();
      if (!stat.isFile()) throw new ResourceRefused(`resource ${requested} is not a regular file`);
      if (stat.size > this.maxBytes) throw new ResourceRefused(`resource ${requested} has ${stat.size} bytes; the limit is ${this.maxBytes}`);
      const content = await file.readFile();
      return { path: requested, content, sha256: createHash('sha256').update(content).digest('hex') };
    } finally {
      await file.close();
    }
  }

  /** Plain paths and file: URIs; a relative path is taken from the first root. */
  private localPath(requested: string): string {
    if (/^[a-z][a-z0-9+.-]*:/i.test(requested)) {
      if (!requested.startsWith('file:')) throw new ResourceRefused(`only local files can be added, not ${requested.split(':')[0]}: resources`);
      try {
        return fileURLToPath(requested);
      } catch {
        throw new ResourceRefused(`resource path ${requested} is not a valid file: URI`);
      }
    }
    return isAbsolute(requested) ? requested : resolve(this.roots[0], requested);
  }

  private outside(requested: string): ResourceRefused {
    return new ResourceRefused(`resource ${requested} is outside the resource roots (${this.roots.join(', ')})`);
  }

  /** Under a root as configured or as its real path (a root may itself be reached through a link). */
  private async insideARoot(path: string): Promise<boolean> {
    for (const root of this.roots) {
      const realRoot = await realpath(root).catch(() => undefined);
      if (!realRoot) continue;
      for (const base of new Set([resolve(root), realRoot])) {
        const rel = relative(base, path);
        if (rel && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel)) return true;
      }
    }
    return false;
  }
}
