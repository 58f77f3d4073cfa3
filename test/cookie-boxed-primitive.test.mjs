// JSON.stringify writes a boxed primitive (new String, new Number, new Boolean) as the primitive, and throws on a
// boxed BigInt. The hand-written cookie JSON of touch (and of set, for a cookie whose toJSON returns one) walked its
// own keys instead, so the stored text was not memorystore's parse / replace cookie / stringify.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemFileStore } from 'express-memfilestore';
import { call, settle } from './fixtures/store-calls.mjs';

const stored = { cookie: { originalMaxAge: 60_000, path: '/' }, user: 1 };

for (const [name, make] of [['new String', () => new String('ab')], ['new Number', () => new Number(5)], ['new Boolean', () => new Boolean(false)]]) {
  test(`touch with a cookie that is ${name}(...): stored as JSON.stringify writes it`, async () => {
    const store = new MemFileStore();
    await call(store, 'set', 'sid', stored);
    const cookie = make();
    await call(store, 'touch', 'sid', { cookie });
    assert.equal(store.store.get('sid'), JSON.stringify({ ...stored, cookie }));
  });

  test(`set with a cookie whose toJSON returns ${name}(...): stored as JSON.stringify writes it`, async () => {
    const store = new MemFileStore();
    const session = { cookie: { toJSON: make }, user: 1 };
    await call(store, 'set', 'sid', session);
    assert.equal(store.store.get('sid'), JSON.stringify(session));
  });
}

test('touch with a cookie that is a boxed BigInt: the TypeError JSON.stringify throws, the session unchanged', async () => {
  const store = new MemFileStore();
  await call(store, 'set', 'sid', stored);
  const before = store.store.get('sid');
  const { err } = await settle(store, 'touch', 'sid', { cookie: Object(1n) });
  assert.ok(err instanceof TypeError);
  assert.equal(store.store.get('sid'), before);
});
