// `dispose` is called when set/touch overwrite a session (reason 'set'; README: noDisposeOnSet turns that off), as
// memorystore's lru-cache 4 did for every overwrite. lru-cache 11 skips its dispose when the new value is the same
// string as the old one, and a session saved unchanged stringifies to the same text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemFileStore } from 'express-memfilestore';
import { call, session, track } from './fixtures/persist/helpers.mjs';

test('a set that overwrites a session with the same text calls dispose once, with reason set', async (t) => {
  const delivered = [];
  const store = track(t, new MemFileStore({ checkPeriod: 0, dispose: (sid, value, reason) => { delivered.push([sid, reason, typeof value]); } }));
  const same = session({ n: 1 });
  await call(store, 'set', 'a', same);
  await call(store, 'set', 'a', same);
  assert.deepEqual(delivered, [['a', 'set', 'string']]);
});

test('a touch that leaves the stored text unchanged calls dispose once, with reason set', async (t) => {
  const delivered = [];
  const store = track(t, new MemFileStore({ checkPeriod: 0, dispose: (sid, _value, reason) => { delivered.push(`${sid}:${reason}`); } }));
  const same = session({ n: 1 });
  await call(store, 'set', 'a', same);
  await call(store, 'touch', 'a', same);
  assert.deepEqual(delivered, ['a:set']);
});

test('with noDisposeOnSet, an identical overwrite calls nothing', async (t) => {
  const delivered = [];
  const store = track(t, new MemFileStore({ checkPeriod: 0, noDisposeOnSet: true, dispose: (sid) => { delivered.push(sid); } }));
  const same = session({ n: 1 });
  await call(store, 'set', 'a', same);
  await call(store, 'set', 'a', same);
  assert.deepEqual(delivered, []);
});
