// Every constructor option of MemFileStore (contract §2 "Options"), one describe() per option.
// Time is moved with the `clock` option (and node:test's mocked setInterval for the prune timer),
// never by sleeping, except where a test must show that a timer does NOT fire.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { MemFileStore } from 'express-memfilestore';
import { call, makeClock, sess, settle } from './fixtures/store-calls.mjs';

const require = createRequire(import.meta.url);
const session = require('express-session');
const Cookie = require('express-session/session/cookie');
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

const ONE_DAY = 86_400_000;
const MAX_TIMER_MS = 2 ** 31 - 1;


/** Collects process warnings emitted while `fn` runs (emitWarning emits on a later tick). */
async function warningsDuring(fn) {
  const seen = [];
  const onWarning = (w) => seen.push(w);
  process.on('warning', onWarning);
  try {
    await fn();
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', onWarning);
  }
  return seen;
}

describe('defaults and public properties', () => {
  test('options default like memorystore 1.6.8', () => {
    const store = new MemFileStore();
    assert.equal(typeof store.options, 'object');
    assert.equal(store.options.max, Infinity);
    assert.equal(store.options.checkPeriod, undefined);
    assert.equal(store.options.ttl, undefined);
    assert.equal(store.options.dispose, undefined);
    assert.ok(!store.options.stale);
    assert.ok(!store.options.noDisposeOnSet);
    assert.equal(store._checkInterval, undefined, 'no prune timer by default');
    assert.ok('_checkInterval' in store, '_checkInterval is a property, as in memorystore');
    assert.equal(store.serializer, JSON, 'serializer defaults to JSON');
    assert.ok(store.store, 'the cache is exposed as store.store');
    assert.equal(typeof store.store.get, 'function');
    assert.equal(typeof store.store.set, 'function');
  });

  test('given options are kept on store.options as given', () => {
    const dispose = () => {};
    const ttl = () => 1000;
    const a = new MemFileStore({ max: 10, checkPeriod: 10_000, ttl: 36_000, dispose: null, stale: true, noDisposeOnSet: true });
    assert.equal(a.options.max, 10);
    assert.equal(a.options.checkPeriod, 10_000);
    assert.equal(a.options.ttl, 36_000);
    assert.equal(a.options.dispose, null);
    assert.equal(a.options.stale, true);
    assert.equal(a.options.noDisposeOnSet, true);
    a.stopInterval();
    const b = new MemFileStore({ ttl, dispose });
    assert.equal(b.options.ttl, ttl);
    assert.equal(b.options.dispose, dispose);
  });

  test('the store is an express-session Store (both module forms)', () => {
    const store = new MemFileStore();
    assert.ok(store instanceof session.Store);
    assert.equal(typeof store.on, 'function', 'an EventEmitter');
    const Factory = require('express-memfilestore')(session);
    assert.ok(new Factory() instanceof session.Store);
    assert.equal(Factory, require('express-memfilestore').MemFileStore);
    // memorystore's own tests pass a bare { Store } object.
    const Bare = require('express-memfilestore')({ Store: class {} });
    assert.ok(new Bare() instanceof session.Store);
  });
});

