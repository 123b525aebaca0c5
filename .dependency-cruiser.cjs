/**
 * Import rules for the workspace (run by `pnpm check`):
 * - no import cycles, inside a package or across packages;
 * - packages reach each other through their package name, never `../../other/src`;
 * - the isomorphic packages (protocol, doc, client) import nothing from Node;
 * - every import resolves to a declared dependency.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Import cycles make load order fragile and layering unclear.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-reaching-into-other-packages',
      severity: 'error',
      comment: 'Import another package by its name so its exports stay the public API.',
      from: { path: '^(packages|apps)/([^/]+)/' },
      to: { path: '^(packages|apps)/([^/]+)/', pathNot: '^$1/$2/', dependencyTypes: ['local'] },
    },
    {
      name: 'isomorphic-packages-stay-off-node',
      severity: 'error',
      comment: 'protocol, doc and client run in browsers: no node: built-ins there.',
      from: { path: '^packages/(protocol|doc|client)/src/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      comment: 'Every import resolves: a package imports only what its package.json declares.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-undeclared-dependencies',
      severity: 'error',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'no-test-code-in-sources',
      severity: 'error',
      from: { path: '^(packages|apps)/[^/]+/src/', pathNot: '^packages/testkit/' },
      to: { path: '(^|/)test/|\\.test\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(\\.scratch|dist)/|^apps/relay/test/fixtures/installed-app/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'default'],
      extensions: ['.ts', '.js'],
    },
    combinedDependencies: true,
  },
}
