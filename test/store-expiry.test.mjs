// Which lifetime a session gets, in the documented order: the `ttl` number, the `ttl` function, `cookie.maxAge`
// when it is a number, `cookie.expires` (a Date or a date string), then one day. Checked through the store (a clock
// moved by hand, one ms before and at the expiry), across a restart on a real file, and over real HTTP with
// express + express-session (a wrapper store that hands ours JSON copies gives it cookies without `maxAge`).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import session from 'express-session';
import { MemFileStore } from 'express-memfilestore';
import { call, makeClock } from './fixtures/store-calls.mjs';
import { tempDir, track } from './fixtures/persist/helpers.mjs';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2030, 0, 1);
const iso = (ms) => new Date(ms).toISOString();

/** One case per rule: the options, the session set at T0, and the lifetime the rule gives. */
const RULES = [
  { rule: 'the ttl number, over maxAge and expires', options: { ttl: 5 * MIN },
    session: { cookie: { maxAge: HOUR, expires: iso(T0 + 2 * HOUR) } }, lifetime: 5 * MIN },
  { rule: 'the ttl function, over maxAge and expires', options: { ttl: (opts, sess) => sess.minutes * MIN },
    session: { cookie: { maxAge: HOUR, expires: iso(T0 + 2 * HOUR) }, minutes: 7 }, lifetime: 7 * MIN },
  { rule: 'cookie.maxAge when a number, over expires', options: {},
    session: { cookie: { originalMaxAge: HOUR, maxAge: 10 * MIN + 0.7, expires: iso(T0 + 2 * HOUR) } }, lifetime: 10 * MIN },
  { rule: 'cookie.expires as a Date', options: {},
    session: { cookie: { originalMaxAge: HOUR, expires: new Date(T0 + 20 * MIN), httpOnly: true, path: '/' } }, lifetime: 20 * MIN },
  { rule: 'cookie.expires as a date string (a cookie after JSON)', options: {},
    session: { cookie: { originalMaxAge: HOUR, expires: iso(T0 + 30 * MIN), httpOnly: true, path: '/' } }, lifetime: 30 * MIN },
  { rule: 'cookie.expires when maxAge is not a number', options: {},
    session: { cookie: { maxAge: null, expires: iso(T0 + 40 * MIN) } }, lifetime: 40 * MIN },
  { rule: 'one day: a browser-session cookie (expires null)', options: {},
    session: { cookie: { originalMaxAge: null, expires: null, httpOnly: true, path: '/' } }, lifetime: DAY },
  { rule: 'one day: an expires that is not a date', options: {},
    session: { cookie: { expires: 'next week' } }, lifetime: DAY },
  { rule: 'one day: no cookie at all', options: {}, session: { user: 1 }, lifetime: DAY },
];

/** Whether `sid` is there when the clock reads `at`. */
async function presentAt(store, clock, at, sid = 'sid') {
  clock.now = at;
  return (await call(store, 'get', sid)) != null;
}

