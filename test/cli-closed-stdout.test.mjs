// A reader that goes away before the CLI has written everything (`export --out - | head`, `inspect --json | true`):
// the write fails with EPIPE. The bin had no listener for stdout's 'error', so Node printed a stack trace of its own
// internals and exited 1; the command must say in one line that its output is incomplete, and exit 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { BIN, sessionFor, tempDir, writeStore } from './fixtures/cli/helpers.mjs';

/**
 * Runs the bin with stdout a pipe whose reader closes after the first `keep` bytes (0: before the bin writes
 * anything); resolves to { code, signal, stderr }.
 */
function runClosingStdout(args, keep) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text) => { stderr += text; });
    if (keep === 0) child.stdout.destroy();
    else child.stdout.once('data', () => child.stdout.destroy());
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

/** No line of a stack trace, nor Node's report of an unhandled 'error' event. */
function assertNoStack(stderr) {
  assert.doesNotMatch(stderr, /^\s+at /m, stderr);
  assert.doesNotMatch(stderr, /Unhandled 'error' event|node:events/, stderr);
}

test('export --out - into a reader that stops early: one error line, exit 1, no stack trace', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 's.snap');
  // 3000 sessions: three chunks of about 170 KB, each more than a pipe holds, so the reader is gone while most wait.
  const sessions = {};
  for (let i = 0; i < 3000; i++) sessions[`sid-${i}`] = { ...sessionFor(i), pad: 'x'.repeat(100) };
  await writeStore(file, sessions, { journal: false });
  const { code, signal, stderr } = await runClosingStdout(['export', file, '--out', '-'], 1);
  assert.equal(signal, null, stderr);
  assert.equal(code, 1, stderr);
  assertNoStack(stderr);
  assert.match(stderr, /^error: .*standard output.*closed/m, stderr);
  assert.doesNotMatch(stderr, /exported \d+ sessions/, 'an incomplete export is not reported as done');
});

test('a result written after its reader closed (inspect --json | true): one error line, exit 1, no stack trace', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 's.snap');
  await writeStore(file, { a: sessionFor('a') }, { journal: false });
  for (const args of [['inspect', file, '--json'], ['verify', file], ['--help']]) {
    const { code, signal, stderr } = await runClosingStdout(args, 0);
    assert.equal(signal, null, `${args.join(' ')}: ${stderr}`);
    assert.equal(code, 1, `${args.join(' ')}: ${stderr}`);
    assertNoStack(stderr);
    assert.match(stderr, /^error: .*standard output.*closed/m, `${args.join(' ')}: ${stderr}`);
  }
});
