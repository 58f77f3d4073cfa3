// Ctrl-C (or SIGTERM from a supervisor) while the CLI writes a file: the atomic write's temp file, a full copy of the
// sessions (credentials), stayed beside the `export --out` file for ever (nothing else removes `<out>.tmp-*`), and
// `import` also left its lock behind. The bin removes both, then ends by the signal as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync, watch } from 'node:fs';
import { join } from 'node:path';
import { BIN, readStore, sessionFor, tempDir, writeStore } from './fixtures/cli/helpers.mjs';

/**
 * Runs the bin and sends `signal` as soon as a temp file appears in `dir`. Resolves to { code, signal, stderr, sent }:
 * `sent` is false when the command finished before its temp file was seen.
 */
function interruptWhileWriting(dir, args, signal) {
  return new Promise((resolve, reject) => {
    let sent = false;
    const watcher = watch(dir, (_event, name) => {
      if (sent || typeof name !== 'string' || !name.includes('.tmp-')) return;
      sent = true;
      child.kill(signal);
    });
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text) => { stderr += text; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code, endedBy) => {
      clearTimeout(timer);
      watcher.close();
      resolve({ code, signal: endedBy, stderr, sent });
    });
  });
}

/** A session file of `count` sessions of about 1 KB: tens of MB, so the write takes long enough to be interrupted. */
async function bigStore(file, count) {
  const sessions = {};
  for (let i = 0; i < count; i++) sessions[`sid-${i}`] = { ...sessionFor(i), pad: 'x'.repeat(1000) };
  await writeStore(file, sessions, { journal: false });
}

/**
 * Interrupts until one run was interrupted mid-write (a loaded machine may finish a write before the signal lands).
 * `reset()` runs before each attempt: it undoes what a run that finished wrote (its output file, the replaced file),
 * which the checks after an interrupted run took for that run's doing.
 */
async function interrupted(dir, args, signal, reset) {
  for (let attempt = 0; attempt < 5; attempt++) {
    await reset();
    const run = await interruptWhileWriting(dir, args, signal);
    if (run.sent && run.signal === signal) return run;
    assert.equal(run.code, 0, run.stderr);
  }
  assert.fail('the write always finished before the signal: no interrupted run to check');
}

test('export --out <file> ended by SIGINT or SIGTERM mid-write leaves no temp file, and no output file', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 's.snap');
  await bigStore(file, 20_000);
  const outDir = tempDir(t);
  const out = join(outDir, 'export.jsonl');
  for (const signal of ['SIGINT', 'SIGTERM']) {
    const run = await interrupted(outDir, ['export', file, '--out', out, '--force'], signal, () => rmSync(out, { force: true }));
    assert.deepEqual(readdirSync(outDir).filter((name) => name.includes('.tmp-')), [], `${signal}: ${run.stderr}`);
    assert.equal(existsSync(out), false, `${signal}: the interrupted run left no output file`);
  }
});

test('import ended by SIGINT mid-write leaves no temp file and no lock: the file is as before and a store starts on it', async (t) => {
  const dir = tempDir(t);
  const source = join(dir, 'source.snap');
  await bigStore(source, 20_000);
  const lines = join(dir, 'sessions.jsonl');
  const { status } = await new Promise((resolve) => {
    spawn(process.execPath, [BIN, 'export', source, '--out', lines]).on('close', (code) => resolve({ status: code }));
  });
  assert.equal(status, 0);
  const intoDir = tempDir(t);
  const into = join(intoDir, 'sessions.db');
  const run = await interrupted(intoDir, ['import', lines, '--into', into, '--replace'], 'SIGINT', async () => {
    rmSync(into, { force: true });
    await writeStore(into, { kept: sessionFor('kept') }, { journal: false });
  });
  assert.deepEqual(readdirSync(intoDir).filter((name) => name !== 'sessions.db'), [], `only the session file is left: ${run.stderr}`);
  assert.deepEqual(Object.keys(await readStore(into)), ['kept'], 'the file is the one from before the import');
});
