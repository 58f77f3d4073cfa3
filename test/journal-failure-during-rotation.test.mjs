// A journal that fails while a snapshot creates its next journal (the old journal's sync fails after memory was
// copied, before the new journal is synced) is not recovered by that snapshot: its copy of memory was taken before
// the failure, and the changes made between the copy and the failure, held for the new journal, were dropped by the
// failure. journal-failure.ts: the failure "ends only when a snapshot whose copy of memory was taken after the
// failure is durable". The README: an error "does not undo the change in memory ... the recovery snapshot saves it",
// 'always' loses "nothing acknowledged" to a kill -9, and what is lost "is always the most recent changes, never an
// older one with a newer one kept". Before the fix, openNext() saw the journal failed once the new journal existed
// and took the snapshot in flight for the recovery: the store reported itself healthy while the changes of the
// window were on disk nowhere (a destroyed session came back after a kill -9), and the next change, acknowledged
// after its sync, went into the new journal after the sequence numbers of the dropped records: a start took it for
// a torn tail and cut it (an acknowledged 'always' change lost).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { call, fsError, session } from './fixtures/persist/helpers.mjs';
import { crashCopy, gatedStore, isJournal, open, tracked, trackedPair, turn, until } from './fixtures/journal/helpers.mjs';

/**
 * A store whose journal failed at a sync of the old journal while a snapshot's next journal was being created,
 * with 'x' set and 'warm-up' destroyed after that snapshot's copy of memory, before the failure; the snapshot done.
 */
async function failedDuringRotation(t, mode) {
  const { file, gate, store } = await gatedStore(t, { journal: mode });
  const errors = [];
  store.on('error', (err) => errors.push(err));
  const alive = setInterval(() => undefined, 50); // the 'everysec' timer is unref'd: keeps the test's loop alive
  t.after(() => clearInterval(alive));
  const old = store.stats.persistence.journal.file;
  // A sync of the current journal in flight: a group's in 'always', the timer's in 'everysec'.
  const oldSync = gate.hold((path) => path === old);
  const pair = mode === 'always' ? trackedPair(store, 'a', session({})) : [];
  if (mode === 'everysec') await call(store, 'set', 'a', session({}));
  await oldSync.reached;
  // The snapshot copies memory, switches to the next journal and creates it: its header's sync is held.
  const nextSync = gate.hold((path) => isJournal(path) && path !== old);
  const saving = store.flush();
  await nextSync.reached;
  // After the copy: held back for the next journal.
  const changes = [tracked(store, 'set', 'x', session({ made: 'after the copy' })), tracked(store, 'destroy', 'warm-up')];
  await turn();
  oldSync.release(fsError('EIO', 'fdatasync', old));
  await until(() => errors.length > 0, 5000, 'the journal failure');
  const expected = mode === 'always' ? 'ERR_JOURNAL_FAILED' : null;
  for (const c of [...pair, ...changes]) assert.equal((await c.done)?.code ?? null, expected);
  nextSync.release();
  await saving;
  return { file, store };
}

/** What a kill -9 now leaves, opened: its ids sorted. */
async function idsAfterCrash(t, file) {
  return (await call(await open(t, crashCopy(t, file)), 'ids')).sort();
}

for (const mode of ['always', 'everysec']) {
  test(`${mode}: a journal failing while a snapshot creates its next journal is not recovered by that snapshot`, { timeout: 20_000 }, async (t) => {
    const { file, store } = await failedDuringRotation(t, mode);
    assert.deepEqual((await call(store, 'ids')).sort(), ['a', ...(mode === 'always' ? ['a+'] : []), 'x']);
    assert.equal(store.stats.persistence.journal.failed, true, 'the snapshot copied memory before the failure');
    await store.flush(); // a recovery snapshot: copied after the failure
    assert.equal(store.stats.persistence.journal.failed, false);
    assert.deepEqual(await idsAfterCrash(t, file), (await call(store, 'ids')).sort(), "'x' set and 'warm-up' destroyed");
  });

  test(`${mode}: once a journal that failed while a snapshot created its next journal has recovered, a kill -9 loses nothing acknowledged`, { timeout: 20_000 }, async (t) => {
    const { file, store } = await failedDuringRotation(t, mode);
    await until(() => !store.stats.persistence.journal.failed, 5000, 'the recovery (retried every second)');
    await call(store, 'set', 'y', session({ made: 'after the recovery' })); // 'always': written and synced
    await until(() => store.stats.persistence.journal.pending === 0, 5000, "the write of 'y'");
    const ids = await idsAfterCrash(t, file);
    assert.ok(ids.includes('y'), `'y', acknowledged after the recovery, is on disk: ${ids}`);
    assert.deepEqual(ids, (await call(store, 'ids')).sort(), "and so are the older changes ('x' set, 'warm-up' destroyed)");
  });
}
