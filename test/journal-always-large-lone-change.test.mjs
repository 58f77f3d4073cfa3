// journal: 'always' syncs a turn's lone change on the event loop while changes come one at a time (README, `journal`):
// that saves the thread pool's round trip, 50-70 µs, for a record of a few hundred bytes. The sync of a large record
// costs its bytes' writeback, which the round trip is nothing against, and on the loop every request waits for it: a
// 20 MB session (an upload kept in the session) held the loop 16 ms in fdatasync on this machine's fast disk, and
// would for the whole writeback on a slow one. Counted through the store's `fs` seam: which sync call ran, not how long.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { call, session } from './fixtures/persist/helpers.mjs';
import { crashCopy, gatedStore, open } from './fixtures/journal/helpers.mjs';

/** The syncs of the journal at `path` in the seam's log, from call `from` on: 'fdatasyncSync' on the event loop, 'fdatasync' off it. */
const syncCalls = (fs, path, from) => fs.calls.slice(from).filter((c) => c.path === path && c.call.startsWith('fdatasync')).map((c) => c.call);

test('always: a lone change of a 2 MB session is synced off the event loop; small lone changes around it on it', { timeout: 20_000 }, async (t) => {
  const { file, fs, store } = await gatedStore(t, { journal: 'always' });
  const journal = store.stats.persistence.journal.file;
  const lone = async (id, value) => {
    const from = fs.calls.length;
    await call(store, 'set', id, value);
    return syncCalls(fs, journal, from);
  };
  assert.deepEqual(await lone('a', session({})), ['fdatasyncSync'], "warm-up's sync held it alone: a small lone change on the loop");
  const upload = session({ upload: 'x'.repeat(2_000_000) });
  assert.deepEqual(await lone('big', upload), ['fdatasync'], 'a large record is synced in the thread pool');
  assert.deepEqual(await lone('b', session({})), ['fdatasyncSync'], 'the sync of the large one held it alone: small lone changes on the loop again');

  // Acknowledged is durable, whichever way it was synced.
  const after = await open(t, crashCopy(t, file));
  assert.equal((await call(after, 'get', 'big')).upload.length, 2_000_000);
  assert.deepEqual((await call(after, 'ids')).sort(), ['a', 'b', 'big', 'warm-up']);
});
