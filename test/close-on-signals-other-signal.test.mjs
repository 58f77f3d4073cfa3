// closeOnSignals: while a final save runs, the other signal of the list (SIGINT during a SIGTERM close, as a terminal's
// Ctrl-C after a `kill`, or a process manager that sends SIGINT then SIGTERM) and a signal racing a close() the app
// called itself must wait for that save. The store took its handlers off every signal as soon as its close began, so
// such a signal took its default action and killed the process mid-save: no final snapshot, the lock and the journal
// left behind. The real child holds its final save (its writes wait for a file) for as long as the test needs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemFileStore } from 'express-memfilestore';
import { call, decodeSnapshot, tempDir } from './fixtures/persist/helpers.mjs';

const CHILD = fileURLToPath(new URL('./fixtures/persist/signals-child.mjs', import.meta.url));

function runChild(args) {
  const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const seen = (word) => new Promise((resolve, reject) => {
    const check = () => { if (stdout.includes(word)) resolve(); };
    child.stdout.on('data', (d) => { stdout += d; check(); });
    check();
    child.once('exit', (code, signal) => reject(new Error(`child ended (${code ?? signal}) before "${word}": ${stderr}`)));
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stderr })));
  return { child, seen, exited };
}

/** The final snapshot is whole, holds the session, stands alone (no journal) and loads; the lock is released. */
async function assertSaved(dir, file) {
  assert.deepEqual(decodeSnapshot(readFileSync(file)).records.map((r) => r.id), ['sid'], 'the final save was written');
  assert.equal(existsSync(`${file}.lock`), false, 'the lock was released');
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('.journal.') || n.includes('.tmp-')), [], 'no journal or temp file left');
  const store = new MemFileStore({ saveFile: file, journal: false, savePeriod: 0 });
  await store.ready;
  assert.equal((await call(store, 'get', 'sid'))?.file, file, 'the snapshot loads with its session');
  await store.close();
}

for (const [first, second] of [['SIGTERM', 'SIGINT'], ['SIGINT', 'SIGTERM']]) {
  test(`${second} while the final save of a ${first} runs waits for it: the process then ends by ${first}`, { timeout: 20_000 }, async (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'a.db');
    const { child, seen, exited } = runChild(['repeat', file]);
    await seen('ready');
    child.kill(first);
    await seen('saving');
    // A signal whose action is the default ends the process within kill(): it cannot reach the file written next.
    child.kill(second);
    writeFileSync(`${file}.go`, '');
    const { signal, stderr } = await exited;
    assert.equal(signal, first, `the process ended by ${signal}, not by the signal that started the close: ${stderr}`);
    await assertSaved(dir, file);
  });
}

for (const sent of ['SIGTERM', 'SIGINT']) {
  test(`${sent} while a close() the app called saves waits for that save, then ends the process`, { timeout: 20_000 }, async (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'a.db');
    const { child, seen, exited } = runChild(['close-first', file]);
    await seen('saving');
    child.kill(sent);
    writeFileSync(`${file}.go`, '');
    const { signal, stderr } = await exited;
    assert.equal(signal, sent, stderr);
    await assertSaved(dir, file);
  });
}

// A close() whose final save failed leaves the store open (a later close() retries that save): its handlers were taken
// off all the same, so the SIGTERM that came next took its default action, and the sessions a retried save would have
// kept were lost with the process (journal off).
test('SIGTERM after a close() whose final save failed retries that save, then ends the process', { timeout: 20_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'a.db');
  const { child, seen, exited } = runChild(['close-fails-once', file]);
  await seen('close failed');
  child.kill('SIGTERM');
  const { signal, stderr } = await exited;
  assert.equal(signal, 'SIGTERM', stderr);
  await assertSaved(dir, file);
});
