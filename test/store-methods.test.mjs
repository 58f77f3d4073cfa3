// Every method of MemFileStore (contract §2 "method | contract"), one describe() per method,
// plus session ids (numbers, invalid values) and close(). Time moves through the `clock` option.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemFileStore } from 'express-memfilestore';
import { call, makeClock, sess, settle } from './fixtures/store-calls.mjs';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('get', () => {
  test('returns the stored session (a fresh parsed copy)', async () => {
    const store = new MemFileStore();
    const s = sess(60_000, { user: { id: 7, name: 'Zoë' }, list: [1, 'two', null] });
    await call(store, 'set', 'a', s);
    const got = await call(store, 'get', 'a');
    assert.deepEqual(got, s);
    got.user.id = 8;
    assert.equal((await call(store, 'get', 'a')).user.id, 7, 'mutating the result does not change the store');
  });

  test('a missing session calls back with no error and no session', async () => {
    const store = new MemFileStore();
    const r = await settle(store, 'get', 'nope');
    assert.ok(r.err === undefined || r.err === null);
    assert.ok(r.value === undefined || r.value === null);
    assert.equal(await call(store, 'get', ''), undefined, 'the empty id is a valid, missing id');
  });

  test('an expired session is not returned and is removed', async () => {
    const clock = makeClock();
    const store = new MemFileStore({ clock: clock.fn });
    await call(store, 'set', 'a', sess(1000));
    clock.advance(1001);
    assert.equal(await call(store, 'get', 'a'), undefined);
    assert.equal(await call(store, 'length'), 0, 'the get removed it');
  });

  test('a session has expired from the millisecond its cookie expires (expires <= now)', async () => {
    // express-session's MemoryStore expires a session when `expires <= Date.now()`; MemFileStore's own
    // set() treats a cookie with 0 ms remaining as expired, and its ids()/all() and snapshot loader drop an
    // entry whose expiry <= now. get must agree with them at that exact instant.
    const clock = makeClock();
    const store = new MemFileStore({ clock: clock.fn });
    await call(store, 'set', 'a', sess(1000));
    clock.advance(999);
    assert.ok(await call(store, 'get', 'a'), '1 ms before expires: alive');
    clock.advance(1);
    const ids = await call(store, 'ids');
    const all = await call(store, 'all');
    const got = await call(store, 'get', 'a');
    assert.deepEqual({ ids, all: Object.keys(all), get: got === undefined ? 'expired' : 'alive' },
      { ids: [], all: [], get: 'expired' }, 'at now == expires the session has expired, for every method');
  });
});

describe('set', () => {
  test('stores serializer.stringify(session) under the id', async () => {
    const store = new MemFileStore();
    const s = sess(60_000, { n: 1 });
    await call(store, 'set', 'a', s);
    assert.equal(store.store.get('a'), JSON.stringify(s));
  });

  test('overwrites an existing session', async () => {
    const store = new MemFileStore();
    await call(store, 'set', 'a', sess(60_000, { n: 1 }));
    await call(store, 'set', 'a', sess(60_000, { n: 2 }));
    assert.equal((await call(store, 'get', 'a')).n, 2);
    assert.equal(await call(store, 'length'), 1);
  });

  test('set resets the expiry from the new session', async () => {
    const clock = makeClock();
    const store = new MemFileStore({ clock: clock.fn });
    await call(store, 'set', 'a', sess(1000, { n: 1 }));
    clock.advance(900);
    await call(store, 'set', 'a', sess(1000, { n: 2 }));
    clock.advance(900);
    assert.equal((await call(store, 'get', 'a')).n, 2);
  });

  test('the callback is optional', async () => {
    const store = new MemFileStore();
    store.set('a', sess(60_000));
    store.destroy('b');
    store.touch('a', sess(60_000));
    store.clear();
    await tick();
    assert.equal(await call(store, 'length'), 0);
  });
});

describe('destroy', () => {
  test('one id', async () => {
    const store = new MemFileStore();
    await call(store, 'set', 'a', sess(60_000));
    await call(store, 'set', 'b', sess(60_000));
    const r = await settle(store, 'destroy', 'a');
    assert.ok(r.err == null);
    assert.equal(await call(store, 'get', 'a'), undefined);
    assert.deepEqual(await call(store, 'ids'), ['b']);
  });

  test('an array of ids; missing ids are fine', async () => {
    const store = new MemFileStore();
    for (const id of ['a', 'b', 'c', 'd']) await call(store, 'set', id, sess(60_000));
    const r = await settle(store, 'destroy', ['a', 'missing', 'c']);
    assert.ok(r.err == null);
    assert.deepEqual((await call(store, 'ids')).sort(), ['b', 'd']);
    assert.ok((await settle(store, 'destroy', [])).err == null);
    assert.ok((await settle(store, 'destroy', 'never-there')).err == null);
    assert.equal(await call(store, 'length'), 2);
  });
});

