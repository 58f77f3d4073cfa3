// I/O errors: unusable paths at start (real ENOTDIR and EISDIR: tests run as root, so chmod cannot produce
// EACCES), and ENOSPC/EIO/failing renames injected through the store's `fs` seam while saving.
// A failed save is loud (flush() rejects, 'error' or a warning for background saves), keeps everything in
// memory and the old file byte for byte, leaves no temp file, and the next save after the fault succeeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import {
  call, callError, decodeSnapshot, faultyFs, fileState, nextEvent, session, startChild, tempDir, tempFiles, track,
} from './fixtures/persist/helpers.mjs';

const idsInFile = (file) => decodeSnapshot(readFileSync(file)).records.map((r) => r.id);

async function startRefused(saveFile, options = {}) {
  const store = new MemFileStore({ saveFile, ...options });
  const err = await store.ready.then(() => assert.fail('ready resolved'), (e) => e);
  return { store, err };
}

test('saveFile is a directory: ready rejects with EISDIR naming it, calls fail with that error', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  mkdirSync(file);
  const { store, err } = await startRefused(file);
  assert.equal(err.code, 'EISDIR');
  assert.ok(err.message.includes(file), err.message);
  assert.equal(await callError(store, 'get', 'a'), err);
  assert.equal(await callError(store, 'set', 'a', session({ user: 'a' })), err);
  await assert.rejects(store.flush(), (e) => e === err);
  await store.close();
  assert.deepEqual(readdirSync(dir), ['sessions.db'], 'no lock file or temp file left');

  // onDamagedFile: 'move-aside' is for damaged snapshots, not for paths that cannot be used.
  const aside = await startRefused(file, { onDamagedFile: 'move-aside' });
  assert.equal(aside.err.code, 'EISDIR');
  assert.deepEqual(readdirSync(dir), ['sessions.db']);
});

test('a journal path that is a directory: ready rejects with EISDIR naming the journal, not only the saveFile', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  mkdirSync(`${file}.journal.1`);
  const { store, err } = await startRefused(file);
  assert.equal(err.code, 'EISDIR');
  assert.ok(err.message.includes(`"${file}.journal.1" beside it: it is a directory`), err.message);
  await store.close();
  assert.deepEqual(readdirSync(dir), ['sessions.db.journal.1'], 'nothing written, no lock left');
});

test('a parent of saveFile is a file: ready rejects with ENOTDIR naming it', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'not-a-dir'), 'a plain file');
  const file = join(dir, 'not-a-dir', 'sessions.db');
  const { store, err } = await startRefused(file);
  assert.equal(err.code, 'ENOTDIR');
  assert.ok(err.message.includes(file), err.message);
  assert.equal(await callError(store, 'length'), err);
  assert.equal(readFileSync(join(dir, 'not-a-dir'), 'utf8'), 'a plain file');
});

/** A store with one good snapshot on disk (session "a") and an unsaved change (session "b"). */
async function storeWithSnapshot(t, options = {}) {
  const file = join(tempDir(t), 'sessions.db');
  const fs = faultyFs();
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, fs, ...options }));
  await store.ready;
  await call(store, 'set', 'a', session({ user: 'alice' }));
  await store.flush();
  const good = fileState(file);
  await call(store, 'set', 'b', session({ user: 'bob' }));
  return { file, fs, store, good };
}

async function assertIntact({ file, store, good }) {
  assert.deepEqual(fileState(file), good, 'the old file is untouched, byte for byte');
  assert.deepEqual(tempFiles(file), [], 'no temp file remains');
  assert.deepEqual(await call(store, 'ids'), ['b', 'a'], 'memory is intact');
  assert.deepEqual(await call(store, 'get', 'b'), session({ user: 'bob' }));
}

