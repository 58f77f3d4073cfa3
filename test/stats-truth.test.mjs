// `store.stats` and the events measured against what happened (what an operator's dashboard and alerts read): each
// figure checked against the files on disk or the event it describes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { call, session, tempDir } from './fixtures/persist/helpers.mjs';
import { crashCopy, journalFs, journals, open, until } from './fixtures/journal/helpers.mjs';
import { mountTmpfs } from './fixtures/tmpfs.mjs';

test("a 'save' listener reads the stats of a save that is over: saving is false, lastSave is the event's", async (t) => {
  const store = await open(t, join(tempDir(t), 'sessions.db'));
  const seen = [];
  store.on('save', (info) => { seen.push({ info, persistence: store.stats.persistence }); });
  await call(store, 'set', 'a', session({}));
  await store.flush();
  assert.equal(seen.length, 1);
  const [{ info, persistence }] = seen;
  assert.equal(persistence.saving, false, "the save the 'save' event reports is not in flight any more");
  assert.deepEqual(persistence.lastSave, info);
  assert.equal(persistence.lastSuccessAt, info.at);
  assert.equal(persistence.changesSinceSave, 0);
});

test('changesSinceSave after a restart counts the journal records replayed, which the snapshot does not hold', async (t) => {
  const running = await open(t, join(tempDir(t), 'sessions.db'));
  await call(running, 'set', 'a', session({}));
  await running.flush();
  await call(running, 'set', 'b', session({}));
  await call(running, 'set', 'c', session({}));
  await call(running, 'touch', 'a', session({}));
  await call(running, 'destroy', 'b');
  const store = await open(t, crashCopy(t, running.stats.persistence.file));
  assert.equal(store.stats.persistence.load.journalRecords, 4);
  assert.equal(store.stats.persistence.changesSinceSave, 4, 'four changes since the last successful save');
  await store.flush();
  assert.equal(store.stats.persistence.changesSinceSave, 0);
});

test('everysec: one sync that takes over a second counts as one delayed sync, not once per tick and again at its end', { timeout: 20_000 }, async (t) => {
  const fs = journalFs();
  const store = await open(t, join(tempDir(t), 'sessions.db'), { fs });
  await call(store, 'set', 'a', session({})); // creates the journal (its first sync is made on creation)
  fs.faults.syncDelayMs = 2500;
  await call(store, 'set', 'b', session({}));
  // The store's timers are unref'd: keep the loop alive until the periodic sync of 'b' has completed.
  const alive = setInterval(() => undefined, 100);
  t.after(() => clearInterval(alive));
  await until(() => store.stats.persistence.journal.lastSyncAt !== undefined, 10_000, 'the slow sync');
  fs.faults.syncDelayMs = 0;
  const syncs = fs.synced.filter((s) => s.path === store.stats.persistence.journal.file);
  assert.equal(syncs.length, 2, 'the sync at creation, then the one slow periodic sync');
  assert.equal(store.stats.persistence.journal.delayedSyncs, 1);
});

test('lastError still names the last journal failure once a snapshot has recovered from it; failed says it is over', { timeout: 20_000 }, async (t) => {
  const fs = journalFs();
  const store = await open(t, join(tempDir(t), 'sessions.db'), { fs });
  const errors = [];
  store.on('error', (err) => errors.push(err));
  await call(store, 'set', 'a', session({}));
  fs.faults.journalWrite = 'EIO';
  await call(store, 'set', 'b', session({}));
  await until(() => errors.length === 1, 5000, "the journal's 'error'");
  fs.faults.journalWrite = null;
  assert.equal(store.stats.persistence.journal.lastError, errors[0].message);
  await until(() => !store.stats.persistence.journal.failed, 10_000, 'the recovery snapshot');
  assert.equal(store.stats.persistence.journal.lastError, errors[0].message, 'a failure an operator polled past still shows');
});

test("a journal that cannot be created is reported after the change that found it, not inside it (nor inside lru-cache's eviction)", async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const first = await open(t, file);
  await call(first, 'set', 'old', session({}));
  await first.close(); // a snapshot that stands alone: the next start creates its journal at its first change
  const fs = journalFs();
  fs.faults.journalOpen = 'ENOSPC';
  // max 1: the first change is the eviction of 'old', journaled from inside lru-cache's set of 'new'.
  const store = await open(t, file, { max: 1, fs });
  let inside = false;
  const reported = new Promise((resolve) => {
    store.once('error', (err) => {
      resolve({ err, inside });
      // A listener that changes the store, as one may (a session to log out): the cache must stay whole.
      store.set('from-listener', session({}), () => undefined);
    });
  });
  inside = true;
  const set = call(store, 'set', 'new', session({}));
  inside = false;
  const { err, inside: wasInside } = await reported;
  assert.equal(err.code, 'ERR_JOURNAL_FAILED');
  assert.equal(wasInside, false, "the 'error' listener ran inside store.set()");
  await set;
  fs.faults.journalOpen = null;
  const found = [];
  for (const id of ['old', 'new', 'from-listener']) if (await call(store, 'get', id)) found.push(id);
  assert.deepEqual(await call(store, 'ids'), found, 'every session served is listed');
  assert.equal(found.length, 1, 'max: 1');
});