describe('invalid options', () => {
  const cases = [
    [{ max: -1 }, 'max', /-1/],
    [{ max: 1.5 }, 'max', /1\.5/],
    [{ max: '10' }, 'max', /"10"/],
    [{ maxSize: -5 }, 'maxSize', /-5/],
    [{ maxSize: 'big' }, 'maxSize', /"big"/],
    [{ ttl: 'x' }, 'ttl', /"x"/],
    [{ ttl: -1 }, 'ttl', /-1/],
    [{ ttl: {} }, 'ttl', /object/],
    [{ serializer: {} }, 'serializer', /object/],
    [{ serializer: { stringify: JSON.stringify } }, 'serializer', /object/],
    [{ serializer: 'JSON' }, 'serializer', /"JSON"/],
    [{ checkPeriod: '1000' }, 'checkPeriod', /"1000"/],
    [{ dispose: 'no' }, 'dispose', /"no"/],
    [{ stale: 'yes' }, 'stale', /"yes"/],
    [{ noDisposeOnSet: 1 }, 'noDisposeOnSet', /1/],
    [{ clock: 5 }, 'clock', /5/],
  ];
  for (const [options, name, received] of cases) {
    test(`${JSON.stringify(options)} throws a TypeError naming "${name}", what it expects and what it got`, () => {
      assert.throws(() => new MemFileStore(options), (err) => {
        assert.ok(err instanceof TypeError, `TypeError, got ${err && err.name}`);
        assert.match(err.message, new RegExp(`\\b${name}\\b`), 'names the option');
        assert.match(err.message, /must be|expected/i, 'says what is expected');
        assert.match(err.message, received, 'shows the value received');
        return true;
      });
    });
  }

  test('an unknown option is ignored with a process warning naming it', async () => {
    const warnings = await warningsDuring(() => {
      const store = new MemFileStore({ maxAge: 1000, checkperiod: 5 });
      assert.equal(store._checkInterval, undefined);
    });
    const messages = warnings.map((w) => w.message).join('\n');
    assert.match(messages, /maxAge/);
    assert.match(messages, /checkperiod/);
  });

  test('memorystore\'s own options cause no warning', async () => {
    const warnings = await warningsDuring(() => {
      const store = new MemFileStore({
        checkPeriod: 1000, max: 10, ttl: 1000, dispose: () => {}, stale: false, noDisposeOnSet: false, serializer: JSON,
      });
      store.stopInterval();
    });
    assert.deepEqual(warnings.map((w) => w.message), []);
  });
});

describe('checkPeriod', () => {
  test('a finite positive checkPeriod starts an unref\'d prune timer', () => {
    const store = new MemFileStore({ checkPeriod: 1000 });
    try {
      assert.ok(store._checkInterval, 'timer started');
      assert.equal(store._checkInterval.hasRef(), false, 'the timer must not keep the process alive');
    } finally {
      store.stopInterval();
    }
    assert.equal(store._checkInterval, undefined, 'stopInterval clears _checkInterval');
  });

  for (const checkPeriod of [0, -1, Infinity, -Infinity, null, undefined]) {
    test(`checkPeriod ${checkPeriod} starts no timer`, () => {
      const store = new MemFileStore({ checkPeriod });
      assert.equal(store._checkInterval, undefined);
    });
  }

  test('the prune timer removes expired entries every checkPeriod', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const clock = makeClock();
    const store = new MemFileStore({ checkPeriod: 1000, clock: clock.fn });
    await call(store, 'set', 'short', sess(500));
    await call(store, 'set', 'long', sess(60_000));
    clock.advance(600);
    assert.equal(await call(store, 'length'), 2, 'expired but not yet pruned');
    t.mock.timers.tick(1000);
    assert.equal(await call(store, 'length'), 1, 'pruned by the timer');
    assert.deepEqual(await call(store, 'ids'), ['long']);
    store.stopInterval();
  });

  test('startInterval twice keeps one timer; stopInterval stops pruning', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const store = new MemFileStore({ checkPeriod: 1000 });
    let prunes = 0;
    store.prune = () => { prunes++; };
    store.startInterval();
    t.mock.timers.tick(1000);
    assert.equal(prunes, 1, 'one prune per period, not one per startInterval call');
    store.stopInterval();
    assert.equal(store._checkInterval, undefined);
    t.mock.timers.tick(5000);
    assert.equal(prunes, 1, 'no prune after stopInterval');
    store.startInterval();
    assert.ok(store._checkInterval);
    t.mock.timers.tick(1000);
    assert.equal(prunes, 2, 'startInterval restarts it');
    store.stopInterval();
  });

  for (const checkPeriod of [2 ** 31, 30 * ONE_DAY, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
    test(`checkPeriod ${checkPeriod} (> 2^31-1 ms) is clamped: no 1 ms busy loop`, async () => {
      let store;
      let prunes = 0;
      const warnings = await warningsDuring(async () => {
        store = new MemFileStore({ checkPeriod });
        store.prune = () => { prunes++; };
        // A timer that overflowed fires every 1 ms: 40 ms is ample to see it.
        await new Promise((resolve) => setTimeout(resolve, 40));
      });
      try {
        assert.ok(store._checkInterval, 'a timer still runs');
        assert.equal(store._checkInterval._idleTimeout, MAX_TIMER_MS, 'period clamped to the largest timer delay');
        assert.equal(store._checkInterval.hasRef(), false);
        assert.equal(prunes, 0, 'the prune timer must not fire in a loop');
        assert.deepEqual(warnings.filter((w) => w.name === 'TimeoutOverflowWarning').map((w) => w.message), []);
        assert.equal(store.options.checkPeriod, checkPeriod, 'options keep the value given');
      } finally {
        store.stopInterval();
      }
    });
  }

  test('a store with a prune timer and sessions does not keep the process alive', () => {
    const script = `
      const { MemFileStore } = require('express-memfilestore');
      const store = new MemFileStore({ checkPeriod: 1000, ttl: 60000 });
      store.set('a', { cookie: { maxAge: 60000 } }, (err) => { if (err) throw err; console.log('stored'); });
    `;
    // If any timer were ref'd, the child would not exit and execFileSync would time out.
    const out = execFileSync(process.execPath, ['-e', script], { cwd: repoRoot, timeout: 20_000, encoding: 'utf8' });
    assert.equal(out.trim(), 'stored');
  });
});

