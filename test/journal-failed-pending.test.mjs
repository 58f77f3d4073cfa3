// `stats.persistence.journal.pending` while the journal has failed in 'everysec' mode, after a snapshot's switch to a
// next journal: changes are then acknowledged at once, never written to a journal (the recovery snapshot copies
// memory), so nothing is pending, as after a failed write. Before the fix, a failure during a switch (the next
// journal could not be created, or the old one's last sync failed) left the writer holding records back for a journal
// that would never receive them: every change after it was encoded into memory and counted in `pending` (5, 10, 15 ...
// a turn of 5 sets after another) until the next recovery attempt, where a failed write showed 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { call, fsError, session, tempDir } from './fixtures/persist/helpers.mjs';
import { crashCopy, gatedStore, isJournal, journalFs, open, tracked, turn, until } from './fixtures/journal/helpers.mjs';

/** Five sets in one turn, then that turn's end: what `pending` says once their write would have happened. */
async function turnOfSets(store, round) {
  const sets = [];
  for (let i = 0; i < 5; i++) sets.push(tracked(store, 'set', `s${i}`, session({ round })));
  await turn();
  await turn();
  for (const s of sets) assert.equal(await s.done, null, "'everysec' acknowledges while the journal has failed");
  return store.stats.persistence.journal.pending;
}

/** A kill -9 now, then a start: the ids it loads, sorted. */
async function idsAfterCrash(t, file) {
  return (await call(await open(t, crashCopy(t, file)), 'ids')).sort();
}

test('everysec: the next journal cannot be created at a snapshot: nothing pending while the journal has failed', { timeout: 20_000 }, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const fs = journalFs();
  const store = await open(t, file, { fs });
  const errors = [];
  store.on('error', (err) => errors.push(err));
  await call(store, 'set', 'before', session({}));
  fs.faults.journalOpen = 'ENOSPC';
  await assert.rejects(store.flush(), { code: 'ENOSPC' });
  assert.equal(store.stats.persistence.journal.failed, true);
  for (let round = 0; round < 3; round++) {
    assert.equal(await turnOfSets(store, round), 0, `after turn ${round}: nothing will be written, nothing is pending`);
  }
  fs.faults.journalOpen = null;
  await until(() => !store.stats.persistence.journal.failed, 5000, 'the recovery (retried every second)');
  assert.equal(store.stats.persistence.journal.pending, 0);
  assert.deepEqual(await idsAfterCrash(t, file), (await call(store, 'ids')).sort(), 'the recovery snapshot holds every change');
});

test("everysec: the old journal's last sync fails while a snapshot creates the next: nothing pending after it", { timeout: 20_000 }, async (t) => {
  const { file, gate, store } = await gatedStore(t, { journal: 'everysec' });
  const errors = [];
  store.on('error', (err) => errors.push(err));
  const alive = setInterval(() => undefined, 50); // the 'everysec' timer is unref'd: keeps the test's loop alive
  t.after(() => clearInterval(alive));
  const old = store.stats.persistence.journal.file;
  const oldSync = gate.hold((path) => path === old); // the timer's sync of the current journal
  await call(store, 'set', 'a', session({}));
  await oldSync.reached;
  const nextSync = gate.hold((path) => isJournal(path) && path !== old);
  const saving = store.flush();
  await nextSync.reached;
  oldSync.release(fsError('EIO', 'fdatasync', old));
  await until(() => errors.length > 0, 5000, 'the journal failure');
  const during = await turnOfSets(store, 'during'); // while the next journal is still being created
  nextSync.release(); // before any assertion: the store's close() at the test's end waits for it
  assert.equal(during, 0, 'while the next journal is created: nothing will be written, nothing is pending');
  await saving; // written, but its copy was taken before the failure: the journal stays failed
  assert.equal(store.stats.persistence.journal.failed, true);
  for (let round = 0; round < 3; round++) {
    assert.equal(await turnOfSets(store, round), 0, `after turn ${round}: nothing will be written, nothing is pending`);
  }
  await until(() => !store.stats.persistence.journal.failed, 5000, 'the recovery (retried every second)');
  assert.deepEqual(await idsAfterCrash(t, file), (await call(store, 'ids')).sort(), 'the recovery snapshot holds every change');
});