describe('the lifetime rules, through the store', () => {
  for (const { rule, options, session: sess, lifetime } of RULES) {
    test(`${rule}: ${lifetime / MIN} min`, async () => {
      const clock = makeClock(T0);
      const store = new MemFileStore({ ...options, clock: clock.fn });
      await call(store, 'set', 'sid', sess);
      assert.equal(await presentAt(store, clock, T0 + lifetime - 1), true, 'alive one ms before its expiry');
      assert.equal(await presentAt(store, clock, T0 + lifetime), false, 'gone at its expiry');
      await store.close();
    });
  }

  test('a ttl of 0, as a number or from the function, never expires (as in memorystore); below 0 from the function removes', async () => {
    for (const ttl of [0, () => 0]) {
      const clock = makeClock(T0);
      const store = new MemFileStore({ ttl, clock: clock.fn });
      await call(store, 'set', 'sid', { cookie: { maxAge: HOUR, expires: iso(T0 + HOUR) } });
      assert.equal(await presentAt(store, clock, T0 + 10 * 365 * DAY), true, `ttl ${String(ttl)}: still there ten years on`);
      await store.close();
    }
    const clock = makeClock(T0);
    const store = new MemFileStore({ ttl: () => -1, clock: clock.fn });
    await call(store, 'set', 'sid', { cookie: { maxAge: HOUR } });
    assert.equal(await presentAt(store, clock, T0), false, 'a negative ttl stores nothing');
    await store.close();
  });

  test('touch with a plain cookie moves the expiry to its expires; an expires already past removes the session', async () => {
    const clock = makeClock(T0);
    const store = new MemFileStore({ clock: clock.fn });
    await call(store, 'set', 'sid', { cookie: { expires: iso(T0 + 10 * MIN) }, user: 1 });
    clock.now = T0 + 5 * MIN;
    await call(store, 'touch', 'sid', { cookie: { expires: iso(T0 + 35 * MIN) } });
    assert.equal(await presentAt(store, clock, T0 + 35 * MIN - 1), true);
    assert.equal(await presentAt(store, clock, T0 + 35 * MIN), false);

    clock.now = T0;
    await call(store, 'set', 'other', { cookie: { expires: iso(T0 + HOUR) }, user: 2 });
    await call(store, 'touch', 'other', { cookie: { expires: iso(T0 - 1) } });
    assert.equal(await call(store, 'get', 'other'), undefined, 'a touch with an ended cookie does not keep the session');
    await store.close();
  });

  test('a set whose expires has passed stores nothing and removes the older version', async () => {
    const clock = makeClock(T0);
    const store = new MemFileStore({ clock: clock.fn });
    await call(store, 'set', 'sid', { cookie: { expires: iso(T0 + HOUR) }, v: 1 });
    await call(store, 'set', 'sid', { cookie: { expires: iso(T0) }, v: 2 });
    assert.equal(await call(store, 'get', 'sid'), undefined);
    assert.equal(await call(store, 'length'), 0);
    await store.close();
  });
});

describe('the lifetime rules, across a restart on a real file', () => {
  for (const { rule, options, session: sess, lifetime } of RULES) {
    test(`${rule}: the expiry is kept in the file`, async (t) => {
      const file = join(tempDir(t), 'sessions.db');
      const clock = makeClock(T0);
      const open = async () => {
        const store = track(t, new MemFileStore({ ...options, saveFile: file, clock: clock.fn }));
        await store.ready;
        return store;
      };
      const first = await open();
      await call(first, 'set', 'sid', sess);
      await first.close();
      clock.now = T0 + lifetime - 1;
      const second = await open();
      assert.equal(await presentAt(second, clock, T0 + lifetime - 1), true, 'loaded one ms before its expiry');
      await second.close();
      clock.now = T0 + lifetime;
      const third = await open();
      assert.equal(await call(third, 'get', 'sid'), undefined, 'not loaded at its expiry');
      assert.equal(await call(third, 'length'), 0);
      await third.close();
    });
  }

  test('the issue\'s case, in real time: a 300 ms cookie without maxAge is gone 400 ms later, after a restart', async (t) => {
    const file = join(tempDir(t), 'sessions.db');
    const first = track(t, new MemFileStore({ saveFile: file }));
    const cookie = (ms) => ({ originalMaxAge: ms, expires: new Date(Date.now() + ms), httpOnly: true, path: '/' });
    await call(first, 'set', 'short', { cookie: cookie(300), user: 'a' });
    await call(first, 'set', 'long', { cookie: cookie(HOUR), user: 'b' });
    await first.close();
    await sleep(400);
    const second = track(t, new MemFileStore({ saveFile: file }));
    await second.ready;
    assert.equal(await call(second, 'get', 'short'), undefined);
    assert.equal((await call(second, 'get', 'long'))?.user, 'b');
  });
});

// ---------------------------------------------------------------------------------------------
// over HTTP

