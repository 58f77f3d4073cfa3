// A `clock` that returns fractional milliseconds (performance.timeOrigin + performance.now(), a test's clock moved by
// halves): get() and ids()/all() must agree on whether a session is live at every instant. lru-cache compared the
// fractional reading against the entry's start and ttl and expired it up to a millisecond before the expiry the store
// computes (and saves, and lists): get() missed a session ids() and all() still returned.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemFileStore } from 'express-memfilestore';
import { call } from './fixtures/store-calls.mjs';

for (const [name, options, session] of [
  ['ttl option', { ttl: 10 }, { cookie: { path: '/' } }],
  ['cookie maxAge', {}, { cookie: { maxAge: 10, path: '/' } }],
]) {
  test(`fractional clock (${name}): get, ids and all agree at every instant around the expiry`, async () => {
    const start = 1_700_000_000_000.5;
    let now = start;
    const store = new MemFileStore({ clock: () => now, ...options });
    await call(store, 'set', 'sid', session);
    for (let dt = 8; dt <= 12; dt += 0.1) {
      now = start + dt;
      const listed = (await call(store, 'ids')).includes('sid');
      const inAll = Object.hasOwn(await call(store, 'all'), 'sid');
      const got = (await call(store, 'get', 'sid')) !== undefined;
      assert.equal(inAll, listed, `all() and ids() at +${dt.toFixed(1)} ms`);
      assert.equal(got, listed, `get() and ids() at +${dt.toFixed(1)} ms`);
      if (!got) return;
    }
    assert.fail('the session never expired');
  });
}

test('the clock is checked on its own reading, before the store floors it: a numeric string is refused', () => {
  // Found by mutation testing (src/options.ts:226): Math.floor('1700000000000') is a number, the reading is not.
  assert.throws(() => new MemFileStore({ clock: () => '1700000000000' }),
    { name: 'TypeError', message: 'express-memfilestore: option "clock" must be a function returning ms since the epoch, got "1700000000000"' });
  // Read in whole ms, 0.5 would be 0, which expiry arithmetic takes for "never": a clock below 1 ms is refused, naming what it returned.
  assert.throws(() => new MemFileStore({ clock: () => 0.5 }),
    { name: 'TypeError', message: 'express-memfilestore: option "clock" must be a function returning ms since the epoch, got 0.5' });
});
