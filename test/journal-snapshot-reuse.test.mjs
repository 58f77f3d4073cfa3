// A snapshot taken while the journal appends go to holds no record names that journal instead of switching to a new
// one (journal-writer.ts #reusable; the README's crash points). Changes made while it is written are appended to that
// journal at once, after the copy of memory: nothing waits for an older journal's sync, and a restart replays them on
// top of a copy that does not hold them, whether the snapshot on disk is the old one or the new one. What is checked
// here, each with the snapshot held in progress (faultyFs().hold()), in 'always' and 'everysec':
// - the switch is skipped (same generation) and 'always' acknowledges a change before the snapshot is done;
// - a kill -9 during it, and after it, loads every change (the power-cut states: journal-crash-fs.test.mjs);
// - the journal failing during it is not ended by it (its copy was taken before the failure): a snapshot with a new
//   journal recovers it, and the change the failure refused in 'always' is kept, as the README says; a first journal
//   whose creation failed at its sync, empty, is not named either;
// - the stats count the journal's bytes and records since the copy only, also after a snapshot that failed;
// - close() during it waits for it, then stands alone: no journal left, nothing lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { call, session, tempDir } from './fixtures/persist/helpers.mjs';
import { crashCopy, journalFs, journals, open, tracked, turn, until } from './fixtures/journal/helpers.mjs';

/** A store whose current journal holds no record (a snapshot just switched to it), its snapshot on disk naming it. */
async function emptyJournal(t, mode) {
  const file = join(tempDir(t), 'sessions.db');
  const fs = journalFs();
  const store = await open(t, file, { journal: mode, fs });
  const errors = [];
  store.on('error', (err) => errors.push(err));
  for (const id of ['a', 'b']) await call(store, 'set', id, session({ id }));
  const old = store.stats.persistence.journal.file;
  await store.flush();
  await replacedClosed(fs, old);
  // A read calls for a snapshot: the LRU order changed.
  await call(store, 'get', 'a');
  assert.ok(store.stats.persistence.changesSinceSave > 0);
  return { file, fs, store, errors };
}

/**
 * The journal a snapshot replaced is synced a last time, then closed, and only then does the new one take records:
 * until then a snapshot would switch journals again.
 */
function replacedClosed(fs, path) {
  return until(() => fs.calls.some((c) => c.call === 'close' && c.path === path), 5000, `the last sync of ${path}`);
}

/** What a kill -9 now leaves, opened: its ids sorted. */
async function idsAfterCrash(t, file) {
  return (await call(await open(t, crashCopy(t, file)), 'ids')).sort();
}