describe('max', () => {
  test('max: 0 is kept as 0 in options and means no limit', async () => {
    const store = new MemFileStore({ max: 0 });
    assert.equal(store.options.max, 0);
    for (let i = 0; i < 200; i++) store.set(`s${i}`, sess(60_000));
    assert.equal(await call(store, 'length'), 200);
  });

  test('max: null is Infinity, as in memorystore', () => {
    assert.equal(new MemFileStore({ max: null }).options.max, Infinity);
  });

  test('max bounds the number of sessions', async () => {
    const store = new MemFileStore({ max: 10 });
    for (let i = 0; i < 15; i++) store.set(i, sess(60_000));
    assert.equal(await call(store, 'length'), 10);
    assert.deepEqual(await call(store, 'ids'), ['14', '13', '12', '11', '10', '9', '8', '7', '6', '5']);
  });

  test('the least recently used session is evicted first; get refreshes recency', async () => {
    const store = new MemFileStore({ max: 3 });
    await call(store, 'set', 'a', sess(60_000, { n: 'a' }));
    await call(store, 'set', 'b', sess(60_000, { n: 'b' }));
    await call(store, 'set', 'c', sess(60_000, { n: 'c' }));
    assert.equal((await call(store, 'get', 'a')).n, 'a'); // a is now most recently used
    await call(store, 'set', 'd', sess(60_000, { n: 'd' })); // evicts b, the least recently used
    assert.equal(await call(store, 'get', 'b'), undefined);
    assert.deepEqual(await call(store, 'ids'), ['d', 'a', 'c']);
    await call(store, 'touch', 'c', sess(60_000)); // touch also counts as a use
    await call(store, 'set', 'e', sess(60_000, { n: 'e' })); // evicts a
    assert.deepEqual(await call(store, 'ids'), ['e', 'c', 'd']);
  });
});

