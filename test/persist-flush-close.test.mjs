// When the store saves: flush() now (only if something changed), close() a final time, every savePeriod
// when something changed. One save at a time; calls during a save coalesce into one more save.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemFileStore } from 'express-memfilestore';
import {
  call, callError, countEvents, decodeSnapshot, faultyFs, fileState, fsError, HOUR, manualClock, nextEvent, session, tempDir,
  tempFiles, track,
} from './fixtures/persist/helpers.mjs';

const idsInFile = (file) => decodeSnapshot(readFileSync(file)).records.map((r) => r.id);

test('flush() with nothing changed writes nothing (same inode, mtime and bytes)', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await store.ready;
  const saves = countEvents(store, 'save');
  await call(store, 'set', 'a', session({ user: 'alice' }));
  await store.flush();
  assert.equal(saves.length, 1);
  const before = fileState(file);
  const [saved] = saves;
  assert.equal(saved.outcome, 'ok');
  assert.equal(saved.bytes, before.bytes.length);
  assert.equal(saved.sessions, 1);
  assert.equal(typeof saved.at, 'number');
  assert.equal(typeof saved.durationMs, 'number');
  await call(store, 'get', 'a'); // reading is not a change
  await store.flush();
  await store.flush();
  assert.deepEqual(fileState(file), before);
  assert.equal(saves.length, 1);

  const { persistence } = store.stats;
  assert.equal(persistence.changesSinceSave, 0);
  assert.equal(persistence.lastSave.outcome, 'ok');
  assert.equal(persistence.lastSave.bytes, before.bytes.length);
  assert.equal(persistence.lastSave.sessions, 1);
  assert.equal(typeof persistence.lastSuccessAt, 'number');
  await store.close();
  // close() rewrote it once: a snapshot that stands alone, without the journal the running store kept beside it.
  const closed = fileState(file);
  assert.match(closed.bytes.toString('latin1').split('\n')[0], / nojournal( \d+)?$/);

  // A store that just loaded the file has nothing to write, nor at close().
  const again = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await again.ready;
  await again.flush();
  await again.close();
  assert.deepEqual(fileState(file), closed);
});

test('flush() with nothing changed leaves the store idle (stats.persistence.saving is false)', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await store.ready;
  await store.flush(); // nothing to save yet
  assert.equal(store.stats.persistence.saving, false, 'no save is running after flush() resolved');
  await call(store, 'set', 'a', session({ user: 'alice' }));
  await store.flush();
  await store.flush(); // nothing changed since the last save
  assert.equal(store.stats.persistence.saving, false, 'no save is running after flush() resolved');
});

test('flush() with nothing changed does not stop the periodic saves', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 20 }));
  await store.ready;
  await store.flush(); // nothing to save yet (as an app calling flush() at start or from a health check)
  await call(store, 'set', 'a', session({ user: 'alice' }));
  await nextEvent(store, 'save', 3000); // 150 save periods
  assert.deepEqual(idsInFile(file), ['a']);
});

test('concurrent flush() calls during a save coalesce, and each resolves once its data is on disk', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const fs = faultyFs();
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, fs }));
  await store.ready;
  const saves = countEvents(store, 'save');
  const onDisk = (p) => p.then(() => idsInFile(file));

  store.set('a', session({ user: 'a' }));
  const held = fs.hold(); // the first save stays in progress until released: the later calls arrive while it runs
  const first = onDisk(store.flush());
  await held.reached;
  assert.equal(store.stats.persistence.saving, true);
  store.set('b', session({ user: 'b' }));
  const second = onDisk(store.flush());
  store.set('c', session({ user: 'c' }));
  const rest = [onDisk(store.flush()), onDisk(store.flush()), onDisk(store.flush())];
  held.release();

  assert.deepEqual(await first, ['a']);
  for (const ids of await Promise.all([second, ...rest])) assert.deepEqual(ids, ['a', 'b', 'c']);
  assert.ok(saves.length <= 2, `5 flush() calls, ${saves.length} saves`);
  assert.equal(saves.length, 2);
  // One save at a time: every temp file was renamed before the next one was opened.
  assert.deepEqual(fs.events.map(([op]) => op), ['open', 'rename', 'open', 'rename']);
  assert.equal(store.stats.persistence.saving, false);
});

test('close() loses nothing: changes made right before it are in the file', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const clock = manualClock();
  const store = track(t, new MemFileStore({ saveFile: file, clock: clock.fn })); // default savePeriod: 60 s
  await store.ready;
  for (const id of ['s1', 's2', 's3']) await call(store, 'set', id, session({ user: id }, HOUR));
  await store.flush();
  clock.now += 1000;
  // No waiting for callbacks: what the store accepted before close() must be saved by it.
  store.set('s4', session({ user: 's4' }));
  store.destroy('s1');
  store.touch('s2', session({ user: 's2' }, 2 * HOUR));
  await store.close();

  const { records } = decodeSnapshot(readFileSync(file));
  assert.deepEqual(records.map((r) => r.id), ['s3', 's4', 's2']);
  assert.equal(records.find((r) => r.id === 's2').expires, clock.now + 2 * HOUR, 'the touch moved the expiry');
  assert.equal(existsSync(`${file}.lock`), false, 'close() released the lock');
});