describe('touch', () => {
  test('replaces only the cookie and moves the expiry', async () => {
    const clock = makeClock();
    const store = new MemFileStore({ clock: clock.fn });
    await call(store, 'set', 'a', sess(1000, { user: 'u1', views: 3 }));
    clock.advance(900);
    const newCookie = { originalMaxAge: 1000, maxAge: 1000, expires: new Date(clock.now + 1000).toISOString(), httpOnly: true, path: '/' };
    // The session given to touch may carry other data: only its cookie is taken (no write of the data).
    const r = await settle(store, 'touch', 'a', { cookie: newCookie, user: 'someone else', views: 99 });
    assert.ok(r.err == null);
    clock.advance(900); // 1800 ms after set: alive only because touch moved the expiry
    const got = await call(store, 'get', 'a');
    assert.deepEqual(got, { cookie: newCookie, user: 'u1', views: 3 });
    clock.advance(101);
    assert.equal(await call(store, 'get', 'a'), undefined, 'expires maxAge after the touch');
  });

  test('a missing session is not created (no upsert)', async () => {
    const store = new MemFileStore();
    const r = await settle(store, 'touch', 'ghost', sess(60_000, { data: 1 }));
    assert.ok(r.err == null);
    assert.equal(await call(store, 'get', 'ghost'), undefined);
    assert.equal(await call(store, 'length'), 0);
  });

  test('an expired session is not revived', async () => {
    const clock = makeClock();
    const store = new MemFileStore({ clock: clock.fn });
    await call(store, 'set', 'a', sess(1000));
    clock.advance(1001);
    const r = await settle(store, 'touch', 'a', sess(60_000));
    assert.ok(r.err == null);
    assert.equal(await call(store, 'get', 'a'), undefined);
    assert.equal(await call(store, 'length'), 0);
  });

  test('touch with an already expired cookie ends the session', async () => {
    const clock = makeClock();
    const store = new MemFileStore({ clock: clock.fn });
    await call(store, 'set', 'a', sess(60_000));
    await call(store, 'touch', 'a', sess(-1));
    assert.equal(await call(store, 'get', 'a'), undefined);
  });

  test('touch marks the session most recently used', async () => {
    const store = new MemFileStore();
    for (const id of ['a', 'b', 'c']) await call(store, 'set', id, sess(60_000));
    await call(store, 'touch', 'a', sess(60_000));
    assert.deepEqual(await call(store, 'ids'), ['a', 'c', 'b']);
  });

  test('a stored session that fails to parse on the slow path: error to touch, entry unchanged', async () => {
    let failParse = false;
    const boom = new Error('parse failed');
    const serializer = { stringify: JSON.stringify, parse: (s) => { if (failParse) throw boom; return JSON.parse(s); } };
    const store = new MemFileStore({ serializer });
    const s = sess(60_000, { v: 1 });
    await call(store, 'set', 'a', s);
    failParse = true;
    const r = await settle(store, 'touch', 'a', sess(5000));
    assert.equal(r.err, boom);
    assert.equal(store.store.get('a'), JSON.stringify(s));
  });
});

describe('ids', () => {
  test('most recently used first; get refreshes; no expired ids', async () => {
    const clock = makeClock();
    const store = new MemFileStore({ clock: clock.fn });
    for (let i = 0; i < 5; i++) await call(store, 'set', `s${i}`, sess(i === 2 ? 1000 : 60_000));
    assert.deepEqual(await call(store, 'ids'), ['s4', 's3', 's2', 's1', 's0']);
    await call(store, 'get', 's1');
    assert.deepEqual(await call(store, 'ids'), ['s1', 's4', 's3', 's2', 's0']);
    clock.advance(1001);
    assert.deepEqual(await call(store, 'ids'), ['s1', 's4', 's3', 's0']);
  });

  test('returns a new array each time, read at call time', async () => {
    const store = new MemFileStore();
    await call(store, 'set', 'a', sess(60_000));
    const p = settle(store, 'ids');
    store.set('b', sess(60_000));
    const { value } = await p;
    assert.deepEqual(value, ['a']);
    value.push('x');
    assert.deepEqual(await call(store, 'ids'), ['b', 'a']);
  });
});

