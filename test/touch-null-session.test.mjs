// touch(sid, null) or touch(sid, undefined) on a live session: memorystore 1.6.8 calls back with a TypeError (it
// reads sess.cookie) and leaves the stored session as it was. Stripping the stored cookie instead loses it: the next
// get() returns a session without a cookie, which express-session cannot load. The TypeError is the store's own,
// naming what it got (src/store/store.ts touch; mutation testing: without the check, reading `.cookie` threw one too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemFileStore } from 'express-memfilestore';
import { call, settle } from './fixtures/store-calls.mjs';

for (const [name, serializer] of [['JSON', undefined], ['a custom serializer', { stringify: (v) => JSON.stringify(v), parse: (t) => JSON.parse(t) }]]) {
  for (const bad of [null, undefined]) {
    test(`touch with session ${String(bad)} (${name}): a TypeError to the caller, the stored session unchanged`, async () => {
      const store = new MemFileStore({ serializer });
      await call(store, 'set', 'sid', { cookie: { originalMaxAge: 60_000, maxAge: 60_000, path: '/' }, user: 1 });
      const before = store.store.get('sid');
      const { err } = await settle(store, 'touch', 'sid', bad);
      assert.ok(err instanceof TypeError, `an error, got ${String(err)}`);
      // The store's own message, not the one reading `.cookie` of nothing happens to throw.
      assert.equal(err.message, `express-memfilestore: touch needs the session, got ${String(bad)}`);
      assert.equal(store.store.get('sid'), before, 'the stored session keeps its cookie');
    });
  }
}