// The `fs` seam is the store's to call, and what it throws is the store's to report: a value that is not an Error
// (null, undefined, a string) is reported as one naming the file, as an Error is, never a TypeError of the store's own.
for (const thrown of [null, undefined, 'disk says no']) {
  test(`flush() rejects naming the file when a save's fs throws ${String(thrown)}, keeping memory and the old file`, async (t) => {
    const ctx = await storeWithSnapshot(t);
    const { fs, store } = ctx;
    const open = fs.open;
    fs.open = async (path, ...rest) => {
      if (String(path).includes('.tmp-')) throw thrown;
      return open.call(fs, path, ...rest);
    };
    const err = await store.flush().then(() => assert.fail('flush() resolved'), (e) => e);
    assert.ok(err instanceof Error, `an Error, got ${String(err)}`);
    assert.match(err.message, /could not save ".*sessions\.db" \(the previous snapshot is intact\)/);
    fs.open = open;
    await assertIntact(ctx);
  });
}

for (const [fault, code] of [['write', 'ENOSPC'], ['write', 'EIO'], ['sync', 'EIO'], ['rename', 'EIO'], ['open', 'ENOSPC']]) {
  test(`flush() rejects on ${code} from ${fault}, keeping memory and the old file; the next save succeeds`, async (t) => {
    const ctx = await storeWithSnapshot(t);
    const { file, fs, store } = ctx;
    fs.faults[fault] = code;
    const err = await store.flush().then(() => assert.fail('flush() resolved'), (e) => e);
    assert.equal(err.code, code, 'the fs error code is kept');
    assert.ok(err.message.includes(file), err.message);
    await assertIntact(ctx);
    const { persistence } = store.stats;
    assert.equal(persistence.lastSave.outcome, 'error');
    assert.match(persistence.lastSave.error, new RegExp(code));
    assert.ok(persistence.changesSinceSave > 0, 'the change is still to be saved');

    fs.faults[fault] = null;
    await store.flush();
    assert.deepEqual(idsInFile(file), ['a', 'b']);
    assert.equal(store.stats.persistence.lastSave.outcome, 'ok');
    assert.equal(store.stats.persistence.changesSinceSave, 0);
    assert.deepEqual(tempFiles(file), []);
  });
}

test('a failing background save emits "error", keeps everything, and is retried at the next period', async (t) => {
  const ctx = await storeWithSnapshot(t, { savePeriod: 15 });
  const { file, fs, store } = ctx;
  fs.faults.write = 'ENOSPC';
  // A periodic save that began before the fault (on a busy machine, while "b" was set) may still complete:
  // the file it leaves is the one that must then stay untouched.
  while (store.stats.persistence.saving) await new Promise((resolve) => setTimeout(resolve, 2));
  ctx.good = fileState(file);
  const errors = [];
  store.on('error', (err) => errors.push(err));
  store.set('c', session({ user: 'carol' }));
  const err = await nextEvent(store, 'error');
  assert.equal(err.code, 'ENOSPC');
  assert.ok(err.message.includes(file), err.message);
  assert.deepEqual(fileState(file), ctx.good);
  assert.deepEqual(tempFiles(file), []);
  assert.equal(store.stats.persistence.lastSave.outcome, 'error');
  await nextEvent(store, 'error'); // retried at the next period, still failing
  assert.equal(await call(store, 'length'), 3);

  fs.faults.write = null;
  await nextEvent(store, 'save');
  assert.deepEqual(idsInFile(file), ['a', 'b', 'c']);
  assert.equal(store.stats.persistence.lastSave.outcome, 'ok');
  assert.ok(errors.length >= 2);
});

test('a failing background save with no "error" listener warns and does not crash the process', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const child = startChild(t, 'bg-fault', [file]);
  const [, json] = await child.line(/^(\{.*\})$/);
  const report = JSON.parse(json);
  assert.deepEqual(await child.exited, { code: 0, signal: null }, child.stderr);
  assert.ok(report.warnings.length >= 1, 'a process warning for the failed save');
  for (const warning of report.warnings) {
    assert.equal(warning.code, 'ENOSPC');
    assert.ok(warning.message.includes(file), warning.message);
  }
  assert.equal(report.failed.outcome, 'error');
  assert.equal(report.saved, true, 'saved once the fault cleared');
  assert.match(report.file, /^express-memfilestore-snapshot 2 /);
});

