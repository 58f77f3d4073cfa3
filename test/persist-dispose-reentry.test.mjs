// A `dispose` hook that calls back into the store. lru-cache calls `dispose` in the middle of its own operation
// (an eviction runs inside the `set` that caused it, before the slot it frees is reused): a session set from there
// corrupts the cache (the same id listed several times, sessions set and acknowledged not served), while the journal
// records what the calls did, so memory and what a restart loads disagree. The store must keep the cache whole and
// a restart (here a kill -9's files) must load what memory serves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { call, session, tempDir } from './fixtures/persist/helpers.mjs';
import { crashCopy, open } from './fixtures/journal/helpers.mjs';

test('a dispose hook that sets a session when one is evicted by max keeps the cache whole, and a restart loads what memory serves', { timeout: 20_000 }, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  let store;
  let sets = 0;
  const acknowledged = [];
  store = await open(t, file, {
    max: 3,
    dispose: (sid, _value, reason) => {
      if (reason !== 'evict' || sets >= 2) return;
      const id = `moved-${++sets}`;
      acknowledged.push(new Promise((resolve) => { store.set(id, session({ from: sid }), (err) => resolve(err ?? null)); }));
    },
  });
  for (const id of ['a', 'b', 'c', 'd', 'e']) await call(store, 'set', id, session({ id }));
  assert.deepEqual(await Promise.all(acknowledged), [null, null]);
  const ids = await call(store, 'ids');
  assert.equal(new Set(ids).size, ids.length, `each session once: ${ids.join(', ')}`);
  assert.equal(ids.length, store.store.size);
  for (const id of ids) assert.notEqual(await call(store, 'get', id), undefined, `${id} is served`);
  const after = await open(t, crashCopy(t, file), { max: 3 });
  assert.deepEqual((await call(after, 'ids')).sort(), [...ids].sort(), 'a restart loads what memory serves');
});

test('a dispose hook that destroys the session whose set evicted another: a restart does not bring that session back', { timeout: 20_000 }, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  let store;
  let destroyed;
  store = await open(t, file, {
    max: 2,
    dispose: (sid, _value, reason) => {
      // A hook that refuses newcomers while the store is full: the session just set goes again.
      if (reason === 'evict') destroyed ??= new Promise((resolve) => { store.destroy('c', (err) => resolve(err ?? null)); });
    },
  });
  for (const id of ['a', 'b', 'c']) await call(store, 'set', id, session({ id }));
  assert.equal(await destroyed, null);
  const ids = (await call(store, 'ids')).sort();
  assert.deepEqual(ids, ['b'], 'c destroyed by the hook, a evicted by its set');
  const after = await open(t, crashCopy(t, file), { max: 2 });
  assert.deepEqual((await call(after, 'ids')).sort(), ids, 'a restart loads what memory serves');
});

test('with noDisposeOnSet, evictions still call the dispose hook in the set that evicts, and an expiry on a read or a prune calls it after', { timeout: 20_000 }, async (t) => {
  const calls = [];
  const clock = { now: Date.now() };
  const store = await open(t, join(tempDir(t), 'sessions.db'), {
    max: 2, noDisposeOnSet: true, clock: () => clock.now, dispose: (sid, _value, reason) => calls.push(`${sid}:${reason}`),
  });
  for (const id of ['a', 'b', 'c']) await call(store, 'set', id, session({ id }, 1_000));
  // memorystore: noDisposeOnSet leaves out only the overwrite of a session, never an eviction.
  assert.deepEqual(calls, ['a:evict']);
  await call(store, 'set', 'c', session({ id: 'c', again: true }, 1_000));
  assert.deepEqual(calls, ['a:evict']);
  await call(store, 'set', 'd', session({ id: 'd' }, 1_000));
  assert.deepEqual(calls, ['a:evict', 'b:evict']);
  clock.now += 2_000;
  assert.equal(await call(store, 'get', 'c'), undefined);
  assert.deepEqual(calls, ['a:evict', 'b:evict', 'c:expire']);
  store.prune();
  assert.deepEqual(calls, ['a:evict', 'b:evict', 'c:expire', 'd:expire']);
});