describe('maxSize', () => {
  // 'é' is 2 bytes in UTF-8 and 1 UTF-16 code unit: a size counted in characters would fit a third entry.
  const big = (n) => sess(60_000, { text: 'é'.repeat(200), n });
  const bytes = (id, s) => Buffer.byteLength(id) + Buffer.byteLength(JSON.stringify(s));

  test('is kept on options; default Infinity', () => {
    assert.equal(new MemFileStore().options.maxSize, Infinity);
    assert.equal(new MemFileStore({ maxSize: 1000 }).options.maxSize, 1000);
  });

  test('bounds the UTF-8 bytes of ids plus stored strings, evicting the least recently used', async () => {
    const one = bytes('a', big('a'));
    assert.ok(3 * (one - 200) < 2 * one + 1, 'the test needs a size that a char count would not reach');
    const evicted = [];
    const store = new MemFileStore({ maxSize: 2 * one + 1, dispose: (sid, _v, reason) => evicted.push([sid, reason]) });
    await call(store, 'set', 'a', big('a'));
    await call(store, 'set', 'b', big('b'));
    assert.equal(await call(store, 'length'), 2, 'two entries fit');
    await call(store, 'get', 'a'); // a most recently used
    await call(store, 'set', 'c', big('c'));
    assert.deepEqual(evicted, [['b', 'evict']]);
    assert.deepEqual(await call(store, 'ids'), ['c', 'a']);
    assert.equal(await call(store, 'get', 'b'), undefined);
  });

  test('entries that fit exactly stay', async () => {
    const s1 = sess(60_000, { x: 'ü' });
    const store = new MemFileStore({ maxSize: bytes('k1', s1) + bytes('k2', s1) });
    await call(store, 'set', 'k1', s1);
    await call(store, 'set', 'k2', s1);
    assert.deepEqual(await call(store, 'ids'), ['k2', 'k1']);
  });

  test('a session larger than maxSize: RangeError to the set caller, the old entry stays', async () => {
    const small = sess(60_000, { v: 1 });
    const store = new MemFileStore({ maxSize: 300 });
    await call(store, 'set', 'x', small);
    await call(store, 'set', 'y', small);
    const { err } = await settle(store, 'set', 'x', sess(60_000, { v: 2, blob: 'z'.repeat(400) }));
    assert.ok(err instanceof RangeError, `RangeError expected, got ${err}`);
    assert.deepEqual(await call(store, 'get', 'x'), small, 'the previous version is kept');
    assert.deepEqual(await call(store, 'get', 'y'), small, 'other entries are not evicted for it');
    assert.equal(await call(store, 'length'), 2);
  });

  test('a too large session via touch is refused the same way', async () => {
    const store = new MemFileStore({ maxSize: 300 });
    const small = sess(60_000, { v: 1 });
    await call(store, 'set', 'x', small);
    const { err } = await settle(store, 'touch', 'x', { cookie: { maxAge: 60_000, pad: 'p'.repeat(400) } });
    assert.ok(err instanceof RangeError, `RangeError expected, got ${err}`);
    assert.deepEqual(await call(store, 'get', 'x'), small);
  });
});

