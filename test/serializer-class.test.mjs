// A serializer given as a class with static stringify and parse: superjson's default export has that shape
// (`serializer: SuperJSON`), and memorystore 1.6.8 took it (`options.serializer || JSON`). The README promises every
// memorystore option is accepted with the same meaning; a function with stringify and parse is such a serializer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemFileStore } from 'express-memfilestore';
import { call } from './fixtures/store-calls.mjs';

class ClassSerializer {
  static stringify(value) { return `C${JSON.stringify(value)}`; }
  static parse(text) { return JSON.parse(text.slice(1)); }
}

test('a class with static stringify and parse is accepted as serializer, and used', async () => {
  const store = new MemFileStore({ serializer: ClassSerializer });
  assert.equal(store.serializer, ClassSerializer);
  const session = { cookie: { originalMaxAge: 60_000, maxAge: 60_000, path: '/' }, user: 1 };
  await call(store, 'set', 'sid', session);
  assert.equal(store.store.get('sid'), `C${JSON.stringify(session)}`);
  assert.deepEqual(await call(store, 'get', 'sid'), JSON.parse(JSON.stringify(session)));
});

test('a function without stringify and parse is still refused, naming the option', () => {
  assert.throws(() => new MemFileStore({ serializer: () => {} }), { name: 'TypeError', message: /option "serializer".*got a function/ });
});

test('an object or a class with only one of stringify and parse is refused, naming the option', () => {
  // Found by mutation testing (src/options.ts:205): each function is required, whatever the serializer's kind.
  class OnlyParse { static parse(text) { return JSON.parse(text); } }
  class OnlyStringify { static stringify(value) { return JSON.stringify(value); } }
  for (const [serializer, got] of [[{ parse: JSON.parse }, /got an object/], [OnlyParse, /got a function/], [OnlyStringify, /got a function/]]) {
    assert.throws(() => new MemFileStore({ serializer }), { name: 'TypeError', message: new RegExp(`option "serializer" must be an object with stringify and parse functions, ${got.source}`) });
  }
});
