// Mutation testing (Stryker): `npm run mutate` mutates the durability code, `npm run mutate -- <file>...` the
// files named. The tap runner runs each test file as its own `node` process (node's test runner with the TAP
// reporter), and with per-test coverage only the test files that reach a mutant run against it.
// Not in CI: a full run takes about an hour on two cores. scripts/mutate.mjs turns the report into per-file scores
// (scripts/results/mutation.json), which scripts/reliability-report.mjs writes into the README.

import { readdirSync } from 'node:fs';

/**
 * The durability code: what keeps sessions safe on disk (every module of src/files/ that reads, writes, locks or
 * replays those files). Every mutant that survives here is killed by a test or explained in
 * scripts/mutation-explained.json. Left out: file-errors.ts (wording of error messages, no bytes on disk depend on
 * it) and persistence-stats.ts (types and counters for `store.stats`).
 */
export const durabilityFiles = [
  'src/files/snapshot-format.ts',
  'src/files/snapshot-loader.ts',
  'src/files/read-chunks.ts',
  'src/files/legacy-file.ts',
  'src/files/atomic-writer.ts',
  'src/files/file-lock.ts',
  'src/files/snapshot-writer.ts',
  'src/files/recover.ts',
  'src/files/journal-format.ts',
  'src/files/journal-reader.ts',
  'src/files/journal-file.ts',
  'src/files/journal-replay.ts',
  'src/files/journal-writer.ts',
  'src/files/journal-sync.ts',
  'src/files/journal-batch.ts',
  'src/files/journal-rotation.ts',
  'src/files/journal-failure.ts',
  'src/files/journal-size.ts',
  'src/files/persistence.ts',
  'src/files/persistence-load.ts',
  'src/files/persistence-triggers.ts',
];

/**
 * Test files too slow to run against each of hundreds of mutants on two cores, each about 20 s a run:
 * package.test.mjs packs and type-checks the package (no behaviour of these files), persist-crash.test.mjs
 * SIGKILLs at random instants (what it kills would be chance), faults-damaged.test.mjs damages files byte
 * by byte. The scores are therefore what the rest of the suite detects; those three only add to it.
 */
export const slowTestFiles = ['test/package.test.mjs', 'test/persist-crash.test.mjs', 'test/faults-damaged.test.mjs'];
/**
 * Run first: quick files that exercise the durability code directly. A mutant stops at its first failing test file,
 * and a mutant of module-level code (a constant, a regular expression) runs every test file, in this order: with the
 * slow CLI and HTTP files first, each such mutant cost minutes on a busy machine.
 */
const FIRST = [
  'persist-roundtrip', 'persist-damaged', 'persist-damaged-exact', 'journal-refusals', 'cli-holder', 'journal-write-stalls', 'journal-record-parse', 'journal-load', 'journal-damaged', 'persist-upgrade-edges',
  'persist-upgrade', 'persist-lock', 'persist-guards', 'persist-io-errors', 'journal-changes', 'journal-stats', 'journal-faults',
  'journal-crash-fs', 'journal-rotation-ack', 'journal-compaction-limit', 'persist-modes', 'persist-flush-close', 'faults-io',
].map((name) => `test/${name}.test.mjs`);
const MUTATION_TEST_FILES = readdirSync(new URL('./test/', import.meta.url))
  .filter((name) => name.endsWith('.test.mjs')).map((name) => `test/${name}`).filter((file) => !slowTestFiles.includes(file))
  .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
function rank(file) {
  const i = FIRST.indexOf(file);
  return i === -1 ? FIRST.length : i;
}

/**
 * Stryker's working directory. MUTATE_DIR gives a run its own, so two runs on different files can share a machine
 * (each with MUTATE_CONCURRENCY test processes, 2 by default).
 */
export const workDir = process.env.MUTATE_DIR ?? '.tmp/stryker';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'tap',
  tap: {
    // MUTATE_TESTS=<file>,<file>: only these test files (to check that new tests kill the survivors of a full run).
    testFiles: process.env.MUTATE_TESTS?.split(',') ?? MUTATION_TEST_FILES,
    nodeArgs: ['--test-reporter=tap', '-r', '{{hookFile}}', '{{testFile}}'],
    forceBail: true,
  },
  mutate: durabilityFiles,
  // The tests run against dist/: build the mutated (instrumented) sources once in the sandbox.
  buildCommand: 'node scripts/stryker-build.mjs',
  coverageAnalysis: 'perTest',
  // Two cores: one test file per core.
  concurrency: Number(process.env.MUTATE_CONCURRENCY ?? 2),
  // The first run of every test file (for coverage) takes 5 min on a quiet machine, far longer on a busy one.
  dryRunTimeoutMinutes: 30,
  timeoutMS: 20_000,
  timeoutFactor: 2,
  // MUTATE_SKIP_STATIC=1: leave out the mutants of module-level code (constants, regular expressions), which run
  // every test file each; scripts/mutate.mjs counts them as not run, never as explained.
  ignoreStatic: process.env.MUTATE_SKIP_STATIC === '1',
  plugins: ['@stryker-mutator/tap-runner', './scripts/stryker-partial-reporter.mjs'],
  reporters: ['json', 'progress', 'clear-text', 'partial'],
  jsonReporter: { fileName: `${workDir}/mutation.json` },
  tempDirName: `${workDir}/sandbox`,
  cleanTempDir: true,
  // Mutants whose code and covering tests did not change keep their result from the last run.
  incremental: true,
  incrementalFile: `${workDir}/incremental.json`,
  // bench/ holds its own heavy node_modules; the CLI tests need only its redis-server helper.
  ignorePatterns: ['bench/*', '!bench/redis-server.mjs', '.tmp', workDir, 'scripts/results', 'coverage'],
};
