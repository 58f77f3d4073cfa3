// Runs memorystore 1.6.8's own mocha suite, unchanged, against this package (see
// test/memorystore-1.6.8/README.md): code and tests written against memorystore must keep passing.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const vendored = fileURLToPath(new URL('./memorystore-1.6.8/', import.meta.url));
const UPSTREAM_SHA256 = 'ef640202d1572c214be7a66c71a6f55b11405c30c3d1091b1c62329ea7d4771f';

const suiteText = readFileSync(join(vendored, 'test', 'store.js.txt'));

// Under the repository, without a package.json of its own, so `require('express-memfilestore')` in
// index.js resolves to this package by its name (self-reference through package.json "exports").
mkdirSync(join(repoRoot, '.tmp'), { recursive: true });
const workDir = mkdtempSync(join(repoRoot, '.tmp', 'memorystore-1.6.8-'));
after(() => rmSync(workDir, { recursive: true, force: true }));

test('the vendored suite is memorystore 1.6.8\'s test/store.js, byte for byte', () => {
  assert.equal(createHash('sha256').update(suiteText).digest('hex'), UPSTREAM_SHA256);
});

/**
 * Upstream tests whose assertion is a window on the real clock, which a process stalled for longer than the window
 * misses whatever the store does (the file is byte for byte upstream's: it cannot be changed). A failure of one of
 * these, and of nothing else, is run again on its own (mocha --fgrep), at most three times; it must pass there. A
 * store that breaks what the test checks fails it every time, and the reruns too.
 */
const CLOCK_WINDOWS = new Map([
  // store.touch('hei', { cookie: { maxAge: 300 } }), then a timer of 200 ms reads it: a loop stalled 100 ms past the
  // timer reads it expired. Under CI's load (two suites side by side on two cores) 1 run in 25 failed so.
  ['MemoryStore should touch a given entry', 'a session touched to live 300 ms, read by a timer of 200 ms'],
]);

/** Runs memorystore's suite with mocha in `workDir` (`args` select tests); its JSON report and the process. */
function runMocha(args = []) {
  const report = join(workDir, 'report.json');
  rmSync(report, { force: true });
  const mocha = require.resolve('mocha/bin/mocha.js');
  const child = spawnSync(process.execPath, [
    mocha, '--no-config', '--no-package', '--check-leaks', '--no-exit',
    '--reporter', 'json', '--reporter-option', `output=${report}`, ...args, 'test/store.js',
  ], { cwd: workDir, encoding: 'utf8', timeout: 120_000, env: { ...process.env, DEBUG: '' } });
  const detail = `exit ${child.status} signal ${child.signal}\nstdout:\n${child.stdout}\nstderr:\n${child.stderr}`;
  assert.equal(child.error, undefined, `mocha could not run (or timed out):\n${detail}`);
  assert.ok(existsSync(report), `mocha wrote no report:\n${detail}`);
  const { stats, failures } = JSON.parse(readFileSync(report, 'utf8'));
  return { child, stats, failures, detail };
}

test('memorystore 1.6.8\'s test suite passes unchanged', (t) => {
  mkdirSync(join(workDir, 'test'));
  copyFileSync(join(vendored, 'index.js.txt'), join(workDir, 'index.js'));
  copyFileSync(join(vendored, 'test', 'store.js.txt'), join(workDir, 'test', 'store.js'));

  const { child, stats, failures, detail } = runMocha();
  const failed = failures.map((f) => `- ${f.fullTitle}: ${f.err && f.err.message}`).join('\n');
  const others = failures.filter((f) => !CLOCK_WINDOWS.has(f.fullTitle));
  assert.deepEqual(others.map((f) => f.fullTitle), [], `mocha failed:\n${failed}\n${detail}`);
  assert.equal(child.status, failures.length, `mocha's exit code is its count of failures:\n${detail}`);
  for (const f of failures) {
    const runs = [];
    for (let i = 0; i < 3 && !runs.some((r) => r.stats.passes === 1); i++) runs.push(runMocha(['--fgrep', f.fullTitle]));
    const last = runs.at(-1);
    assert.equal(last.stats.tests, 1, `--fgrep ran exactly "${f.fullTitle}":\n${last.detail}`);
    assert.equal(last.stats.passes, 1, `"${f.fullTitle}" (${CLOCK_WINDOWS.get(f.fullTitle)}) failed ${runs.length + 1} times:\n${failed}\n${last.detail}`);
    t.diagnostic(`"${f.fullTitle}" (${CLOCK_WINDOWS.get(f.fullTitle)}) failed once (${f.err && f.err.message}), passed run again alone`);
  }

  const itCount = suiteText.toString('utf8').match(/\bit\(/g).length;
  assert.equal(itCount, 21, 'memorystore 1.6.8 has 21 tests');
  assert.equal(stats.pending, 0);
  assert.equal(stats.tests, itCount);
  assert.equal(stats.passes + failures.length, itCount, 'every it() of the suite passed (those of CLOCK_WINDOWS possibly on a rerun)');
});