describe('all', () => {
  test('an object { sid: session } of the live sessions', async () => {
    const clock = makeClock();
    const store = new MemFileStore({ clock: clock.fn });
    const live = {};
    for (let i = 0; i < 6; i++) {
      const s = sess(i % 2 ? 1000 : 60_000, { i });
      await call(store, 'set', `sess-${i}`, s);
      if (i % 2 === 0) live[`sess-${i}`] = s;
    }
    clock.advance(1001);
    const all = await call(store, 'all');
    assert.equal(typeof all, 'object');
    assert.ok(!Array.isArray(all));
    assert.deepEqual({ ...all }, live);
  });

  test('an empty store gives {}', async () => {
    assert.deepEqual({ ...(await call(new MemFileStore(), 'all')) }, {});
  });

  test('an id "__proto__" becomes a key and does not change the prototype', async () => {
    const store = new MemFileStore();
    const evil = sess(60_000, { polluted: true });
    await call(store, 'set', '__proto__', evil);
    await call(store, 'set', 'constructor', sess(60_000, { c: 1 }));
    await call(store, 'set', 'normal', sess(60_000, { n: 1 }));
    const all = await call(store, 'all');
    const proto = Object.getPrototypeOf(all);
    assert.ok(proto === Object.prototype || proto === null, 'prototype untouched');
    assert.ok(Object.hasOwn(all, '__proto__'));
    assert.deepEqual(Object.getOwnPropertyDescriptor(all, '__proto__').value, evil);
    assert.equal(all.polluted, undefined);
    assert.equal(all.constructor.c, 1);
    assert.deepEqual(Object.keys(all).sort(), ['__proto__', 'constructor', 'normal']);
    assert.equal({}.polluted, undefined, 'Object.prototype not polluted');
    assert.deepEqual(await call(store, 'get', '__proto__'), evil);
  });
});

describe('length', () => {
  test('counts sessions, read at call time (not when the callback runs)', async () => {
    const store = new MemFileStore();
    await call(store, 'set', 'a', sess(60_000));
    const p1 = settle(store, 'length');
    store.set('b', sess(60_000));
    store.set('c', sess(60_000));
    const p2 = settle(store, 'length');
    store.destroy('a');
    assert.equal((await p1).value, 1);
    assert.equal((await p2).value, 3);
    assert.equal(await call(store, 'length'), 2);
  });

  test('expired sessions not yet pruned still count (as in memorystore); prune removes them', async () => {
    const clock = makeClock();
    const store = new MemFileStore({ clock: clock.fn });
    await call(store, 'set', 'a', sess(1000));
    await call(store, 'set', 'b', sess(1000));
    await call(store, 'set', 'c', sess(60_000));
    clock.advance(1001);
    assert.equal(await call(store, 'length'), 3);
    store.prune();
    assert.equal(await call(store, 'length'), 1);
  });
});

describe('clear', () => {
  test('removes every session, disposing each', async () => {
    const disposed = [];
    const store = new MemFileStore({ dispose: (sid, _v, reason) => disposed.push([sid, reason]) });
    for (const id of ['a', 'b', 'c']) await call(store, 'set', id, sess(60_000));
    const r = await settle(store, 'clear');
    assert.ok(r.err == null);
    assert.equal(await call(store, 'length'), 0);
    assert.deepEqual(await call(store, 'ids'), []);
    assert.equal(await call(store, 'get', 'a'), undefined);
    assert.deepEqual(disposed.sort(), [['a', 'delete'], ['b', 'delete'], ['c', 'delete']]);
    await call(store, 'set', 'd', sess(60_000));
    assert.deepEqual(await call(store, 'ids'), ['d'], 'usable after clear');
  });
});

