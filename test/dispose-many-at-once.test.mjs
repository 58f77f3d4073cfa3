// One call that removes many sessions at once (clear(), a prune after a mass expiry) with a `dispose` hook: the hooks
// wait until the cache operation is complete (README, `dispose`), then run in order. Running 200k of them must cost
// about what removing 200k sessions costs, not grow with the square of their number: a queue drained with
// Array#shift copies what is left at every step once it is large (V8 cannot trim the front of a large array), and
// turned a clear() of 400k sessions into a 13 s stall of the event loop (0.2 s without a hook).
//
// Not a timing test in the usual sense: each run is compared with the same operation without a hook, in the same
// process, and only a ratio of 10 fails it. Linear work measures 1-3x here; the quadratic drain measured 40x at this
// size (clear) and grows with the size, so machine noise cannot make or hide the difference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemFileStore } from 'express-memfilestore';

const SESSIONS = 200_000;
const RATIO = 10;

/** A store holding SESSIONS sessions that end in a second, on a clock the test moves. */
function filled(dispose) {
  const clock = { now: Date.now() };
  const store = new MemFileStore({ checkPeriod: 0, clock: () => clock.now, ...(dispose ? { dispose } : {}) });
  for (let i = 0; i < SESSIONS; i++) store.set(`s${i}`, { cookie: { maxAge: 1000 }, n: i });
  return { store, clock };
}

function timed(fn) {
  const started = performance.now();
  fn();
  return performance.now() - started;
}

test(`clear() of ${SESSIONS} sessions with a dispose hook calls it once per session, in linear time`, { timeout: 120_000 }, async (t) => {
  const plain = filled(undefined);
  t.after(() => plain.store.close());
  const without = timed(() => plain.store.clear());
  let calls = 0;
  const hooked = filled(() => { calls++; });
  t.after(() => hooked.store.close());
  const withHook = timed(() => hooked.store.clear());
  assert.equal(calls, SESSIONS);
  assert.equal(hooked.store.stats.sessions, 0);
  assert.ok(withHook < RATIO * without + 100,
    `clear() took ${withHook.toFixed(0)} ms with a dispose hook, ${without.toFixed(0)} ms without: the hooks' queue is not linear`);
});

test(`a prune of ${SESSIONS} expired sessions with a dispose hook calls it once per session, in linear time`, { timeout: 120_000 }, async (t) => {
  const plain = filled(undefined);
  t.after(() => plain.store.close());
  plain.clock.now += 2000;
  const without = timed(() => plain.store.prune());
  const reasons = new Map();
  const hooked = filled((_sid, _value, reason) => { reasons.set(reason, (reasons.get(reason) ?? 0) + 1); });
  t.after(() => hooked.store.close());
  hooked.clock.now += 2000;
  const withHook = timed(() => hooked.store.prune());
  assert.deepEqual([...reasons], [['expire', SESSIONS]]);
  assert.equal(hooked.store.stats.sessions, 0);
  assert.ok(withHook < RATIO * without + 100,
    `prune() took ${withHook.toFixed(0)} ms with a dispose hook, ${without.toFixed(0)} ms without: the hooks' queue is not linear`);
});

test('hooks that change the store during the drain run after the ones queued before them, each once', async (t) => {
  const order = [];
  const store = new MemFileStore({
    checkPeriod: 0,
    dispose: (sid, _value, reason) => {
      order.push(`${sid}:${reason}`);
      // A hook that adds and removes a session queues that one's hook behind the ones already waiting.
      if (sid === 'a') {
        store.set('n', { cookie: { maxAge: 60_000 } });
        store.destroy('n');
      }
    },
  });
  t.after(() => store.close());
  for (const sid of ['a', 'b', 'c']) store.set(sid, { cookie: { maxAge: 60_000 } });
  store.clear();
  assert.deepEqual(order, ['a:delete', 'b:delete', 'c:delete', 'n:delete']);
  assert.equal(store.stats.sessions, 0);
  // The queue is empty afterwards: the next removal calls only its own hook.
  store.set('d', { cookie: { maxAge: 60_000 } });
  store.destroy('d');
  assert.deepEqual(order.slice(4), ['d:delete']);
});
