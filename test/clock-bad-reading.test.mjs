// A `clock` option that gives a good reading at construction (which checks it) and a bad one later: NaN (a date
// parsed from a bad string, `new Date(x).getTime()`), a string, or an exception (a mocked clock torn down while
// the store runs on). Before the fix, a NaN reading went into the expiry of the session set then: the set was
// acknowledged (with `journal: 'always'` too), the save failed, and the final snapshot of close() was written with
// a record its own loader refuses, so the next start rejected the whole file as damaged. A throwing clock threw out
// of set, get, touch and ids at their callers, and out of prune, which the `checkPeriod` timer calls: an
// uncaught exception in the host. The store keeps its last good reading, reports the bad one as an 'error'
// event, and what it acknowledged is loaded again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, manualClock, session, tempDir, track } from './fixtures/persist/helpers.mjs';
import { crashCopy } from './fixtures/journal/helpers.mjs';

/** Calls `store[method](...args, cb)`; resolves `{ thrown }` if the call throws, else `{ err, value }` once it calls back. */
function attempt(store, method, ...args) {
  return new Promise((resolve) => {
    try {
      store[method](...args, (err, value) => resolve({ err, value }));
    } catch (thrown) {
      resolve({ thrown });
    }
  });
}

for (const [name, bad] of [
  ['NaN', () => NaN],
  ['a string', () => 'soon'],
  ['Infinity', () => Infinity],
  ['an exception', () => { throw new Error('clock torn down'); }],
]) {
  test(`a clock that later gives ${name}: calls answer normally, the bad reading is reported, and a restart loads what was acknowledged`, { timeout: 20_000 }, async (t) => {
    const file = join(tempDir(t), 'sessions.db');
    const clock = manualClock();
    let broken = false;
    const store = track(t, new MemFileStore({
      saveFile: file, savePeriod: 0, journal: 'always', clock: () => (broken ? bad() : clock.fn()),
    }));
    await store.ready;
    const errors = [];
    store.on('error', (err) => { errors.push(err); });
    await call(store, 'set', 'before', session({ n: 1 }));

    broken = true;
    const set = await attempt(store, 'set', 'during', session({ n: 2 }));
    assert.deepEqual(set, { err: null, value: undefined }, 'the set is acknowledged, not thrown');
    for (const [method, ...args] of [['get', 'before'], ['touch', 'before', session({ n: 1 })], ['ids'], ['all']]) {
      const result = await attempt(store, method, ...args);
      assert.equal(result.thrown, undefined, `${method} does not throw`);
      assert.equal(result.err, null, `${method} calls back without an error`);
    }
    assert.doesNotThrow(() => store.prune(), 'prune (what the checkPeriod timer calls) does not throw');
    assert.deepEqual((await call(store, 'ids')).sort(), ['before', 'during']);
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(errors.length >= 1, 'the bad reading is reported');
    assert.match(errors[0].message, /clock/);

    // A kill -9 now: the journal holds the acknowledged set.
    const crashed = crashCopy(t, file);
    broken = false;
    await store.close();
    for (const [what, path] of [['after close()', file], ['after a kill -9', crashed]]) {
      const after = track(t, new MemFileStore({ saveFile: path, savePeriod: 0, clock: clock.fn }));
      await assert.doesNotReject(after.ready, `${what}: the files load`);
      assert.deepEqual((await call(after, 'ids')).sort(), ['before', 'during'], what);
      assert.equal((await call(after, 'get', 'during')).n, 2, what);
      await after.close();
    }
  });
}
