// A `dispose` hook that throws a value String() cannot convert (an object without a prototype, or whose toString
// throws). The store promises the hook's failure is reported ('error' event), the later hooks still run, and the
// call that caused the hook still calls back once: none of it may escape into the caller.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemFileStore } from 'express-memfilestore';
import { call, session, track } from './fixtures/persist/helpers.mjs';

for (const [name, make] of [
  ['an object without a prototype', () => Object.create(null)],
  ['an object whose toString throws', () => ({ toString() { throw new Error('no string'); } })],
]) {
  test(`a dispose hook that throws ${name}: reported, later hooks run, the clear calls back`, async (t) => {
    const delivered = [];
    const errors = [];
    const store = track(t, new MemFileStore({
      checkPeriod: 0,
      dispose: (sid, _value, reason) => {
        delivered.push(`${sid}:${reason}`);
        if (sid === 'a') throw make();
      },
    }));
    store.on('error', (err) => { errors.push(err); });
    for (const id of ['a', 'b', 'c']) await call(store, 'set', id, session({ id }));
    let thrown;
    const done = new Promise((resolve) => {
      try {
        store.clear((err) => resolve(err ?? null));
      } catch (err) {
        thrown = err;
        resolve('never called back');
      }
    });
    assert.equal(thrown, undefined, 'clear() does not throw into its caller');
    assert.deepEqual(delivered, ['a:delete', 'b:delete', 'c:delete'], 'every hook runs, in order, within the clear');
    assert.equal(await done, null);
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof Error);
  });
}

test('a dispose hook that throws an object without a prototype on an eviction: the set calls back and stores', async (t) => {
  const store = track(t, new MemFileStore({ max: 2, checkPeriod: 0, dispose: () => { throw Object.create(null); } }));
  store.on('error', () => {});
  await call(store, 'set', 'a', session({ id: 'a' }));
  await call(store, 'set', 'b', session({ id: 'b' }));
  await call(store, 'set', 'c', session({ id: 'c' }));
  assert.deepEqual((await call(store, 'ids')).sort(), ['b', 'c']);
});
