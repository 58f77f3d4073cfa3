// close() while a save runs and another is queued behind it (flush() called during the save). close() waits for the
// running save only, then closes the journal: the queued save has started by then (it starts as the running one
// settles) and owns the journal its rotation is creating. With the journal failed (the queued save is a recovery),
// the journal's close does not wait for the rotation and closes the new journal's descriptor while the rotation's
// sync of it is still queued (the sync gate stands for the thread pool's queue): the sync then fails (EBADF), or, if
// a file opened meanwhile took the number, flushes that file, and the new journal counts as synced when it is not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { call, session } from './fixtures/persist/helpers.mjs';
import { gatedStore, isJournal, turn } from './fixtures/journal/helpers.mjs';

test('close() does not close the journal a queued save is creating under its sync', { timeout: 20_000 }, async (t) => {
  const { fs, gate, store } = await gatedStore(t);
  const errors = [];
  store.on('error', (err) => errors.push(err));
  // The journal fails: the next snapshots rotate to a fresh journal.
  fs.faults.journalWrite = 'EIO';
  await call(store, 'set', 'x', session({}));
  fs.faults.journalWrite = null;
  assert.equal(store.stats.persistence.journal.failed, true);
  // Save A runs (held at its snapshot's first write) and will fail: the failure stays.
  const writes = fs.hold();
  const saveA = store.flush();
  await writes.reached;
  const saveB = store.flush(); // queued behind A
  const held = gate.hold((path) => isJournal(path)); // the next journal sync: B's rotation creating its journal
  const closing = store.close();
  fs.faults.write = 'ENOSPC';
  writes.release();
  await assert.rejects(saveA, { code: 'ENOSPC' });
  fs.faults.write = null;
  const journal = await held.reached;
  const created = fs.calls.findLast((c) => c.call === 'open' && c.path === journal);
  for (let i = 0; i < 20; i++) await turn();
  const closedEarly = fs.calls.some((c) => c.call === 'close' && c.fd === created.fd && c.path === journal);
  held.release();
  const b = await saveB.then(() => null, (err) => err);
  await closing;
  assert.equal(closedEarly, false, `the descriptor of ${journal} was closed while its creation's sync was still queued`);
  assert.equal(b, null, `the queued save did not fail (${b?.message})`);
  assert.deepEqual(errors.map((e) => e.code), ['ERR_JOURNAL_FAILED']);
});
