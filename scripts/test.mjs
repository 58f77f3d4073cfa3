// `npm test`: node's test runner over test/*.test.mjs, at least two files at a time. Its default is one less than the
// CPUs, so one at a time on two cores, where most test files wait on child processes, servers and fsyncs: the suite
// took twice the time it needs there (CPU about 70% idle). Each file still runs in its own process.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';

const files = readdirSync('test').filter((name) => name.endsWith('.test.mjs')).sort().map((name) => `test/${name}`);
const concurrency = Math.max(2, availableParallelism() - 1);
const { status, signal } = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...process.argv.slice(2), ...files], { stdio: 'inherit' });
process.exitCode = status ?? (signal ? 1 : 0);
