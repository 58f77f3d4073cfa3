// An 'everysec' journal that has failed, while its recovery snapshots keep failing after their new
// journal was created (a disk with room for a journal header but not for a snapshot), must not keep every change
// made meanwhile in memory. The README: a failed 'everysec' journal keeps serving from memory and durability falls
// back to snapshots; the recovery snapshot copies memory, so the changes made before its copy are in it. Before the
// fix, the writer stayed "held" after such a rotation and carried every record appended since into each next
// journal: `pending` grew with every change until a snapshot succeeded (memory and the re-encoding at each retry
// grew without bound while the disk stayed full).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { call, session, tempDir } from './fixtures/persist/helpers.mjs';
import { crashCopy, open, storeWithErrors, until } from './fixtures/journal/helpers.mjs';

test('everysec, journal failed and recovery snapshots failing after their journal is created: changes are not held without bound', { timeout: 20_000 }, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const { store, fs, errors } = await storeWithErrors(t, file, { journal: 'everysec', savePeriod: 0 });
  await store.flush();
  fs.faults.journalWrite = 'EIO';
  await call(store, 'set', 'fails-the-journal', session({}));
  await until(() => errors.length > 0, 5000, 'the journal failure');
  fs.faults.journalWrite = null;
  assert.equal(store.stats.persistence.journal.failed, true);
  // From here every snapshot fails at its temp file, after its new journal was created and synced.
  fs.faults.open = 'ENOSPC';
  const PER_ROUND = 50;
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < PER_ROUND; i++) await call(store, 'set', `r${round}-${i}`, session({ round }));
    await assert.rejects(store.flush(), /ENOSPC/);
    // The snapshot that just failed copied memory after every change above: none of them is needed any more.
    for (let i = 0; i < PER_ROUND; i++) await call(store, 'set', `after-${round}-${i}`, session({ round }));
    const { pending } = store.stats.persistence.journal;
    assert.ok(pending <= PER_ROUND, `round ${round}: ${pending} records held, at most the ${PER_ROUND} made since the last copy`);
  }
  // Recovery: the next snapshot succeeds, and every session, also those changed after its copy, survives a crash.
  fs.faults.open = null;
  await store.flush();
  assert.equal(store.stats.persistence.journal.failed, false);
  await call(store, 'set', 'after-recovery', session({}));
  await until(() => store.stats.persistence.journal.pending === 0, 5000, 'the write of the last change');
  // `pending` counts changes waiting for a callback, not the records kept for a next journal: what was carried shows
  // once the recovery releases it. The recovery snapshot holds every change before its copy; its journal holds only
  // the one made after it (carried, the 350 records of the rounds went in first, re-encoded at every retry).
  assert.equal(store.stats.persistence.journal.records, 1, 'records in the journal the recovery snapshot names');
  const reopened = await open(t, crashCopy(t, file));
  const ids = new Set(await call(reopened, 'ids'));
  for (const id of ['before', 'fails-the-journal', 'r0-0', 'r3-49', 'after-3-49', 'after-recovery']) assert.ok(ids.has(id), id);
});
