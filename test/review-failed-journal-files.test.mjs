// Review finding (not fixed): while a failed journal's recovery snapshots keep failing after creating their new
// journal (a disk with room for a journal header, not for a snapshot), every retry (one a second) leaves one more
// header-only journal beside the snapshot, until a snapshot succeeds: 3,600 files an hour, each taking a block and
// an inode on the disk that is already full, and each opened by the next start. Those journals never receive a
// record before the snapshot naming them is durable, so the one a failed retry created can go when the next retry
// replaces it, unless it is the journal the snapshot on disk names. Fix sketch: in JournalWriter.openNext's failed
// branch, remove `old` when nothing was written to it (its size is its header's) and it is not the generation the
// durable snapshot points at (Persistence knows: #pointerOnDisk and the gen it passed to snapshotDone).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { call, session, tempDir } from './fixtures/persist/helpers.mjs';
import { journals, storeWithErrors, until } from './fixtures/journal/helpers.mjs';

test('failed recovery snapshots do not leave one more journal file each', {
  todo: 'header-only journals of failed recovery rotations are kept until a snapshot succeeds',
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
