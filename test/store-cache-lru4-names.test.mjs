// memorystore exposed lru-cache 4 as `store.store`, and its users' code calls that version's names: `del(sid)` to
// log someone out, `reset()`, `itemCount` and `length` for a count, `prune()`. lru-cache 11 renamed them (`delete`,
// `clear`, `size`, `purgeStale`), so that code threw "is not a function" or, for the counts, silently read
// `undefined`. The cache the store hands out answers to both names; a deletion by the old name is journaled as one
// by the new (a kill -9 does not bring the session back: test/journal-direct-cache-delete.test.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, manualClock, session, tempDir, track } from './fixtures/persist/helpers.mjs';

test("store.store answers to lru-cache 4's names: del, reset, itemCount, length, prune", async (t) => {
  const clock = manualClock();
  const store = track(t, new MemFileStore({ clock: clock.fn }));
  await call(store, 'set', 'a', session({ n: 1 }, 1000));
  await call(store, 'set', 'b', session({ n: 2 }));
  await call(store, 'set', 'c', session({ n: 3 }));
  const cache = store.store;
  assert.equal(cache.itemCount, 3);
  assert.equal(cache.length, 3);

  assert.equal(cache.del('b'), true);
  assert.equal(await call(store, 'get', 'b'), undefined);
  assert.equal(cache.itemCount, 2);

  clock.now += 2000;
  cache.prune();
  assert.equal(cache.size, 1, 'the expired session is gone');
  assert.deepEqual([...cache.keys()], ['c']);

  cache.reset();
  assert.equal(cache.length, 0);
  assert.equal(await call(store, 'length'), 0);
});

test("a session deleted by lru-cache 4's del, or by reset, is gone after a restart", async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await store.ready;
  for (const id of ['a', 'b', 'c']) await call(store, 'set', id, session({ id }));
  store.store.del('a');
  await store.close();
  const again = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await again.ready;
  assert.deepEqual((await call(again, 'ids')).sort(), ['b', 'c']);
  again.store.reset();
  await again.close();
  const last = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await last.ready;
  assert.deepEqual(await call(last, 'ids'), []);
});
