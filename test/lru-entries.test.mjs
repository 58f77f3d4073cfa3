// copyEntries reads lru-cache's internals for speed; this pins its output to what lru-cache's public
// iteration says (and putEntry's expiry to the millisecond), so an lru-cache update that changes those internals fails here, not in production.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { copyEntries, putEntry } = require('../dist/store/lru-entries.js');
// The same (CommonJS) lru-cache build the store uses: its ES module build is a different class.
const { LRUCache } = require('lru-cache');

function publicCopy(cache, now) {
  const ids = [];
  const values = [];
  const expires = [];
  cache.rforEach((value, id) => {
    // putEntry stores entries one ms early: the remaining time is one ms more than lru-cache says.
    const remaining = cache.getRemainingTTL(id) + 1;
    ids.push(id);
    values.push(value);
    expires.push(remaining === Infinity ? 0 : now + remaining);
  });
  return { ids, values, expires };
}

for (const max of [0, 50]) {
  test(`copyEntries equals rforEach + getRemainingTTL after random operations (max ${max})`, () => {
    let now = 1_800_000_000_000;
    const cache = new LRUCache({ max, maxSize: Number.MAX_SAFE_INTEGER, sizeCalculation: (v) => v.length, perf: { now: () => now }, ttlResolution: 0 });
    let seed = 42;
    const rand = (n) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    for (let step = 0; step < 5000; step++) {
      const id = `s${rand(120)}`;
      const op = rand(10);
      if (op < 5) putEntry(cache, id, `v${step}`, rand(4) === 0 ? 0 : now + 1 + rand(5000), now, 2);
      else if (op < 7) cache.get(id);
      else if (op < 8) cache.delete(id);
      else if (op < 9) now += rand(200);
      else cache.purgeStale();
      if (step % 250 === 0) assert.deepEqual(copyEntries(cache, now), publicCopy(cache, now), `step ${step}`);
    }
    const copy = copyEntries(cache, now);
    assert.ok(copy.ids.length > 10, 'the scenario keeps a fair number of entries');
    assert.deepEqual(copy, publicCopy(cache, now));
  });
}

test('copyEntries of an empty cache is empty', () => {
  const cache = new LRUCache({ max: 10 });
  assert.deepEqual(copyEntries(cache, Date.now()), { ids: [], values: [], expires: [] });
});

test('an entry expires at its expiry millisecond, for lru-cache and for copyEntries alike', () => {
  let now = 1_800_000_000_000;
  const cache = new LRUCache({ maxSize: Number.MAX_SAFE_INTEGER, sizeCalculation: (v) => v.length, perf: { now: () => now }, ttlResolution: 0 });
  putEntry(cache, 'a', 'x', now + 100, now, 1);
  now += 99;
  assert.equal(cache.get('a'), 'x');
  assert.deepEqual(copyEntries(cache, now).expires, [now + 1]);
  now += 1;
  assert.equal(copyEntries(cache, now).ids.length, 0);
  assert.equal(cache.get('a'), undefined);
});
