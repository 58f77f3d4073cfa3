// While a failed journal's recovery snapshots kept failing after creating their new journal
// (a disk with room for a journal header, not for a snapshot), every retry (one a second) left one more header-only
// journal beside the snapshot, until a snapshot succeeded: 3,600 files an hour, each taking a block and an inode on
// the disk that is already full, and each opened by the next start. Those journals never receive a record before
// the snapshot naming them is durable, so JournalWriter.openNext now removes the one a failed retry created when the
// next retry replaces it, unless a snapshot naming it may be on disk (durable, or renamed into place with its
// directory sync failed). The other tests here check that a start at any of those points loads every session
// written to a journal and refuses nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { call, fsError, session, tempDir } from './fixtures/persist/helpers.mjs';
import { crashCopy, journals, open, storeWithErrors, until } from './fixtures/journal/helpers.mjs';

test('failed recovery snapshots do not leave one more journal file each', {
  timeout: 20_000,
}, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const { store, fs, errors } = await storeWithErrors(t, file, { journal: 'everysec', savePeriod: 0 });
  await store.flush();
  fs.faults.journalWrite = 'EIO';
  await call(store, 'set', 'fails-the-journal', session({}));
  await until(() => errors.length > 0, 5000, 'the journal failure');
  fs.faults.journalWrite = null;
  fs.faults.open = 'ENOSPC';
  for (let retry = 0; retry < 6; retry++) await assert.rejects(store.flush(), /ENOSPC/);
  assert.ok(journals(file).length <= 3, `${journals(file).length} journal files after 6 failed recovery snapshots`);
  fs.faults.open = null;
});

/** `ids` of a store opened on `file` (a start that refuses throws here), sorted. */
async function idsAfterStart(t, file) {
  const store = await open(t, file, { journal: 'everysec' });
  return (await call(store, 'ids')).sort();
}

/** Fails the journal of `store` with a change whose write fails ('everysec': memory keeps it). */
async function failJournal(store, fs, errors, id) {
  fs.faults.journalWrite = 'EIO';
  await call(store, 'set', id, session({}));
  await until(() => errors.length > 0, 5000, 'the journal failure');
  fs.faults.journalWrite = null;
}

test('a start after failed recovery snapshots, and after one succeeds, loads every session and refuses nothing', {
  timeout: 20_000,
}, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const { store, fs, errors } = await storeWithErrors(t, file, { journal: 'everysec', savePeriod: 0 });
  await store.flush(); // the snapshot names the journal 'in-old' goes to
  await call(store, 'set', 'in-old', session({}));
  // A healthy rotation whose snapshot fails: its journal is named by no snapshot, yet receives records (it continues
  // the named one), so it is not a failed retry's leftover and must stay.
  fs.faults.open = 'ENOSPC';
  await assert.rejects(store.flush(), /ENOSPC/);
  await call(store, 'set', 'in-new', session({}));
  await failJournal(store, fs, errors, 'fails');
  for (let retry = 0; retry < 6; retry++) await assert.rejects(store.flush(), /ENOSPC/);
  let files;
  await until(() => {
    if (store.stats.persistence.saving) return false;
    files = journals(file).length;
    return true;
  }, 5000, 'no save in progress');
  assert.equal(files, 3, "the named journal, the one holding 'in-new', the last retry's");
  // A crash now: the journals left hold every change written to one ('fails' was never written: its write failed).
  assert.deepEqual(await idsAfterStart(t, crashCopy(t, file)), ['before', 'in-new', 'in-old']);

  fs.faults.open = null;
  await store.flush(); // recovers the journal
  assert.equal(store.stats.persistence.journal.failed, false);
  await call(store, 'set', 'after', session({}));
  assert.deepEqual(await idsAfterStart(t, crashCopy(t, file)), ['after', 'before', 'fails', 'in-new', 'in-old']);
  assert.equal(journals(file).length, 1, 'the snapshot absorbed the rest');
  // That journal, created by a failed retry, is named by the durable snapshot and holds 'after': when it fails in
  // turn, the next failed retry keeps it.
  await failJournal(store, fs, errors, 'fails-again');
  fs.faults.open = 'ENOSPC';
  for (let retry = 0; retry < 2; retry++) await assert.rejects(store.flush(), /ENOSPC/);
  assert.deepEqual(await idsAfterStart(t, crashCopy(t, file)), ['after', 'before', 'fails', 'in-new', 'in-old']);
  fs.faults.open = null;
  await store.close();
  assert.deepEqual(await idsAfterStart(t, file), ['after', 'before', 'fails', 'fails-again', 'in-new', 'in-old']);
});

test('the journal a snapshot renamed into place names stays, though its directory sync failed', {
  timeout: 20_000,
}, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  const { store, fs, errors } = await storeWithErrors(t, file, { journal: 'everysec', savePeriod: 0 });
  await store.flush();
  await failJournal(store, fs, errors, 'fails');
  // The next directory sync after a rename fails: the recovery snapshot is in place, naming its new journal, but
  // not durable, so the journal stays failed and the next retries rotate again.
  const realOpen = fs.open;
  const armedAt = fs.events.length;
  let dirSyncFailed = false;
  fs.open = async (path, flags, mode) => {
    if (!dirSyncFailed && path === dir && fs.events.length > armedAt && fs.events.at(-1)[0] === 'rename') {
      dirSyncFailed = true;
      throw fsError('EIO', 'open', path);
    }
    return realOpen(path, flags, mode);
  };
  await assert.rejects(store.flush(), /its directory could not be synced/);
  assert.equal(dirSyncFailed, true);
  assert.equal(store.stats.persistence.journal.failed, true);
  fs.faults.open = 'ENOSPC';
  for (let retry = 0; retry < 3; retry++) await assert.rejects(store.flush(), /ENOSPC/);
  // The snapshot in place names a journal of a failed retry: a start finds it ("missing" had it been removed).
  assert.deepEqual(await idsAfterStart(t, crashCopy(t, file)), ['before', 'fails']);
  fs.faults.open = null;
});

test("a failed retry's empty journal is removed also when the next retry cannot create its own journal", {
  timeout: 20_000,
}, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const { store, fs, errors } = await storeWithErrors(t, file, { journal: 'everysec', savePeriod: 0 });
  await store.flush(); // the snapshot names the journal the failure hits
  const named = store.stats.persistence.journal.file;
  await failJournal(store, fs, errors, 'fails');
  fs.faults.open = 'ENOSPC'; // this retry creates its journal, then fails at the snapshot's temp file
  await assert.rejects(store.flush(), /ENOSPC/);
  const unnamed = store.stats.persistence.journal.file;
  assert.deepEqual(journals(file), [named, unnamed]);
  fs.faults.open = null;
  fs.faults.journalOpen = 'ENOSPC'; // the next retry fails creating its journal: it replaced the unnamed one all the same
  await assert.rejects(store.flush(), /ENOSPC/);
  fs.faults.journalOpen = null;
  assert.deepEqual(journals(file), [named], 'only the journal the snapshot on disk names');
  await store.flush(); // recovers
  assert.equal(store.stats.persistence.journal.failed, false);
  assert.deepEqual(await idsAfterStart(t, crashCopy(t, file)), ['before', 'fails']);
});