test('close() during a running save waits for it and saves the later changes too', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const fs = faultyFs();
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, fs }));
  await store.ready;
  store.set('a', session({ user: 'a' }));
  const held = fs.hold();
  const flushed = store.flush();
  await held.reached;
  store.set('b', session({ user: 'b' }));
  const closed = [store.close(), store.close()];
  held.release();
  await Promise.all([flushed, ...closed]);
  assert.deepEqual(idsInFile(file), ['a', 'b']);
  assert.deepEqual(tempFiles(file), []);
});

test('after close() every method calls back with ERR_STORE_CLOSED', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const store = track(t, new MemFileStore({ saveFile: file }));
  await store.ready;
  await call(store, 'set', 'a', session({ user: 'a' }));
  await store.close();
  for (const [method, args] of [
    ['get', ['a']], ['set', ['b', session({ user: 'b' })]], ['touch', ['a', session({})]], ['destroy', ['a']],
    ['all', []], ['length', []], ['ids', []], ['clear', []],
  ]) {
    const err = await callError(store, method, ...args);
    assert.equal(err.code, 'ERR_STORE_CLOSED', method);
  }
  await store.close(); // a second close() is harmless
  assert.deepEqual(idsInFile(file), ['a'], 'nothing done after close() reached the file');
});

test('periodic saves happen only when something changed', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 15 }));
  await store.ready;
  const saves = countEvents(store, 'save');
  await call(store, 'set', 'a', session({ user: 'a' }));
  await nextEvent(store, 'save');
  const before = fileState(file);
  const count = saves.length;

  await sleep(200); // more than ten periods of serving reads only
  await call(store, 'get', 'a');
  await sleep(50);
  assert.equal(saves.length, count, 'no save while nothing changed');
  assert.deepEqual(fileState(file), before);

  await call(store, 'set', 'b', session({ user: 'b' }));
  await nextEvent(store, 'save');
  assert.deepEqual(idsInFile(file), ['a', 'b']);

  store.stopSaveInterval();
  assert.equal(store._saveInterval, undefined);
  await call(store, 'set', 'c', session({ user: 'c' }));
  await sleep(100);
  assert.deepEqual(idsInFile(file), ['a', 'b'], 'no periodic save after stopSaveInterval()');
  store.startSaveInterval();
  await nextEvent(store, 'save');
  assert.deepEqual(idsInFile(file), ['a', 'b', 'c']);
  assert.ok(statSync(file).size > 0);
});

test('a save is a point-in-time snapshot: changes made while it is being written wait for the next save', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const fs = faultyFs();
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, fs }));
  await store.ready;
  for (let i = 0; i < 2500; i++) store.set(`s${i}`, session({ user: `u${i}`, version: 1 }));
  const held = fs.hold();
  const first = store.flush();
  await held.reached; // the save has begun: its first chunk waits to be written
  for (let i = 0; i < 2500; i += 2) store.set(`s${i}`, session({ user: `u${i}`, version: 2 }));
  store.destroy(['s1', 's3', 's2499']);
  await call(store, 'get', 's5'); // recency changes during the save do not leak into it either
  held.release();
  await first;
  const written = decodeSnapshot(readFileSync(file)).records;
  assert.equal(written.length, 2500);
  assert.deepEqual(written.map((r) => r.id), Array.from({ length: 2500 }, (_, i) => `s${i}`));
  assert.ok(written.every((r) => JSON.parse(r.value).version === 1), 'only what was there when the save began');

  await store.flush();
  const next = decodeSnapshot(readFileSync(file)).records;
  assert.equal(next.length, 2497);
  assert.equal(next.at(-1).id, 's5');
  assert.equal(JSON.parse(next.find((r) => r.id === 's0').value).version, 2);
});

test("close() whose final snapshot is renamed into place but its directory sync fails rejects with that save's error; a second close() saves", async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const fs = faultyFs();
  let dirSync = null;
  const openFile = fs.open;
  fs.open = async (path, flags, mode) => {
    const handle = await openFile(path, flags, mode);
    if (String(path).includes('.tmp-')) return handle;
    return {
      // Only the sync that makes the snapshot's rename durable.
      sync: async () => {
        if (dirSync && fs.events.at(-1)?.[0] === 'rename') throw fsError(dirSync, 'fsync', path);
        await handle.sync();
      },
      close: () => handle.close(),
    };
  };
  // The journal on: the final snapshot stands alone (it names no next journal).
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, journal: 'everysec', fs }));
  await store.ready;
  store.on('error', () => undefined);
  await call(store, 'set', 'a', session({ user: 'alice' }));
  dirSync = 'EIO';
  await assert.rejects(store.close(), (err) => {
    assert.equal(err.code, 'EIO', err.stack);
    assert.match(err.message, /its directory could not be synced/);
    return true;
  });
  dirSync = null;
  await store.close();
  assert.deepEqual(idsInFile(file), ['a']);
});
