// A journal's descriptor is not closed while a sync of it is still to run. fdatasync runs in the thread pool: a
// call made on the event loop may wait there behind others (a slow disk's syncs, the snapshot's writes) and reach
// the kernel after the event loop has closed the descriptor; if a file opened meanwhile took its number, that sync
// flushes the other file and reports success, and the 'always' changes waiting for it are acknowledged with their
// records never synced (a power cut loses them: README, 'always' "nothing acknowledged: a callback is called after
// its record is written and synced"). Before the fix, a snapshot whose next journal could not be created closed the
// journal it replaced at once, with the sync its own switch started (of the turn's records) still queued.
// The sync gate stands for the thread pool's queue.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { session, tempDir } from './fixtures/persist/helpers.mjs';
import { gatedStore, journalSize, trackedPair, turn } from './fixtures/journal/helpers.mjs';

/** An 'always' store whose journal's next sync is held, and two changes made (their sync is the one held). */
async function heldPair(t) {
  const { fs, gate, store } = await gatedStore(t, { journal: 'always' });
  store.on('error', () => undefined);
  const journal = store.stats.persistence.journal.file;
  const fd = fs.calls.findLast((c) => c.call === 'open' && c.path === journal).fd;
  const held = gate.hold((path) => path === journal);
  return { fs, store, journal, fd, held, pair: trackedPair(store, 'p', session({})) };
}

test("always: a snapshot whose next journal cannot be created does not close the old journal under its queued sync", { timeout: 20_000 }, async (t) => {
  const { fs, store, journal, fd, held, pair } = await heldPair(t);
  // The pair and a snapshot in one turn: the switch writes them to the old journal and starts their sync.
  fs.faults.journalOpen = 'ENOSPC'; // the next journal cannot be created
  await assert.rejects(store.flush(), { code: 'ENOSPC' });
  await held.reached;
  const size = journalSize(journal);
  // Any file opened now (by the app, or the store's next snapshot) takes the lowest free descriptor number.
  const other = openSync(join(tempDir(t), 'other'), 'w');
  t.after(() => closeSync(other));
  held.release(); // the queued sync reaches the kernel
  const results = await Promise.all(pair.map((c) => c.done));
  fs.faults.journalOpen = null;
  if (results.every((r) => r === null)) {
    assert.ok(fs.synced.some((s) => s.path === journal && s.size >= size),
      `acknowledged, so the journal holding them was synced (descriptor ${fd} was ${other === fd ? 'reused by another file' : 'closed'} before its sync ran)`);
  } else {
    for (const r of results) assert.equal(r?.code, 'ERR_JOURNAL_FAILED');
  }
});

test("always: the late failure of a sync of a journal given up for a failure does not fail the recovered journal again", { timeout: 20_000 }, async (t) => {
  const { fs, store, held, pair } = await heldPair(t);
  const errors = [];
  store.on('error', (err) => errors.push(err));
  fs.faults.journalOpen = 'ENOSPC';
  await assert.rejects(store.flush(), { code: 'ENOSPC' });
  await held.reached;
  fs.faults.journalOpen = null;
  await store.flush(); // the recovery: its copy holds 'p' and 'p+'
  assert.equal(store.stats.persistence.journal.failed, false);
  // The sync queued before the failure comes back failed (on HEAD: EBADF, its descriptor closed under it).
  held.release(Object.assign(new Error('EIO: injected, fdatasync'), { code: 'EIO' }));
  for (const c of pair) assert.equal((await c.done)?.code, 'ERR_JOURNAL_FAILED', 'not acknowledged');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(store.stats.persistence.journal.failed, false, 'the journal the recovery started is healthy');
  assert.equal(errors.length, 1, 'one failure, reported once');
  assert.equal(await new Promise((resolve) => { store.set('q', session({}), (err) => resolve(err ?? null)); }), null);
});

test("always: close() of a failed journal closes the descriptor only once the sync still queued completes", { timeout: 20_000 }, async (t) => {
  const { fs, store, journal, fd, held, pair } = await heldPair(t);
  await held.reached;
  // A write fails while the pair's sync is queued: the journal has failed, the pair's records are already written.
  fs.faults.journalWrite = 'EIO';
  assert.equal(await new Promise((resolve) => { store.set('q', session({}), (err) => resolve(err?.code)); }), 'ERR_JOURNAL_FAILED');
  fs.faults.journalWrite = null;
  const closing = store.close();
  for (let i = 0; i < 20; i++) await turn();
  const closedEarly = fs.calls.some((c) => c.call === 'close' && c.fd === fd && c.path === journal);
  held.release();
  await closing;
  assert.equal(closedEarly, false, `descriptor ${fd} closed while its sync was still queued: a file opened meanwhile could take the number, and the sync flush it instead`);
  // Written before the failure and covered by a sync that completed on their own file: durable, acknowledged.
  assert.deepEqual(await Promise.all(pair.map((c) => c.done)), [null, null]);
  assert.ok(fs.calls.some((c) => c.call === 'close' && c.fd === fd && c.path === journal), 'closed once the sync completed');
});
