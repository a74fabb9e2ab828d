/**
 * The rooms' boundaries (CONVENTIONS §12), checked by `npm run lint` as part of `npm test`.
 * Workspace packages are resolved to their sources so that cycles across packages show up.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Import cycles make start-up order and testing fragile.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'allocator-is-pure',
      severity: 'error',
      comment: 'The allocator takes state and now, returns offers: nothing of the master, no I/O, no timers.',
      from: { path: '^packages/master/src/allocator/' },
      to: {
        pathNot: ['^packages/master/src/allocator/', '^packages/core/src/(resources|wire)\\.ts$', '^packages/core/src/index\\.ts$', '^packages/core/src/gen/'],
      },
    },
    {
      name: 'allocator-no-io',
      severity: 'error',
      from: { path: '^packages/master/src/allocator/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'frameworks-use-only-the-sdk',
      severity: 'error',
      comment: 'Bundled frameworks have exactly what an outside framework author has.',
      from: { path: '^frameworks/' },
      to: { path: '^packages/(?!sdk/)' },
    },
    {
      name: 'master-and-agent-below-sdk-and-cli',
      severity: 'error',
      from: { path: '^packages/(master|agent|core)/src/' },
      to: { path: '^packages/(sdk|cli)/' },
    },
    {
      name: 'core-depends-on-nothing-of-agora',
      severity: 'error',
      from: { path: '^packages/core/src/' },
      to: { path: '^packages/(?!core/)' },
    },
    {
      name: 'master-and-agent-apart',
      severity: 'error',
      from: { path: '^packages/(master|agent)/src/' },
      to: { path: '^packages/(master|agent)/', pathNot: '^packages/$1/' },
    },
    {
      name: 'ui-is-browser-code',
      severity: 'error',
      comment: 'The web UI runs in the browser and talks to the master over HTTP only: no Node built-ins, no Agora server code, nothing but preact and uPlot from npm.',
      from: { path: '^packages/master/ui/' },
      to: {
        pathNot: ['^packages/master/ui/', '^node_modules/(preact|uplot)/'],
      },
    },
    {
      name: 'ui-no-node-builtins',
      severity: 'error',
      from: { path: '^packages/master/ui/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'no-reaching-into-src',
      severity: 'error',
      comment: "Import another package by its name ('@agora/x'), never by a path into its src/.",
      from: { path: '^(packages|frameworks)/([^/]+)/' },
      to: { path: '^(packages|frameworks)/([^/]+)/src/', pathNot: ['^$1/$2/', '^packages/[^/]+/src/index\\.ts$'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/|\\.d\\.ts$|/src/gen/agora\\.js$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.lint.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'types', 'default'], extensions: ['.ts', '.tsx', '.js'] },
  },
};