/** Whole records and their bytes in the journals beside `file`, parsed here from the format (header line, then records). */
function journalOnDisk(file) {
  let records = 0;
  let bytes = 0;
  for (const path of journals(file)) {
    const b = readFileSync(path);
    let pos = b.indexOf(0x0a) + 1;
    const start = pos;
    for (;;) {
      const nl = b.indexOf(0x0a, pos);
      const m = nl < 0 ? null : /^[0-9a-f]{8} [stdc] \d+ \d+ (\d+) (\d+)$/.exec(b.toString('latin1', pos, nl));
      if (m === null) break;
      pos = nl + 1 + Number(m[1]) + 1 + Number(m[2]) + 1;
      records++;
    }
    bytes += pos - start;
  }
  return { records, bytes };
}

const journalStats = (store) => {
  const { records, bytes } = store.stats.persistence.journal;
  return { records, bytes };
};

test('journal bytes and records match the files through changes, a snapshot, a real disk full and its recovery, and a restart', { timeout: 30_000 }, async (t) => {
  const disk = mountTmpfs(t, 'size=256k');
  if (disk === undefined) return;
  const file = join(disk.mnt, 'sessions.db');
  const store = disk.keep(await open(t, file));
  const errors = [];
  store.on('error', (err) => errors.push(err));
  for (let i = 0; i < 3; i++) await call(store, 'set', `s${i}`, session({ i, pad: 'x'.repeat(1000) }));
  await call(store, 'touch', 's0', session({ i: 0, pad: 'x'.repeat(1000) }));
  await call(store, 'destroy', 's1');
  await call(store, 'destroy', 'missing'); // nothing to journal
  assert.deepEqual(journalStats(store), journalOnDisk(file));
  assert.equal(store.stats.persistence.journal.records, 5);
  await call(store, 'clear');
  assert.deepEqual(journalStats(store), journalOnDisk(file));
  await store.flush();
  assert.deepEqual(journalStats(store), { records: 0, bytes: 0 });
  assert.deepEqual(journalOnDisk(file), { records: 0, bytes: 0 });
  await call(store, 'set', 'a', session({ pad: 'y'.repeat(1000) }));
  assert.deepEqual(journalStats(store), journalOnDisk(file));

  // The disk fills: the record that does not fit is cut off, and the stats say what the file holds.
  const fillers = [];
  for (const size of [16 * 1024, 4096]) {
    try {
      for (;;) {
        const name = join(disk.mnt, `fill-${fillers.length}`);
        writeFileSync(name, Buffer.alloc(size, 1));
        fillers.push(name);
      }
    } catch (err) {
      assert.equal(err.code, 'ENOSPC');
    }
  }
  await call(store, 'set', 'b', session({ pad: 'z'.repeat(8000) }));
  await until(() => errors.length === 1, 5000, "the journal's 'error'");
  assert.equal(store.stats.persistence.journal.failed, true);
  assert.deepEqual(journalStats(store), journalOnDisk(file));
  const copy = crashCopyTo(file, join(tempDir(t), 'during.db')); // what a kill -9 leaves now
  for (const name of fillers) rmSync(name);
  await until(() => !store.stats.persistence.journal.failed, 10_000, 'the recovery snapshot');
  assert.deepEqual(journalStats(store), journalOnDisk(file));

  // A restart continues the journal it replayed: the stats count what it holds.
  const restarted = await open(t, copy);
  assert.deepEqual(journalStats(restarted), journalOnDisk(copy));
  assert.equal(restarted.stats.persistence.load.journalRecords, journalOnDisk(copy).records);
  await call(restarted, 'set', 'c', session({}));
  assert.deepEqual(journalStats(restarted), journalOnDisk(copy));
});

/** The snapshot and journals of a running store copied beside `to` (named as it): what a kill -9 leaves. */
function crashCopyTo(file, to) {
  for (const name of readdirSync(dirname(file))) {
    if (name === basename(file) || /\.journal\.\d+$/.test(name)) copyFileSync(join(dirname(file), name), join(dirname(to), name.replace(basename(file), basename(to))));
  }
  return to;
}