describe('ttl', () => {
  test('default: the cookie\'s remaining maxAge', async () => {
    const clock = makeClock();
    const store = new MemFileStore({ clock: clock.fn });
    await call(store, 'set', 'a', sess(1000));
    clock.advance(999);
    assert.ok(await call(store, 'get', 'a'), 'alive before maxAge');
    clock.advance(2);
    assert.equal(await call(store, 'get', 'a'), undefined, 'gone after maxAge');
  });

  test('default with a real express-session Cookie: remaining time, not originalMaxAge', async () => {
    const clock = makeClock();
    const store = new MemFileStore({ clock: clock.fn });
    const cookie = new Cookie({ maxAge: 3_600_000 });
    cookie.expires = new Date(Date.now() + 5000); // 5 s remaining, originalMaxAge 1 h
    cookie.originalMaxAge = 3_600_000;
    await call(store, 'set', 'a', { cookie, user: 1 });
    clock.advance(4000);
    assert.ok(await call(store, 'get', 'a'));
    clock.advance(2000);
    assert.equal(await call(store, 'get', 'a'), undefined);
  });

  test('default without cookie.maxAge (browser-session cookie or none): one day', async () => {
    const clock = makeClock();
    const store = new MemFileStore({ clock: clock.fn });
    await call(store, 'set', 'nullMaxAge', { cookie: { originalMaxAge: null, maxAge: null, expires: null } });
    await call(store, 'set', 'noMaxAge', { cookie: {} });
    await call(store, 'set', 'noCookie', { user: 1 });
    clock.advance(ONE_DAY - 1);
    assert.deepEqual((await call(store, 'ids')).sort(), ['noCookie', 'noMaxAge', 'nullMaxAge']);
    clock.advance(2);
    assert.deepEqual(await call(store, 'ids'), []);
    for (const id of ['nullMaxAge', 'noMaxAge', 'noCookie']) assert.equal(await call(store, 'get', id), undefined);
  });

  test('a cookie that already expired is not stored (and does not keep an older version)', async () => {
    const clock = makeClock();
    const store = new MemFileStore({ clock: clock.fn });
    await call(store, 'set', 'a', sess(60_000, { v: 1 }));
    await call(store, 'set', 'a', sess(-5, { v: 2 }));
    assert.equal(await call(store, 'get', 'a'), undefined);
  });

  test('a number overrides the cookie', async () => {
    const clock = makeClock();
    const store = new MemFileStore({ ttl: 5000, clock: clock.fn });
    await call(store, 'set', 'short', sess(100));
    await call(store, 'set', 'long', sess(ONE_DAY * 30));
    clock.advance(4999);
    assert.ok(await call(store, 'get', 'short'), 'the cookie\'s 100 ms are ignored');
    clock.advance(2);
    assert.equal(await call(store, 'get', 'short'), undefined);
    assert.equal(await call(store, 'get', 'long'), undefined, 'the cookie\'s 30 days are ignored');
  });

  test('ttl: 0 means never expires', async () => {
    const clock = makeClock();
    const store = new MemFileStore({ ttl: 0, clock: clock.fn });
    await call(store, 'set', 'a', sess(100));
    clock.advance(10 * 365 * ONE_DAY);
    assert.ok(await call(store, 'get', 'a'));
  });

  test('a function is called with (options, session, sid) and its result used', async () => {
    const clock = makeClock();
    const calls = [];
    const store = new MemFileStore({
      clock: clock.fn,
      ttl: (options, s, sid) => { calls.push([options, s, sid]); return s.role === 'admin' ? 1000 : 0; },
    });
    const admin = sess(ONE_DAY, { role: 'admin' });
    await call(store, 'set', 'adm', admin);
    await call(store, 'set', 'usr', sess(100, { role: 'user' }));
    assert.equal(calls.length, 2);
    assert.equal(calls[0][0], store.options);
    assert.equal(calls[0][1], admin);
    assert.equal(calls[0][2], 'adm');
    clock.advance(1001);
    assert.equal(await call(store, 'get', 'adm'), undefined, '1000 ms from the function');
    clock.advance(ONE_DAY * 365);
    assert.ok(await call(store, 'get', 'usr'), '0 from the function: never expires');
  });

  test('the ttl function is also used by touch', async () => {
    const clock = makeClock();
    let ms = 1000;
    const store = new MemFileStore({ clock: clock.fn, ttl: () => ms });
    await call(store, 'set', 'a', sess(1000));
    ms = 10_000;
    clock.advance(900);
    await call(store, 'touch', 'a', sess(1000));
    clock.advance(5000);
    assert.ok(await call(store, 'get', 'a'));
  });

  test('a throwing ttl function or one returning a non-number: error to set, nothing stored', async () => {
    const boom = new Error('boom');
    const throwing = new MemFileStore({ ttl: () => { throw boom; } });
    const r1 = await settle(throwing, 'set', 'a', sess(1000));
    assert.equal(r1.err, boom);
    assert.equal(await call(throwing, 'length'), 0);

    const notNumber = new MemFileStore({ ttl: () => 'soon' });
    const r2 = await settle(notNumber, 'set', 'a', sess(1000));
    assert.ok(r2.err instanceof TypeError);
    assert.equal(await call(notNumber, 'length'), 0);
  });
});

