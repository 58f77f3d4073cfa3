// Shutdown: closeOnSignals closes every store before the signal ends the process (and leaves an app's own
// handler in charge), saves never overlap even when flush() is called from a finished flush, and a closed
// store refuses further work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemFileStore } from 'express-memfilestore';
import { call, callError, decodeSnapshot, faultyFs, session, tempDir, track } from './fixtures/persist/helpers.mjs';
import { readFileSync } from 'node:fs';

const CHILD = fileURLToPath(new URL('./fixtures/persist/signals-child.mjs', import.meta.url));

function runChild(args) {
  const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const ready = new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => { if (String(d).includes('ready')) resolve(); });
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before ready: ${stderr}`)));
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stderr })));
  return { child, ready, exited };
}

const idsIn = (file) => decodeSnapshot(readFileSync(file)).records.map((r) => r.id);

// closeOnSignals: true means SIGTERM and SIGINT (Ctrl-C), each ending the process as it would have.
for (const sent of ['SIGTERM', 'SIGINT']) {
  test(`${sent} with two stores using closeOnSignals: both save before the process ends by the signal`, async (t) => {
    const dir = tempDir(t);
    const files = [join(dir, 'a.db'), join(dir, 'b.db')];
    const { child, ready, exited } = runChild(['stores', ...files]);
    await ready;
    child.kill(sent);
    const { signal, stderr } = await exited;
    assert.equal(signal, sent, `the signal took its default course: ${stderr}`);
    for (const file of files) {
      assert.deepEqual(idsIn(file), ['sid'], `${file} holds the final save`);
      assert.equal(existsSync(`${file}.lock`), false, 'the lock was released');
    }
    assert.deepEqual(readdirSync(dir).filter((n) => n.includes('.tmp-')), [], 'no temp file left');
  });
}

test('SIGTERM when the app has its own handler: the store closes and the app decides when to exit', { timeout: 20_000 }, async (t) => {
  const file = join(tempDir(t), 'a.db');
  const { child, ready, exited } = runChild(['app', file]);
  await ready;
  child.kill('SIGTERM');
  const { code, signal, stderr } = await exited;
  assert.equal(signal, null, stderr);
  assert.equal(code, 0, 'the app exited on its own terms');
  assert.equal(existsSync(`${file}.app-done`), true, 'the app handler ran to its end');
  assert.deepEqual(idsIn(file), ['sid']);
});

// signal-exit (4.x, here as a dependency of the tooling) is how many libraries run exit hooks: on a signal, when it
// finds itself the only listener left, it runs its hooks and raises the signal again at once. The store's handler
// used to step aside as soon as it ran, so signal-exit found itself alone and killed the process before the final
// snapshot was written: the sessions since the last save were not in the file, and the lock was left behind.
const signalExit = await import('signal-exit').then(() => true, () => false);
test('SIGTERM with a signal-exit hook in the app: the stores close first, then the hook runs and the signal ends the process', { skip: !signalExit && 'signal-exit is not installed' }, async (t) => {
  const file = join(tempDir(t), 'a.db');
  const { child, ready, exited } = runChild(['signal-exit', file]);
  await ready;
  child.kill('SIGTERM');
  const { signal, stderr } = await exited;
  assert.equal(signal, 'SIGTERM', stderr);
  assert.equal(existsSync(file), true, 'the final snapshot was written');
  assert.deepEqual(idsIn(file), ['sid']);
  assert.equal(existsSync(`${file}.lock`), false, 'the lock was released');
  assert.equal(readFileSync(`${file}.on-exit`, 'utf8'), 'closed', "the app's exit hook ran, after the store closed");
});

// npm forwards the Ctrl-C the terminal also sent to the process: a repeat of the signal while the final save runs killed
// the process before that save was written. The repeat is ignored; SIGKILL still ends the process at once.
for (const sent of ['SIGTERM', 'SIGINT']) {
  test(`${sent} again while the final save runs is ignored: the save completes, then the signal ends the process`, { timeout: 20_000 }, async (t) => {
    const file = join(tempDir(t), 'a.db');
    const { child, ready, exited } = runChild(['repeat', file]);
    await ready;
    const saving = new Promise((resolve) => child.stdout.on('data', (d) => { if (String(d).includes('saving')) resolve(); }));
    child.kill(sent);
    await saving;
    child.kill(sent);
    const early = await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 300, 'running'))]);
    assert.equal(early, 'running', 'the repeated signal did not end the process during its final save');
    writeFileSync(`${file}.go`, '');
    const { signal, stderr } = await exited;
    assert.equal(signal, sent, stderr);
    assert.deepEqual(idsIn(file), ['sid'], 'the final save was written');
    assert.equal(existsSync(`${file}.lock`), false, 'the lock was released');
  });
}

// A final save that fails is the last chance to say the changes since the last save are lost. Without an 'error'
// listener it is a process warning, which Node prints on the next tick: the signal raised again at once ended the
// process before that tick, and the process died by its signal as after a good save, the failure said nowhere.
test('SIGTERM whose final save fails, no error listener: the warning is printed before the signal ends the process', { timeout: 20_000 }, async (t) => {
  const file = join(tempDir(t), 'a.db');
  const { child, ready, exited } = runChild(['save-fails', file]);
  await ready;
  child.kill('SIGTERM');
  const { signal, stderr } = await exited;
  assert.equal(signal, 'SIGTERM');
  assert.match(stderr, /EIO/, 'the failed final save was reported on stderr');
  assert.equal(existsSync(file), false, 'no snapshot was written');
});

test('a store opened while the stores close, then the signal again: both stores save, and the signal ends the process', { timeout: 20_000 }, async (t) => {
  const dir = tempDir(t);
  const [file, late] = [join(dir, 'a.db'), join(dir, 'late.db')];
  const { child, ready, exited } = runChild(['repeat', file, late]);
  await ready;
  const opened = new Promise((resolve) => child.stdout.on('data', (d) => { if (String(d).includes('late')) resolve(); }));
  child.kill('SIGTERM');
  await opened;
  child.kill('SIGTERM');
  writeFileSync(`${file}.go`, '');
  const { signal, stderr } = await exited;
  assert.equal(signal, 'SIGTERM', stderr);
  assert.deepEqual(idsIn(file), ['sid']);
  assert.deepEqual(idsIn(late), ['late'], 'the store opened during the close saved too');
  assert.equal(existsSync(`${late}.lock`), false);
});

test('closeOnSignals refuses signals that cannot be caught or do not exist, before touching the file', (t) => {
  const file = join(tempDir(t), 'a.db');
  for (const bad of [['SIGKILL'], ['SIGSTOP'], ['SIGFOO'], 'SIGTERM']) {
    assert.throws(() => new MemFileStore({ saveFile: file, closeOnSignals: bad }), (err) => err instanceof TypeError && /closeOnSignals/.test(err.message));
  }
  assert.equal(existsSync(`${file}.lock`), false);
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  return store.ready;
});

test('a flush() started from a settled flush() never runs beside the queued one; close() then loses nothing', async (t) => {
  const file = join(tempDir(t), 'a.db');
  const fs = faultyFs();
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, fs }));
  await store.ready;
  await call(store, 'set', 'a', session({ user: 'a' }));
  fs.faults.writeDelayMs = 20;
  let open = 0;
  let most = 0;
  const realOpen = fs.open;
  fs.open = async (...args) => {
    const handle = await realOpen(...args);
    if (!String(args[0]).includes('.tmp-')) return handle;
    most = Math.max(most, ++open);
    const close = handle.close.bind(handle);
    handle.close = async () => { open--; return close(); };
    return handle;
  };
  const first = store.flush();
  await call(store, 'set', 'b', session({ user: 'b' }));
  const queued = store.flush();
  const late = first.then(async () => {
    await call(store, 'set', 'c', session({ user: 'c' }));
    return store.flush();
  });
  await Promise.all([first, queued, late]);
  await call(store, 'set', 'd', session({ user: 'd' }));
  await store.close();
  assert.equal(most, 1, 'one save at a time');
  assert.deepEqual(idsIn(file), ['a', 'b', 'c', 'd']);
});

test('after close(), flush() rejects with ERR_STORE_CLOSED like every other call', async (t) => {
  const file = join(tempDir(t), 'a.db');
  const store = new MemFileStore({ saveFile: file, savePeriod: 0 });
  await store.ready;
  await store.close();
  await assert.rejects(store.flush(), (err) => err.code === 'ERR_STORE_CLOSED');
  assert.equal((await callError(store, 'get', 'a')).code, 'ERR_STORE_CLOSED');
  const memoryOnly = new MemFileStore();
  await memoryOnly.close();
  await assert.rejects(memoryOnly.flush(), (err) => err.code === 'ERR_STORE_CLOSED');
});

test('a file that merely starts like a temp file is not removed at start', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'a.db');
  writeFileSync(join(dir, 'a.db.tmp-old-backup'), 'keep me');
  writeFileSync(join(dir, `a.db.tmp-${process.pid + 1}-0123456789ab`), 'left by a killed save');
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await store.ready;
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('.tmp-')), ['a.db.tmp-old-backup']);
});

test('get of stored text that is not JSON fails without quoting it; a cookie whose toJSON gives undefined is dropped, not stored as undefined', async (t) => {
  const store = new MemFileStore();
  t.after(() => store.close());
  store.store.set('raw', '{"cookie":{},"secret":"hunter2"', { size: 10 });
  const err = await callError(store, 'get', 'raw');
  assert.ok(err instanceof SyntaxError);
  assert.doesNotMatch(err.message, /hunter2/);
  await call(store, 'set', 'a', session({ n: 1 }));
  await call(store, 'touch', 'a', { cookie: { toJSON: () => undefined } });
  assert.deepEqual(await call(store, 'get', 'a'), { n: 1 });
});
