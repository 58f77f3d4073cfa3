// A ttl function returning something that is not a number: the set and touch callers get a TypeError that names what
// was returned, the way option errors do. String(value) wrote the string '1000' as 1000 (so the message read "must
// return a number, got 1000") and a bigint 10n as 10.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemFileStore } from 'express-memfilestore';
import { call, callError } from './fixtures/store-calls.mjs';

for (const [value, shown] of [['1000', '"1000"'], [10n, '10n'], [null, 'null'], [{ ms: 5 }, 'an object']]) {
  test(`ttl function returning ${shown}: the TypeError to set and touch says ${shown}, nothing changes`, async () => {
    let junk = false;
    const store = new MemFileStore({ ttl: () => (junk ? value : 60_000) });
    await call(store, 'set', 'sid', { cookie: { path: '/' }, v: 1 });
    const before = store.store.get('sid');
    junk = true;
    for (const method of ['set', 'touch']) {
      const err = await callError(store, method, 'sid', { cookie: { path: '/x' }, v: 2 });
      assert.ok(err instanceof TypeError);
      assert.ok(err.message.endsWith(`got ${shown}`), `${method}: ${err.message}`);
    }
    assert.equal(store.store.get('sid'), before);
  });
}
