// A change acknowledged while a snapshot rotates the journal: its record is held back until the old journal's last
// sync, so in 'everysec' its callback must wait for the write too, or a kill -9 in that window (a few syncs long,
// tens of ms on a busy disk) loses a change the store acknowledged. scripts/journal-crash-loop.mjs found it.
// The syncs are slowed through the store's `fs` seam so the window is wide; the files are real.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as nodeFs from 'node:fs';
import { readdirSync, readFileSync } from 'node:fs';
import * as fsPromises from 'node:fs/promises';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, session, tempDir, track } from './fixtures/persist/helpers.mjs';
import { afterCallbacks } from './fixtures/store-calls.mjs';

const SLOW_SYNC_MS = 60;

/** The fs seam with every asynchronous fdatasync slowed, so a rotation holds records back for a while. */
function slowSyncFs() {
  return {
    open: fsPromises.open,
    rename: fsPromises.rename,
    unlink: fsPromises.unlink,
    fdatasync: (fd, cb) => setTimeout(() => nodeFs.fdatasync(fd, cb), SLOW_SYNC_MS),
  };
}

/** Every journal beside `file`, as text: what a process killed now leaves to the next start. */
function journalText(dir) {
  return readdirSync(dir).filter((name) => name.includes('.journal.')).map((name) => readFileSync(join(dir, name), 'latin1')).join('');
}

for (const mode of ['everysec', 'always']) {
  test(`${mode}: a change acknowledged during a rotation is already in a journal file when its callback runs`, async (t) => {
    const dir = tempDir(t);
    const store = track(t, new MemFileStore({ saveFile: join(dir, 'sessions.db'), savePeriod: 0, journal: mode, fs: slowSyncFs() }));
    await call(store, 'set', 'before', session({ n: 1 }));
    const saving = store.flush(); // rotates now: later records wait for the old journal's sync
    let inFile;
    await new Promise((resolve, reject) => {
      store.set('during', session({ marker: 'written-during-rotation' }), (err) => {
        if (err) return reject(err);
        // Synchronously, as a kill -9 could follow the callback at once: the record must be on the OS's side.
        inFile = journalText(dir).includes('written-during-rotation');
        resolve();
      });
    });
    assert.equal(inFile, true, 'the acknowledged change is in a journal file');
    await saving;
  });

  test(`${mode}: close() during a rotation calls back every held change exactly once, and keeps it`, async (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'sessions.db');
    const store = new MemFileStore({ saveFile: file, savePeriod: 0, journal: mode, fs: slowSyncFs() });
    await call(store, 'set', 'before', session({ n: 1 }));
    const saving = store.flush();
    const calls = [];
    store.set('during', session({ n: 2 }), (err) => calls.push(err ?? null));
    await Promise.all([saving, store.close()]);
    await afterCallbacks(() => calls.length > 0);
    assert.deepEqual(calls, [null], 'one callback, no error');
    const reopened = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, journal: mode }));
    assert.deepEqual((await call(reopened, 'ids')).sort(), ['before', 'during']);
  });
}

// Three snapshots that fail while the first rotation still holds records back: a change held since the first one is
// carried into each next journal, and must stay carried (it was dropped at the third, yet acknowledged).
test('everysec: a change held across several failed snapshots is written before its callback', async (t) => {
  const dir = tempDir(t);
  let failing = 3;
  const fs = {
    ...slowSyncFs(),
    open: (path, ...rest) => {
      if (String(path).includes('.tmp-') && failing > 0) {
        failing--;
        return Promise.reject(Object.assign(new Error('no space left (injected)'), { code: 'ENOSPC' }));
      }
      return fsPromises.open(path, ...rest);
    },
  };
  const store = track(t, new MemFileStore({ saveFile: join(dir, 'sessions.db'), savePeriod: 0, journal: 'everysec', fs }));
  store.on('error', () => undefined);
  await call(store, 'set', 'before', session({ n: 1 }));
  const first = store.flush(); // rotation 1: records held until the old journal's slow sync
  const acked = new Promise((resolve, reject) => {
    store.set('held', session({ marker: 'held-since-first-rotation' }), (err) => {
      if (err) return reject(err);
      resolve(journalText(dir).includes('held-since-first-rotation'));
    });
  });
  const second = store.flush(); // rotation 2, once the first snapshot failed: carries the held record
  await first.catch(() => undefined);
  store.set('later', session({ n: 3 }));
  const third = store.flush(); // rotation 3, once the second failed, while still held
  await Promise.all([second.catch(() => undefined), third.catch(() => undefined)]);
  assert.equal(await acked, true, 'the acknowledged change is in a journal file');
});
