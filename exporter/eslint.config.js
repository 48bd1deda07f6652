// eslint.config.js is the exporter's lint configuration: typescript-eslint's strict type-aware rules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** layers turns folder names into import patterns matching any relative path into those folders. */
const layers = (names) => names.flatMap((n) => [`../${n}/*`, `**/../${n}/**`, `../../${n}/**`]);

/** PROMQL_INTERNALS match any PromQL module but its public index. */
const PROMQL_INTERNALS = ['**/promql/*', '!**/promql/index.js'];

/**
 * restrict forbids imports matching `patterns` in the product files under `glob`, saying why. Tests and
 * benches are exempt: they wire modules together on purpose (fixtures from other layers, promqltest helpers).
 */
const restrict = (glob, patterns, message) => [
  {
    files: [glob],
    ignores: ['**/*.test.ts', '**/*.bench.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: patterns, message }] }] },
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'data/**', 'coverage/**', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  // The dependency direction of shared/ARCHITECTURE.md, enforced per folder: a module may only import what
  // sits below it (util ← tsdb ← promql ← rules ← api, hub ← app/ and app.ts), the simulator and the TSDB never see each
  // other (ingest/ joins them), the contract sees nothing but zod, and the API reaches PromQL through its
  // public index only.
  ...restrict('src/contract/**', ['../*', '../**'], 'the contract depends on nothing but zod'),
  ...restrict(
    'src/util/**',
    layers(['tsdb', 'promql', 'rules', 'api', 'hub', 'metrics', 'simulator', 'ingest', 'scheduler', 'app']),
    'util is the bottom layer',
  ),
  ...restrict(
    'src/simulator/**',
    layers(['tsdb', 'promql', 'rules', 'api', 'hub', 'metrics', 'ingest', 'app']),
    'the simulator does not see the store or the API',
  ),
  ...restrict(
    'src/tsdb/**',
    layers(['simulator', 'promql', 'rules', 'api', 'hub', 'metrics', 'ingest', 'scheduler', 'app']),
    'the TSDB does not see the simulator or anything above it',
  ),
  ...restrict(
    'src/promql/**',
    [...layers(['simulator', 'rules', 'api', 'hub', 'ingest']), '**/tsdb/redis/**', '**/tsdb/embedded/**'],
    'PromQL sees storage only through tsdb/storage.ts',
  ),
  ...restrict(
    'src/rules/**',
    [...layers(['simulator', 'api', 'hub', 'ingest']), ...PROMQL_INTERNALS],
    'rules use PromQL through promql/index.js and the store through its interface',
  ),
  ...restrict(
    'src/hub/**',
    layers(['api', 'rules', 'promql', 'tsdb', 'app']),
    'the hub only carries messages (types come from the contract)',
  ),
  ...restrict(
    'src/notify/**',
    [...layers(['simulator', 'api', 'hub', 'ingest']), ...PROMQL_INTERNALS],
    'notifiers hear the rule manager and read the fleet through its types only; the API and hub sit above them',
  ),
  ...restrict('src/api/**', PROMQL_INTERNALS, "the API uses PromQL's public index only"),
  ...restrict(
    'src/drills/**',
    layers(['tsdb', 'promql', 'rules', 'api', 'hub', 'ingest', 'app', 'notify', 'analysis']),
    'drills inject scenarios and hear alerts and deliveries through what compose.ts hands them',
  ),
  ...restrict(
    'src/analysis/**',
    [
      ...layers(['simulator', 'api', 'hub', 'ingest', 'app']),
      '../*.js',
      ...PROMQL_INTERNALS,
      '**/tsdb/redis/**',
      '**/tsdb/embedded/**',
    ],
    'the analysis reads metrics through the storage interface and PromQL only, never the simulator or its scenarios',
  ),
  ...restrict(
    'src/coverage/**',
    [
      ...layers(['api', 'hub', 'app', 'notify', 'analysis', 'metrics', 'scheduler']),
      '../*.js',
      ...PROMQL_INTERNALS,
    ],
    'a coverage run composes the simulator, a store and the rule manager itself; the API and hub sit above it',
  ),
  {
    files: ['**/*.test.ts', '**/*.bench.ts', 'bench/**', 'test/**'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-floating-promises': 'error',
    },
  },
);
