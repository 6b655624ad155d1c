import 'reflect-metadata';
import type { Type } from '@nestjs/common';
import { MODULE_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { SERVICE_NAMES } from '@quarry/platform';
import { SERVICE_CATALOG } from './service-catalog';

/** Every controller a module brings into a node, through its imports too, with its route prefix. */
function routePrefixes(module: Type, seen = new Set<Type>()): string[] {
  if (seen.has(module)) return [];
  seen.add(module);
  const controllers = (Reflect.getMetadata(MODULE_METADATA.CONTROLLERS, module) ?? []) as Type[];
  const imports = (Reflect.getMetadata(MODULE_METADATA.IMPORTS, module) ?? []) as Type[];
  return [...controllers.map((c) => String(Reflect.getMetadata(PATH_METADATA, c))), ...imports.flatMap((m) => routePrefixes(m, seen))];
}

const isClientRoute = (prefix: string) => /^\/?(lensapi|cluster)(\/|$)/.test(prefix);

describe('which target serves what (ADR 19)', () => {
  it('puts every client route (Lens, /cluster) in the gateway and none elsewhere', () => {
    const clientRoutes = Object.fromEntries(SERVICE_NAMES.map((name) => [name, routePrefixes(SERVICE_CATALOG[name].module).filter(isClientRoute).sort()]));
    expect(clientRoutes).toEqual({
      gateway: ['cluster', 'lensapi/metastore', 'lensapi/queryapi/queries', 'lensapi/queryapi/queries/:handle', 'lensapi/session'],
      session: [],
      query: [],
      driver: [],
      result: [],
    });
  });

  it('leaves the service targets their peer routes only', () => {
    const others = SERVICE_NAMES.filter((name) => name !== 'gateway').flatMap((name) => routePrefixes(SERVICE_CATALOG[name].module).map((p) => `${name} ${p}`));
    expect(others).toEqual(['result internal/results/:handle']);
  });
});
