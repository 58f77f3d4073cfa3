// A custom serializer whose parse throws a value String() cannot convert (an object without a prototype, or whose
// toString throws). get() and all() promise the failure reaches the callback, later and exactly once, as an Error:
// it may never be thrown synchronously into the caller (express-session calls get() from its middleware).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemFileStore } from 'express-memfilestore';
import { afterCallbacks, call } from './fixtures/store-calls.mjs';

for (const [name, make] of [
  ['an object without a prototype', () => Object.create(null)],
  ['an object whose toString throws', () => ({ toString() { throw new Error('no string'); } })],
]) {
  for (const method of ['get', 'all']) {
    test(`serializer.parse throwing ${name}: ${method}() calls back once with an Error, never throws`, async () => {
      const store = new MemFileStore({ serializer: { stringify: JSON.stringify, parse() { throw make(); } } });
      await call(store, 'set', 'a', { cookie: { path: '/' }, user: 1 });
      const calls = [];
      let thrown;
      try {
        store[method](...(method === 'get' ? ['a'] : []), (...args) => { calls.push(args); });
      } catch (err) {
        thrown = err;
      }
      assert.equal(thrown, undefined, `${method}() does not throw into its caller`);
      assert.equal(calls.length, 0, 'called back later, not synchronously');
      // The callback itself, not a bare 20 ms timer (a loaded machine: 'called back exactly once', 0 !== 1).
      await afterCallbacks(() => calls.length > 0);
      assert.equal(calls.length, 1, 'called back exactly once');
      assert.ok(calls[0][0] instanceof Error, 'with an Error');
      assert.equal(typeof store.store.get('a'), 'string', 'the stored session is untouched');
    });
  }
}