test('close() with a failing final save rejects, keeps the lock and the data; a second close() saves', async (t) => {
  const ctx = await storeWithSnapshot(t);
  const { file, fs, store } = ctx;
  fs.faults.rename = 'EIO';
  await assert.rejects(store.close(), { code: 'EIO' });
  assert.deepEqual(fileState(file), ctx.good);
  assert.deepEqual(tempFiles(file), []);
  assert.equal(existsSync(`${file}.lock`), true, 'the lock is kept: the store still owns unsaved sessions');
  const other = new MemFileStore({ saveFile: file });
  await assert.rejects(other.ready, { code: 'ERR_SNAPSHOT_LOCKED' });

  fs.faults.rename = null;
  await store.close();
  assert.deepEqual(idsInFile(file), ['a', 'b']);
  assert.equal(existsSync(`${file}.lock`), false);
});

test('the directory removed while running: flush() rejects, the store keeps serving', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  const store = new MemFileStore({ saveFile: file, savePeriod: 0 });
  await store.ready;
  await call(store, 'set', 'a', session({ user: 'alice' }));
  await store.flush();
  rmSync(dir, { recursive: true });

  await call(store, 'set', 'b', session({ user: 'bob' }));
  const err = await store.flush().then(() => assert.fail('flush() resolved'), (e) => e);
  assert.equal(err.code, 'ENOENT');
  assert.ok(err.message.includes(file), err.message);
  // It said "the previous snapshot is intact", gone with its directory.
  assert.doesNotMatch(err.message, /intact/);
  assert.ok(err.message.includes(`its directory "${dir}" is gone`), err.message);
  assert.deepEqual(await call(store, 'get', 'a'), session({ user: 'alice' }));
  await call(store, 'set', 'c', session({ user: 'carol' }));
  assert.deepEqual(await call(store, 'ids'), ['c', 'a', 'b']);
  assert.equal(store.stats.persistence.lastSave.outcome, 'error');

  // The directory comes back: the next save writes everything.
  mkdirSync(dir);
  await store.close();
  assert.deepEqual(idsInFile(file), ['b', 'a', 'c']);
});

test('saveFile that is a symbolic link is refused plainly, and neither it nor its target is touched', async (t) => {
  const dir = tempDir(t);
  const target = join(dir, 'elsewhere.db');
  writeFileSync(target, 'not ours to overwrite');
  const file = join(dir, 'sessions.db');
  symlinkSync(target, file);
  const { store, err } = await startRefused(file);
  assert.ok(err.message.includes(file), err.message);
  assert.match(err.message, /symbolic link/);
  assert.equal(err.code, 'ELOOP', 'a code, as every other reason ready rejects with');
  assert.equal(await callError(store, 'get', 'a'), err);
  assert.equal(readFileSync(target, 'utf8'), 'not ours to overwrite');
  assert.equal(readlinkSync(file), target);
  assert.deepEqual(readdirSync(dir).sort(), ['elsewhere.db', 'sessions.db']);
});

test('a missing directory: the message says that directory does not exist, not its parent (which does)', async (t) => {
  const dir = tempDir(t);
  const missing = join(dir, 'no-such-dir');
  const store = new MemFileStore({ saveFile: join(missing, 'sessions.db') });
  const err = await store.ready.then(() => assert.fail('ready resolved'), (e) => e);
  await store.close();
  assert.equal(err.code, 'ENOENT');
  assert.ok(existsSync(dir), 'the parent exists');
  assert.doesNotMatch(err.message, new RegExp(`directory "${dir}" does not exist`), err.message);
  assert.match(err.message, new RegExp(`"${missing}" does not exist`), err.message);
});
