/**
 * The shape of src/ (issue 14), checked by `npm run lint` (so by `npm test`):
 *
 * - Stages are layered; a module imports only from the layers below it:
 *     platform/*  <  panora  <  contracts  <  endpoints  <  inbox  <  dispatch  <  outbox  <  listeners/*  <  recovery
 *   and the composition root (main.ts, app.*.ts, health/, console/), the CLI and dev/ sit on top.
 *   Within platform/, config is the bottom: it imports no other part of the platform.
 * - Listener modules never import each other.
 * - A module is used through its index.ts (its public face), never through its files.
 * - No import cycle at file level (type-only imports, erased from the build, aside).
 *
 * Tests (*.spec.ts here, test/ elsewhere) may reach inside the module they test.
 * docs/architecture.md draws the same layers.
 */
const LAYERS = ['platform', 'panora', 'contracts', 'endpoints', 'inbox', 'dispatch', 'outbox', 'listeners', 'recovery'];
const TOP = ['health', 'console', 'cli', 'dev'];
/** A module: a platform part, a listener, or any other folder of src. */
const MODULE = '(platform/[^/]+|listeners/[^/]+|[^/]+)';
const NOT_SPEC = '\\.spec\\.ts$';

const upward = LAYERS.map((layer, i) => ({
  name: `no-upward-from-${layer}`,
  comment: `${layer} imports only from ${LAYERS.slice(0, i).join(', ') || 'nothing else in src'}`,
  severity: 'error',
  from: {
    path: `^src/${layer}/`,
    pathNot: [NOT_SPEC],
  },
  to: {
    path: `^src/(${[...LAYERS.slice(i + 1), ...TOP].join('|')}|[^/]+\\.ts$)`,
  },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import cycle: split the shared part out, or let the lower module own it.',
      severity: 'error',
      from: { path: '^src/' },
      // Cycles of type-only imports are erased from the build (two entities naming each other's
      // type, say); every cycle that loads code is refused.
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    ...upward.map((rule) =>
      rule.name === 'no-upward-from-platform'
        ? {
            ...rule,
            from: {
              ...rule.from,
              // The one lazy edge up: DATABASE_URL unset outside production loads the embedded
              // PostgreSQL (dev/) inside a function, never at import time (see the file).
              pathNot: [...rule.from.pathNot, '^src/platform/database/embedded-database\\.ts$'],
            },
          }
        : rule,
    ),
    {
      name: 'embedded-database-only-to-dev',
      comment: 'embedded-database.ts may reach up to dev/ only',
      severity: 'error',
      from: { path: '^src/platform/database/embedded-database\\.ts$' },
      to: { path: `^src/(${LAYERS.slice(1).join('|')}|health|cli|[^/]+\\.ts$)` },
    },
    {
      name: 'config-is-the-bottom',
      comment: 'platform/config reads and checks the environment; it imports no other part of the platform',
      severity: 'error',
      from: { path: '^src/platform/config/', pathNot: [NOT_SPEC] },
      to: { path: '^src/platform/(?!config/)' },
    },
    {
      name: 'no-listener-to-listener',
      comment: 'listeners are independent of each other: share through a lower layer',
      severity: 'error',
      from: { path: '^src/listeners/([^/]+)/' },
      to: { path: '^src/listeners/', pathNot: ['^src/listeners/$1/'] },
    },
    {
      name: 'public-face-only',
      comment: "another module's files are reached through its index.ts",
      severity: 'error',
      from: { path: `^src/${MODULE}/`, pathNot: [NOT_SPEC] },
      to: {
        path: `^src/${MODULE}/`,
        pathNot: ['^src/$1/', '/index\\.ts$', '^src/dev/embedded-postgres\\.ts$'],
      },
    },
    {
      name: 'root-uses-public-faces',
      comment: 'the composition root reaches modules through their index.ts',
      severity: 'error',
      from: { path: '^src/[^/]+\\.ts$', pathNot: [NOT_SPEC] },
      to: { path: `^src/${MODULE}/`, pathNot: ['/index\\.ts$'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