/** Hands ours JSON copies of the sessions, as a wrapper store or a store-to-store bridge does: no Cookie, no maxAge. */
class JsonCopyStore extends session.Store {
  constructor(inner) {
    super();
    this.inner = inner;
  }

  get(sid, cb) { this.inner.get(sid, cb); }
  set(sid, sess, cb) { this.inner.set(sid, JSON.parse(JSON.stringify(sess)), cb); }
  touch(sid, sess, cb) { this.inner.touch(sid, JSON.parse(JSON.stringify(sess)), cb); }
  destroy(sid, cb) { this.inner.destroy(sid, cb); }
}

/** express 5 + express-session on `store`; GET /count changes the session (set), GET /peek does not (touch). */
async function startApp(t, store, cookie) {
  const app = express();
  app.use(session({ store, secret: 'expiry test', resave: false, saveUninitialized: false, cookie }));
  app.get('/count', (req, res) => {
    req.session.n = (req.session.n ?? 0) + 1;
    res.json({ n: req.session.n });
  });
  app.get('/peek', (req, res) => res.json({ n: req.session.n ?? null }));
  const server = app.listen(0);
  await new Promise((resolve) => server.once('listening', resolve));
  t.after(() => new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
  let jar;
  return async (path) => {
    const res = await fetch(`http://127.0.0.1:${server.address().port}${path}`, { headers: jar ? { cookie: jar } : {} });
    const set = res.headers.getSetCookie().find((c) => c.startsWith('connect.sid='));
    if (set) jar = set.split(';')[0];
    return (await res.json()).n;
  };
}

describe('the lifetime rules over HTTP (express 5 + express-session)', () => {
  // Each app's cookie lives an hour (or is a browser-session cookie), so a rule applied out of order shows.
  const HTTP_RULES = [
    { rule: 'the ttl number', options: { ttl: 5 * MIN }, cookie: { maxAge: HOUR }, lifetime: 5 * MIN },
    { rule: 'the ttl function', options: { ttl: () => 7 * MIN }, cookie: { maxAge: HOUR }, lifetime: 7 * MIN },
    { rule: 'the Cookie\'s maxAge', options: {}, cookie: { maxAge: 10 * MIN }, lifetime: 10 * MIN },
    { rule: 'one day for a browser-session cookie', options: {}, cookie: {}, lifetime: DAY },
  ];
  for (const { rule, options, cookie, lifetime } of HTTP_RULES) {
    test(`${rule}: ${lifetime / MIN} min from the last request`, async (t) => {
      const clock = makeClock(Date.now());
      const store = new MemFileStore({ ...options, clock: clock.fn });
      t.after(() => store.close());
      const request = await startApp(t, store, cookie);
      assert.equal(await request('/count'), 1);
      clock.advance(lifetime - 30_000);
      assert.equal(await request('/peek'), 1, 'still there 30 s before its expiry (the request touches it)');
      clock.advance(lifetime - 30_000);
      assert.equal(await request('/count'), 2, 'the touch moved the expiry');
      clock.advance(lifetime + 30_000);
      assert.equal(await request('/peek'), null, 'gone 30 s after its expiry: a new, empty session');
    });
  }

  test('cookie.expires: sessions handed over as JSON (a wrapper store) end when their cookie does, not a day later', async (t) => {
    // Date is mocked (the store's clock and express-session's cookie both read it): with the real clock, a machine
    // that stalled 800 ms between the first request and the sleep's end saw the cookie expire before the "alive" check.
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const store = new MemFileStore();
    t.after(() => store.close());
    const request = await startApp(t, new JsonCopyStore(store), { maxAge: 1000 });
    assert.equal(await request('/count'), 1);
    t.mock.timers.tick(200);
    assert.equal(await request('/peek'), 1, 'alive within its second');
    t.mock.timers.tick(1300);
    assert.equal(await request('/peek'), null, 'gone once its cookie has expired');
    assert.equal(await call(store, 'length'), 0, 'pruned on read');
  });
});
