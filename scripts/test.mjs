// `npm test`: node's test runner over test/*.test.mjs, at least two files at a time. Its default is one less than the
// CPUs, so one at a time on two cores, where most test files wait on child processes, servers and fsyncs: the suite
// took twice the time it needs there (CPU about 70% idle). Each file still runs in its own process.
//
// `--skip-scale` leaves out the files below. CI runs the whole suite once (the README's `npm test`), then again with
// this flag on each other Node major: these files test the store's own logic at scale (hundreds of kills, power-cut
// sweeps, 540 MB round trips, long races), about 40% of the suite's time, while the Node APIs they call are
// exercised on every major by the rest of the suite. Three full suites took CI past 15 minutes (1011 s).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';

const SCALE = [
  'browser-kill', // Chromium against the example app, kill -9 and restart
  'cli-export-large-sessions', // export and import of 540 MB
  'cli-import-long-line', // one 48 MB line against 48 of 1 MB
  'cli-read-during-saves', // CLI reads racing saves completing faster than they read
  'faults-damaged', // every damaged variant of a corpus of snapshots
  'format-spec-reader', // the spec reader against the store, across power cuts and kill -9 loops
  'interleavings', // reads during snapshots of 20k sessions, in each journal mode
  'journal-crash-fs', // a power cut at every write, sync, rename and unlink
  'journal-crash-loop', // kill -9 at random instants, acknowledged changes counted
  'model', // 100 runs of the reference model
  'persist-crash', // SIGKILL at random instants during saves
  'readme-blocks-cli', // the README's command lines, also covered file by file by the cli-* tests
  'snapshot-large-sessions', // 1000 sessions of 540 KB saved and loaded
].map((name) => `test/${name}.test.mjs`);

const missing = SCALE.filter((file) => !existsSync(file));
if (missing.length > 0) throw new Error(`scripts/test.mjs: the scale list names files that do not exist: ${missing.join(', ')}`);

const args = process.argv.slice(2);
const skipScale = args.includes('--skip-scale');
const files = readdirSync('test').filter((name) => name.endsWith('.test.mjs')).sort().map((name) => `test/${name}`)
  .filter((file) => !(skipScale && SCALE.includes(file)));
const concurrency = Math.max(2, availableParallelism() - 1);
const nodeArgs = ['--test', `--test-concurrency=${concurrency}`, ...args.filter((arg) => arg !== '--skip-scale'), ...files];
const { status, signal } = spawnSync(process.execPath, nodeArgs, { stdio: 'inherit' });
process.exitCode = status ?? (signal ? 1 : 0);
