// copyEntries reads lru-cache's internals for speed; this pins its output to what lru-cache's public
// iteration says (and putEntry's expiry to the millisecond), so an lru-cache update that changes those internals fails here, not in production.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { copyEntries, putEntry } = require('../dist/store/lru-entries.js');
const { SessionLRU } = require('../dist/store/session-lru.js');
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

// The store's purgeStale (SessionLRU, a loop over lru-cache's arrays) against lru-cache's own, on twin caches: the same
// entries removed, in the same order, with the same dispose reasons, and the same entries left in the same order.
for (const max of [0, 50]) {
  test(`SessionLRU.purgeStale removes what lru-cache's purgeStale removes, in its order (max ${max})`, () => {
    let now = 1_800_000_000_000;
    const twin = (Class, disposed) => new Class({
      max, maxSize: Number.MAX_SAFE_INTEGER, sizeCalculation: (v) => v.length, perf: { now: () => now }, ttlResolution: 0,
      dispose: (value, key, reason) => { disposed.push(`${reason}:${key}=${value}`); },
    });
    const disposedOurs = [];
    const disposedTheirs = [];
    const ours = twin(SessionLRU, disposedOurs);
    const theirs = twin(LRUCache, disposedTheirs);
    // mulberry32: the low bits of the LCG above repeat too soon to mix operations with times and expiries.
    let seed = 7;
    const rand = (n) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
      return ((x ^ (x >>> 14)) >>> 0) % n;
    };
    let removed = 0;
    for (let step = 0; step < 5000; step++) {
      const id = `s${rand(120)}`;
      const op = rand(10);
      if (op < 5) {
        const expires = rand(4) === 0 ? 0 : now + 1 + rand(5000);
        putEntry(ours, id, `v${step}`, expires, now, 2);
        putEntry(theirs, id, `v${step}`, expires, now, 2);
      } else if (op < 7) {
        ours.peek(id);
        theirs.peek(id);
      } else if (op < 9) {
        now += rand(400);
      } else {
        const before = ours.size;
        assert.equal(ours.purgeStale(), LRUCache.prototype.purgeStale.call(theirs), `step ${step}: whether anything was removed`);
        removed += before - ours.size;
      }
      assert.deepEqual(disposedOurs, disposedTheirs, `step ${step}`);
    }
    assert.ok(removed > 100, `the scenario expires a fair number of entries (${removed})`);
    assert.deepEqual([...ours.keys()], [...theirs.keys()]);
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
