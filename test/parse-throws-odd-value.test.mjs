// A custom serializer whose parse throws a value String() cannot convert (an object without a prototype, or whose
// toString throws). get() and all() promise the failure reaches the callback, later and exactly once, as an Error:
// it may never be thrown synchronously into the caller (express-session calls get() from its middleware).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemFileStore } from 'express-memfilestore';
import { call } from './fixtures/store-calls.mjs';

for (const [name, make] of [
  ['an object without a prototype', () => Object.create(null)],
  ['an object whose toString throws', () => ({ toString() { throw new Error('no string'); } })],
]) {
  for (const method of ['get', 'all']) {
    // The timeout fails a store that never calls back (the test waits for the callback itself).
    test(`serializer.parse throwing ${name}: ${method}() calls back once with an Error, never throws`, { timeout: 20_000 }, async () => {
      const store = new MemFileStore({ serializer: { stringify: JSON.stringify, parse() { throw make(); } } });
      await call(store, 'set', 'a', { cookie: { path: '/' }, user: 1 });
      const calls = [];
      let calledBack;
      const first = new Promise((resolve) => { calledBack = resolve; });
      let thrown;
      try {
        store[method](...(method === 'get' ? ['a'] : []), (...args) => { calls.push(args); calledBack(); });
      } catch (err) {
        thrown = err;
      }
      assert.equal(thrown, undefined, `${method}() does not throw into its caller`);
      assert.equal(calls.length, 0, 'called back later, not synchronously');
      // Waiting for the callback, not a 20 ms timer: the callback is a setImmediate, and a timer set beside it
      // fires first when the loop stalls 20 ms before its next turn (a loaded machine: 'called back exactly once',
      // 0 !== 1, in a whole-suite run beside CPU burners; reproduced by a 30 ms busy wait after the timer).
      await first;
      // A second call would come on a later turn: a timer, then the immediates queued before ours.
      await new Promise((resolve) => setTimeout(resolve, 20));
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(calls.length, 1, 'called back exactly once');
      assert.ok(calls[0][0] instanceof Error, 'with an Error');
      assert.equal(typeof store.store.get('a'), 'string', 'the stored session is untouched');
    });
  }
}