describe('dispose and noDisposeOnSet', () => {
  test('dispose is called with (sid, storedString, reason) for evict, set, delete and expire', async () => {
    const clock = makeClock();
    const events = [];
    const store = new MemFileStore({ max: 2, clock: clock.fn, dispose: (...args) => events.push(args) });
    const a1 = sess(60_000, { v: 1 });
    const a2 = sess(60_000, { v: 2 });
    const b = sess(60_000, { v: 'b' });
    const c = sess(1000, { v: 'c' });
    await call(store, 'set', 'a', a1);
    await call(store, 'set', 'a', a2); // overwrite
    assert.deepEqual(events.shift(), ['a', JSON.stringify(a1), 'set']);
    await call(store, 'set', 'b', b);
    await call(store, 'set', 'c', c); // max 2: evicts a
    assert.deepEqual(events.shift(), ['a', JSON.stringify(a2), 'evict']);
    await call(store, 'destroy', 'b');
    assert.deepEqual(events.shift(), ['b', JSON.stringify(b), 'delete']);
    clock.advance(2000);
    assert.equal(await call(store, 'get', 'c'), undefined);
    assert.deepEqual(events.shift(), ['c', JSON.stringify(c), 'expire']);
    assert.deepEqual(events, []);
  });

  test('prune disposes expired entries with reason "expire", clear with "delete"', async () => {
    const clock = makeClock();
    const events = [];
    const store = new MemFileStore({ clock: clock.fn, dispose: (sid, _v, reason) => events.push([sid, reason]) });
    await call(store, 'set', 'old', sess(1000));
    await call(store, 'set', 'new', sess(60_000));
    clock.advance(1001);
    store.prune();
    assert.deepEqual(events.splice(0), [['old', 'expire']]);
    await call(store, 'clear');
    assert.deepEqual(events.splice(0), [['new', 'delete']]);
  });

  test('touch replacing the stored string disposes the old one with reason "set"', async () => {
    const events = [];
    const store = new MemFileStore({ dispose: (...args) => events.push(args) });
    const s = sess(60_000, { u: 1 });
    await call(store, 'set', 'a', s);
    await call(store, 'touch', 'a', sess(30_000));
    assert.deepEqual(events, [['a', JSON.stringify(s), 'set']]);
  });

  test('noDisposeOnSet: no dispose when set or touch overwrite; other reasons still reported', async () => {
    const events = [];
    const store = new MemFileStore({ max: 1, noDisposeOnSet: true, dispose: (sid, _v, reason) => events.push([sid, reason]) });
    await call(store, 'set', 'a', sess(60_000, { v: 1 }));
    await call(store, 'set', 'a', sess(60_000, { v: 2 }));
    await call(store, 'touch', 'a', sess(10_000));
    assert.deepEqual(events, []);
    await call(store, 'set', 'b', sess(60_000)); // evicts a
    await call(store, 'destroy', 'b');
    assert.deepEqual(events, [['a', 'evict'], ['b', 'delete']]);
  });

  test('a throwing dispose breaks nothing; the error is reported as an "error" event', async () => {
    const boom = new Error('dispose failed');
    const store = new MemFileStore({ dispose: () => { throw boom; } });
    const errors = [];
    store.on('error', (err) => errors.push(err));
    await call(store, 'set', 'a', sess(60_000));
    await call(store, 'destroy', 'a');
    assert.equal(await call(store, 'get', 'a'), undefined);
    assert.deepEqual(errors, [boom]);
  });
});

describe('stale', () => {
  test('default: an expired session is never returned by get, all or ids', async () => {
    const clock = makeClock();
    const store = new MemFileStore({ clock: clock.fn });
    await call(store, 'set', 'old', sess(1000, { v: 'old' }));
    await call(store, 'set', 'live', sess(60_000, { v: 'live' }));
    clock.advance(1001);
    assert.deepEqual(await call(store, 'ids'), ['live']);
    assert.deepEqual(Object.keys(await call(store, 'all')), ['live']);
    assert.equal(await call(store, 'get', 'old'), undefined);
    assert.equal(await call(store, 'get', 'old'), undefined);
  });

  test('stale: true returns an expired session once from get, then it is gone', async () => {
    const clock = makeClock();
    const store = new MemFileStore({ stale: true, clock: clock.fn });
    await call(store, 'set', 'old', sess(1000, { v: 'old' }));
    clock.advance(1001);
    assert.equal((await call(store, 'get', 'old')).v, 'old');
    assert.equal(await call(store, 'get', 'old'), undefined);
    assert.equal(await call(store, 'length'), 0);
  });

  test('stale: true: all() returns live sessions only (the README\'s all()); get still returns the expired one once', async () => {
    const clock = makeClock();
    const store = new MemFileStore({ stale: true, clock: clock.fn });
    await call(store, 'set', 'old', sess(1000, { v: 'old' }));
    await call(store, 'set', 'live', sess(60_000, { v: 'live' }));
    clock.advance(1001);
    for (let i = 0; i < 2; i++) {
      const all = await call(store, 'all');
      assert.deepEqual(Object.keys(all), ['live'], `all() call ${i + 1}: no expired session, even with stale`);
      assert.equal(all.live.v, 'live');
    }
    assert.deepEqual(await call(store, 'ids'), ['live']);
    assert.equal((await call(store, 'get', 'old')).v, 'old', 'stale: get returns the expired session once');
    assert.equal(await call(store, 'get', 'old'), undefined);
  });

  test('stale: true does not let touch revive an expired session', async () => {
    const clock = makeClock();
    const store = new MemFileStore({ stale: true, clock: clock.fn });
    await call(store, 'set', 'old', sess(1000));
    clock.advance(1001);
    await call(store, 'touch', 'old', sess(60_000));
    clock.advance(1);
    const got = await call(store, 'get', 'old');
    assert.ok(got === undefined || got.cookie.maxAge === 1000, 'touch must not have renewed it');
    assert.equal(await call(store, 'get', 'old'), undefined);
  });
});

