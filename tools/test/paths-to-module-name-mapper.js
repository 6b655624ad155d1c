// Maps the `@quarry/*` aliases of tsconfig.base.json for Jest, so the two never disagree.
const path = require('node:path');
const { paths } = require('../../tsconfig.base.json').compilerOptions;

exports.pathsToModuleNameMapper = function pathsToModuleNameMapper() {
  const mapper = {};
  for (const [alias, [target]] of Object.entries(paths)) {
    mapper[`^${alias.replace(/[/\\^$*+?.()|[\]{}@-]/g, '\\$&')}$`] = path.join('<rootDir>', target);
  }
  return mapper;
};
