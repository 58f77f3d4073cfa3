// Mutation testing (Stryker): `npm run mutate` mutates the durability code, `npm run mutate -- <file>...` the
// files named. The tap runner runs each test file as its own `node` process (node's test runner with the TAP
// reporter), and with per-test coverage only the test files that reach a mutant run against it.
// Not in CI: a full run takes tens of minutes. scripts/mutate.mjs turns the report into per-file scores
// (scripts/results/mutation.json), which scripts/reliability-report.mjs writes into the README.

/**
 * The durability code: what keeps sessions safe on disk. Every mutant that survives here is killed by a test
 * or explained (a `// Stryker disable` comment with the reason, next to the code). Add the journal's files here.
 */
export const durabilityFiles = [
  'src/files/snapshot-format.ts',
  'src/files/snapshot-loader.ts',
  'src/files/atomic-writer.ts',
  'src/files/file-lock.ts',
  'src/files/persistence.ts',
  'src/files/legacy-file.ts',
];

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'tap',
  plugins: ['@stryker-mutator/tap-runner'],
  tap: {
    // package.test.mjs packs and type-checks the package (20 s) and tests no behaviour of these files.
    testFiles: ['test/*.test.mjs', '!test/package.test.mjs'],
    nodeArgs: ['--test-reporter=tap', '-r', '{{hookFile}}', '{{testFile}}'],
    forceBail: true,
  },
  mutate: durabilityFiles,
  // The tests run against dist/: build the mutated (instrumented) sources once in the sandbox.
  buildCommand: 'node scripts/stryker-build.mjs',
  coverageAnalysis: 'perTest',
  // Two cores: one test file per core.
  concurrency: 2,
  timeoutMS: 20_000,
  timeoutFactor: 2,
  reporters: ['json', 'progress', 'clear-text'],
  jsonReporter: { fileName: '.tmp/stryker/mutation.json' },
  tempDirName: '.tmp/stryker/sandbox',
  cleanTempDir: true,
  ignorePatterns: ['bench', '.tmp', 'scripts/results', 'coverage'],
};
