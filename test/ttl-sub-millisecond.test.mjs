// A positive lifetime shorter than the clock's floating-point step (about 0.00024 ms at today's epoch ms): `now + ttl`
// rounds back to `now`, and the expiry came out as `now` itself. lru-cache was handed a ttl of 0, its "no expiry", so
// the session was served for ever in memory, and the snapshot wrote it as "never" (0), while the journal record said
// it had expired: a restart from the journal dropped it, one from the snapshot kept it for good.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call } from './fixtures/store-calls.mjs';
import { manualClock, tempDir, track } from './fixtures/persist/helpers.mjs';

const TINY = 1e-5;

describe('a positive lifetime below the clock\'s resolution ends at the next millisecond, not never', () => {
  for (const [name, ttl] of [['the ttl number', TINY], ['the ttl function', () => TINY]]) {
    test(`${name}: in memory, and across a restart from the snapshot`, async (t) => {
      const file = join(tempDir(t), 'sessions.db');
      const clock = manualClock();
      const T0 = clock.now;
      const open = async () => {
        const store = track(t, new MemFileStore({ ttl, saveFile: file, clock: clock.fn }));
        await store.ready;
        return store;
      };
      const store = await open();
      await call(store, 'set', 'sid', { cookie: { path: '/' }, user: 1 });
      assert.equal((await call(store, 'get', 'sid'))?.user, 1, 'live in the millisecond it was set');
      await store.close(); // a snapshot that stands alone: its record's expiry decides
      const again = await open();
      assert.equal((await call(again, 'get', 'sid'))?.user, 1, 'loaded in the same millisecond');
      clock.now = T0 + 1;
      assert.equal(await call(again, 'get', 'sid'), undefined, 'gone a millisecond later');
      assert.deepEqual(await call(again, 'ids'), []);
      await again.close();
      clock.now = T0;
      const third = await open();
      clock.now = T0 + 1;
      assert.equal(await call(third, 'get', 'sid'), undefined, 'the snapshot written from memory says it ends, not "never"');
    });
  }
});
