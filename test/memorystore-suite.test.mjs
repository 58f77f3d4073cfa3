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

test('memorystore 1.6.8\'s test suite passes unchanged', () => {
  mkdirSync(join(workDir, 'test'));
  copyFileSync(join(vendored, 'index.js.txt'), join(workDir, 'index.js'));
  copyFileSync(join(vendored, 'test', 'store.js.txt'), join(workDir, 'test', 'store.js'));
  const report = join(workDir, 'report.json');

  const mocha = require.resolve('mocha/bin/mocha.js');
  const child = spawnSync(process.execPath, [
    mocha, '--no-config', '--no-package', '--check-leaks', '--no-exit',
    '--reporter', 'json', '--reporter-option', `output=${report}`, 'test/store.js',
  ], { cwd: workDir, encoding: 'utf8', timeout: 120_000, env: { ...process.env, DEBUG: '' } });

  const detail = `exit ${child.status} signal ${child.signal}\nstdout:\n${child.stdout}\nstderr:\n${child.stderr}`;
  assert.equal(child.error, undefined, `mocha could not run (or timed out):\n${detail}`);
  assert.ok(existsSync(report), `mocha wrote no report:\n${detail}`);
  const { stats, failures } = JSON.parse(readFileSync(report, 'utf8'));
  const failed = failures.map((f) => `- ${f.fullTitle}: ${f.err && f.err.message}`).join('\n');
  assert.equal(child.status, 0, `mocha failed:\n${failed}\n${detail}`);

  const itCount = suiteText.toString('utf8').match(/\bit\(/g).length;
  assert.equal(itCount, 21, 'memorystore 1.6.8 has 21 tests');
  assert.equal(stats.failures, 0, failed);
  assert.equal(stats.pending, 0);
  assert.equal(stats.tests, itCount);
  assert.equal(stats.passes, itCount, 'every it() of the suite passed');
});
