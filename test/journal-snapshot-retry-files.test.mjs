// A disk too full for a snapshot but not for the journal (a snapshot needs as much room as the sessions, a journal
// header a block): the store keeps journaling, and every `savePeriod` retries the snapshot. Each retry switched to a new
// journal first, so with no change since the last one every retry left one more journal holding nothing beside the
// snapshot: 60 files an hour at the default period, each taking a block and an inode of the little room left, until
// the journal itself could not be written ('always' then refuses every change) and a start opened them all. A retry
// now names the journal it would have replaced when that one holds nothing yet (created and synced by this store):
// the snapshot is as good, and no file is made. Real ENOSPC on a small tmpfs (skipped where mounting is not permitted).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, session } from './fixtures/persist/helpers.mjs';
import { crashCopy, journals, until } from './fixtures/journal/helpers.mjs';
import { mountTmpfs } from './fixtures/tmpfs.mjs';

const PERIOD_MS = 40;

/** Bytes a new file may still take on the file system holding `dir`. */
const free = (dir) => {
  const st = statfsSync(dir);
  return st.bavail * st.bsize;
};

for (const journal of ['everysec', 'always']) {
  test(`journal '${journal}': snapshots retried on a disk too full for them leave no journal file per retry`, { timeout: 20_000 }, async (t) => {
    const fsMount = mountTmpfs(t, 'size=2m');
    if (fsMount === undefined) return;
    const file = join(fsMount.mnt, 'sessions.db');
    const store = fsMount.keep(new MemFileStore({ saveFile: file, journal, savePeriod: PERIOD_MS }));
    await store.ready;
    const errors = [];
    store.on('error', (err) => { errors.push(err); });
    for (let i = 0; i < 40; i++) await call(store, 'set', `big-${i}`, session({ pad: 'x'.repeat(10_000) }));
    await store.flush(); // a snapshot of about 400 KB: the next one needs as much
    const filler = join(fsMount.mnt, 'filler');
    writeFileSync(filler, Buffer.alloc(free(fsMount.mnt) - 96 * 1024));
    await call(store, 'set', 'during-the-fault', session({ n: 1 }));
    const failedSaves = () => errors.filter((err) => err.code === 'ENOSPC').length;
    await until(() => failedSaves() >= 15, 10_000, '15 failed snapshots');
    const files = journals(file);
    assert.ok(files.length <= 3, `${files.length} journal files after ${failedSaves()} failed snapshots: ${files.map((f) => basename(f)).join(', ')}`);
    assert.ok(free(fsMount.mnt) > 48 * 1024, `the retries took the room left: ${free(fsMount.mnt)} bytes free`);
    // The journal is still trusted, and a crash now loses nothing.
    assert.equal(store.stats.persistence.journal.failed, false);
    await call(store, 'set', 'still-journaled', session({ n: 2 }));
    const copy = crashCopy(t, file);
    const restarted = fsMount.keep(new MemFileStore({ saveFile: copy, journal, savePeriod: 0 }));
    await restarted.ready;
    assert.equal(restarted.store.size, 42);
    assert.ok(restarted.store.has('during-the-fault') && restarted.store.has('still-journaled'));
    await restarted.close();
    // Room again: the next retry succeeds and absorbs every journal before the one it names.
    unlinkSync(filler);
    await until(() => store.stats.persistence.changesSinceSave === 0, 10_000, 'a snapshot after the fault');
    assert.ok(journals(file).length <= 2, `left: ${journals(file).map((f) => basename(f)).join(', ')}`);
    await store.close();
    assert.deepEqual(journals(file), []);
    const reopened = fsMount.keep(new MemFileStore({ saveFile: file, journal, savePeriod: 0 }));
    await reopened.ready;
    assert.equal(reopened.store.size, 42);
  });
}