for (const mode of ['always', 'everysec']) {
  test(`${mode}: changes made while a snapshot names the empty journal go into it at once, and a crash keeps them`, { timeout: 20_000 }, async (t) => {
    const { file, fs, store } = await emptyJournal(t, mode);
    const { generation } = store.stats.persistence.journal;
    const held = fs.hold();
    const saving = store.flush();
    await held.reached;
    assert.equal(store.stats.persistence.journal.generation, generation, 'no switch to a new journal');
    const c = tracked(store, 'set', 'c', session({ id: 'c' }));
    const destroyB = tracked(store, 'destroy', 'b');
    assert.equal(await c.done, null);
    assert.equal(await destroyB.done, null, 'acknowledged while the snapshot is still being written');
    assert.equal(store.stats.persistence.saving, true);
    assert.equal(store.stats.persistence.journal.records, 2, 'the journal holds the changes since the copy, and only them');
    assert.deepEqual(await idsAfterCrash(t, file), ['a', 'c'], 'the old snapshot and the journal');
    held.release();
    await saving;
    assert.equal(store.stats.persistence.journal.records, 2, 'still beside the new snapshot');
    assert.deepEqual(journals(file).length, 1);
    assert.deepEqual(await idsAfterCrash(t, file), ['a', 'c'], 'the new snapshot (which holds b) and the journal (which destroys it)');
  });

  test(`${mode}: a journal failing while a snapshot names the empty journal is recovered by a later snapshot, nothing lost`, { timeout: 20_000 }, async (t) => {
    const { file, fs, store, errors } = await emptyJournal(t, mode);
    const { generation } = store.stats.persistence.journal;
    const held = fs.hold();
    const saving = store.flush();
    await held.reached;
    fs.faults.journalWrite = 'EIO';
    const c = tracked(store, 'set', 'c', session({ id: 'c' }));
    assert.equal((await c.done)?.code ?? null, mode === 'always' ? 'ERR_JOURNAL_FAILED' : null);
    await until(() => errors.length > 0, 5000, 'the journal failure');
    fs.faults.journalWrite = null;
    held.release();
    await saving;
    assert.equal(store.stats.persistence.journal.failed, true, 'its copy of memory was taken before the failure');
    assert.deepEqual((await call(store, 'ids')).sort(), ['a', 'b', 'c'], 'the failure undid nothing in memory');
    await until(() => !store.stats.persistence.journal.failed, 10_000, 'the recovery snapshot');
    assert.ok(store.stats.persistence.journal.generation > generation, 'recovered with a new journal');
    await call(store, 'set', 'd', session({ id: 'd' }));
    assert.deepEqual(await idsAfterCrash(t, file), ['a', 'b', 'c', 'd']);
  });

  test(`${mode}: a first journal whose sync failed at its creation holds no record, and is still not named by the recovery snapshot`, { timeout: 20_000 }, async (t) => {
    // Its header and directory entry may not be on disk: a snapshot naming it could be refused after a power cut
    // ("the journal it continues in is missing"), and could never end the failure, whose recovery needs a journal
    // created after it.
    const file = join(tempDir(t), 'sessions.db');
    const fs = journalFs();
    const store = await open(t, file, { journal: mode, fs });
    const errors = [];
    store.on('error', (err) => errors.push(err));
    fs.faults.fdatasync = 'EIO';
    const a = tracked(store, 'set', 'a', session({ id: 'a' }));
    assert.equal((await a.done)?.code ?? null, mode === 'always' ? 'ERR_JOURNAL_FAILED' : null);
    assert.equal(errors.length, 1);
    const { generation } = store.stats.persistence.journal;
    fs.faults.fdatasync = null;
    await until(() => !store.stats.persistence.journal.failed, 10_000, 'the recovery snapshot');
    assert.ok(store.stats.persistence.journal.generation > generation, 'recovered with a new journal');
    await call(store, 'set', 'b', session({ id: 'b' }));
    assert.deepEqual(await idsAfterCrash(t, file), ['a', 'b']);
  });

  test(`${mode}: after a snapshot that failed, the retry names the empty journal, and the stats drop the older one once it succeeds`, { timeout: 20_000 }, async (t) => {
    const { file, fs, store } = await emptyJournal(t, mode);
    await call(store, 'set', 'c', session({ id: 'c' }));
    const before = store.stats.persistence.journal;
    fs.faults.write = 'ENOSPC';
    await assert.rejects(store.flush(), /ENOSPC/);
    fs.faults.write = null;
    const failed = store.stats.persistence.journal;
    assert.equal(failed.generation, before.generation + 1, 'a snapshot with records to absorb switches journals');
    assert.deepEqual([failed.bytes, failed.records], [before.bytes, before.records], 'the older journal is still beside the old snapshot');
    await replacedClosed(fs, before.file);
    await store.flush();
    const after = store.stats.persistence.journal;
    assert.equal(after.generation, failed.generation, 'the retry named the journal it found empty');
    assert.deepEqual([after.bytes, after.records], [0, 0]);
    assert.equal(journals(file).length, 1, 'the older journal removed');
    assert.deepEqual(await idsAfterCrash(t, file), ['a', 'b', 'c']);
  });

  test(`${mode}: close() during a snapshot that names the empty journal waits for it, then leaves the snapshot alone`, { timeout: 20_000 }, async (t) => {
    const { file, fs, store } = await emptyJournal(t, mode);
    const held = fs.hold();
    const saving = store.flush();
    await held.reached;
    const c = tracked(store, 'set', 'c', session({ id: 'c' }));
    await turn();
    const closing = store.close();
    held.release();
    await saving;
    await closing;
    assert.equal(await c.done, null);
    assert.deepEqual(journals(file), []);
    assert.deepEqual((await call(await open(t, file), 'ids')).sort(), ['a', 'b', 'c']);
  });
}