describe('prune', () => {
  test('removes expired sessions and keeps the LRU order of the others (memorystore 1.6.8 reversed it)', async () => {
    const clock = makeClock();
    const store = new MemFileStore({ clock: clock.fn });
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    for (const id of ids) await call(store, 'set', id, sess(id === 'b' || id === 'e' ? 1000 : 60_000));
    await call(store, 'get', 'c'); // order now c f e d b a
    clock.advance(1001);
    const before = await call(store, 'ids');
    assert.deepEqual(before, ['c', 'f', 'd', 'a']);
    store.prune();
    assert.equal(await call(store, 'length'), 4);
    assert.deepEqual(await call(store, 'ids'), before);
    // And eviction still follows that order.
    const bounded = new MemFileStore({ max: 3, clock: clock.fn });
    for (const id of ['x', 'y', 'z']) await call(bounded, 'set', id, sess(60_000));
    bounded.prune();
    await call(bounded, 'set', 'w', sess(60_000));
    assert.deepEqual(await call(bounded, 'ids'), ['w', 'z', 'y'], 'x, the least recently used, was evicted');
  });

  test('prune on an empty store or without expired entries is harmless', async () => {
    const store = new MemFileStore();
    store.prune();
    await call(store, 'set', 'a', sess(60_000));
    store.prune();
    assert.deepEqual(await call(store, 'ids'), ['a']);
  });
});

describe('startInterval / stopInterval', () => {
  test('stopInterval clears _checkInterval; startInterval does nothing without checkPeriod', () => {
    const store = new MemFileStore();
    store.startInterval();
    assert.equal(store._checkInterval, undefined);
    const timed = new MemFileStore({ checkPeriod: 60_000 });
    assert.ok(timed._checkInterval);
    timed.stopInterval();
    assert.equal(timed._checkInterval, undefined);
    timed.stopInterval(); // twice is fine
    timed.startInterval();
    assert.ok(timed._checkInterval);
    assert.equal(timed._checkInterval.hasRef(), false);
    timed.stopInterval();
  });
});

describe('close', () => {
  test('stops the timer; later calls get an error with code ERR_STORE_CLOSED', async () => {
    const store = new MemFileStore({ checkPeriod: 60_000 });
    await call(store, 'set', 'a', sess(60_000));
    const closing = store.close();
    assert.ok(closing && typeof closing.then === 'function', 'close returns a promise');
    await closing;
    assert.equal(store._checkInterval, undefined);
    store.startInterval();
    assert.equal(store._checkInterval, undefined, 'no timer restarts after close');
    const calls = [
      ['get', 'a'], ['set', 'a', sess(60_000)], ['touch', 'a', sess(60_000)], ['destroy', 'a'], ['destroy', ['a']],
      ['ids'], ['all'], ['length'], ['clear'],
    ];
    for (const [method, ...args] of calls) {
      const { err } = await settle(store, method, ...args);
      assert.ok(err instanceof Error, `${method}: an Error`);
      assert.equal(err.code, 'ERR_STORE_CLOSED', `${method}: code`);
    }
    await store.close(); // closing twice is fine
  });
});

describe('session ids', () => {
  test('numeric ids name the same session as their string form', async () => {
    const store = new MemFileStore();
    await call(store, 'set', 1, sess(60_000, { n: 1 }));
    assert.equal((await call(store, 'get', '1')).n, 1);
    assert.equal((await call(store, 'get', 1)).n, 1);
    await call(store, 'set', '1', sess(60_000, { n: 2 }));
    assert.equal(await call(store, 'length'), 1);
    assert.deepEqual(await call(store, 'ids'), ['1']);
    assert.deepEqual(Object.keys(await call(store, 'all')), ['1']);
    await call(store, 'touch', 1, sess(60_000));
    await call(store, 'destroy', [1]);
    assert.equal(await call(store, 'get', '1'), undefined);
    await call(store, 'set', 0, sess(60_000));
    assert.deepEqual(await call(store, 'ids'), ['0']);
  });

  const invalid = [['undefined', undefined], ['null', null], ['an object', { id: 'a' }], ['an array', ['a']],
    ['NaN', NaN], ['Infinity', Infinity], ['a boolean', true], ['a symbol', Symbol('a')], ['a function', () => 'a']];
  for (const [label, bad] of invalid) {
    test(`${label} as id: TypeError to the callback, nothing else harmed`, async () => {
      const store = new MemFileStore();
      const s = sess(60_000, { keep: true });
      await call(store, 'set', 'a', s);
      const methods = [['get', bad], ['set', bad, sess(60_000)], ['touch', bad, sess(60_000)]];
      if (!Array.isArray(bad)) methods.push(['destroy', bad], ['destroy', ['a', bad]]);
      for (const [method, ...args] of methods) {
        const { err } = await settle(store, method, ...args);
        assert.ok(err instanceof TypeError, `${method}: TypeError expected, got ${err}`);
      }
      assert.deepEqual(await call(store, 'ids'), ['a'], 'no other session removed or added');
      assert.deepEqual(await call(store, 'get', 'a'), s);
    });
  }
});