describe('serializer', () => {
  const base64 = {
    stringify: (v) => Buffer.from(JSON.stringify(v)).toString('base64'),
    parse: (s) => JSON.parse(Buffer.from(s, 'base64').toString('utf8')),
  };

  test('a custom serializer stores its own strings and round-trips', async () => {
    const store = new MemFileStore({ serializer: base64 });
    assert.equal(store.serializer, base64);
    const s = sess(60_000, { user: 'ünï', n: 1 });
    await call(store, 'set', 'a', s);
    assert.equal(store.store.get('a'), base64.stringify(s));
    assert.deepEqual(await call(store, 'get', 'a'), s);
    assert.deepEqual(await call(store, 'all'), { a: s });
  });

  test('stringify throwing: the error once to set, nothing stored, the old version kept', async () => {
    let fail = false;
    const boom = new Error('cannot stringify');
    const store = new MemFileStore({
      serializer: { stringify: (v) => { if (fail) throw boom; return JSON.stringify(v); }, parse: JSON.parse },
    });
    const s = sess(60_000, { v: 1 });
    await call(store, 'set', 'a', s);
    fail = true;
    let calls = 0;
    const err = await new Promise((resolve) => store.set('a', sess(60_000, { v: 2 }), (e) => { calls++; resolve(e); }));
    const errNew = await settle(store, 'set', 'b', sess(60_000));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(err, boom);
    assert.equal(calls, 1);
    assert.equal(errNew.err, boom);
    fail = false;
    assert.deepEqual(await call(store, 'get', 'a'), s);
    assert.equal(await call(store, 'get', 'b'), undefined);
  });

  test('a circular session with the default JSON serializer: TypeError once, not stored', async () => {
    const store = new MemFileStore();
    const circular = sess(60_000);
    circular.self = circular;
    const { err } = await settle(store, 'set', 'c', circular);
    assert.ok(err instanceof TypeError);
    assert.equal(await call(store, 'get', 'c'), undefined);
  });

  for (const [label, result] of [['a number', 42], ['undefined', undefined], ['a Buffer', Buffer.from('x')], ['an object', {}]]) {
    test(`stringify returning ${label}: TypeError to set, nothing stored`, async () => {
      const store = new MemFileStore({ serializer: { stringify: () => result, parse: JSON.parse } });
      const { err } = await settle(store, 'set', 'a', sess(60_000));
      assert.ok(err instanceof TypeError, `TypeError expected, got ${err}`);
      assert.equal(await call(store, 'length'), 0);
      assert.deepEqual(await call(store, 'ids'), []);
    });
  }

  test('parse throwing: the error to get and to all', async () => {
    const boom = new SyntaxError('bad data');
    const store = new MemFileStore({ serializer: { stringify: JSON.stringify, parse: () => { throw boom; } } });
    await call(store, 'set', 'a', sess(60_000));
    assert.equal((await settle(store, 'get', 'a')).err, boom);
    assert.equal((await settle(store, 'all')).err, boom);
  });
});
