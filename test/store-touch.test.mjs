// touch() must give exactly what memorystore's touch gives — parse the stored session, replace its cookie,
// stringify it again — whether the store takes its fast path (splicing the cookie into the stored JSON
// text) or the slow path (custom serializer, or a session whose JSON does not start with its cookie).
// Checked on the stored string itself (`store.store`, the public cache) with tricky hand-picked values
// and with fast-check generated sessions: a random seed per run, in the test's name; a failure prints the
// shrunk case and the command that replays it (TOUCH_SEED=<seed> TOUCH_PATH=<path>).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { randomInt } from 'node:crypto';
import fc from 'fast-check';
import { MemFileStore } from 'express-memfilestore';
import { call, settle } from './fixtures/store-calls.mjs';

const require = createRequire(import.meta.url);
const Cookie = require('express-session/session/cookie');


/** memorystore 1.6.8's touch, on the stored string: parse, replace the cookie, stringify. */
function reference(serializer, stored, cookie) {
  const session = serializer.parse(stored);
  session.cookie = cookie;
  return serializer.stringify(session);
}

/** set then touch on a fresh store; returns what was stored before and after the touch. */
async function setThenTouch(session, newCookie, options = {}) {
  const store = new MemFileStore({ clock: () => 1_700_000_000_000, ...options });
  await call(store, 'set', 'sid', session);
  const before = store.store.get('sid');
  assert.equal(typeof before, 'string');
  await call(store, 'touch', 'sid', { cookie: newCookie });
  const after = store.store.get('sid');
  return { store, before, after };
}

const TRICKY = [
  '"}', '"}}', '\\', '\\"', '\\"}', '}{', '{"cookie":{', '"cookie":{"x":1}}', '\\\\"}',
  'é', 'Zoë', '日本語', '😀', '\ud800', '\udfff', 'a\ud83dz', '\u2028\u2029', '\u0000\u001f', '\n\r\t', '',
];

const cookieOf = (maxAge, extra = {}) => ({
  originalMaxAge: maxAge, expires: new Date(1_700_000_000_000 + maxAge).toISOString(), httpOnly: true, path: '/', ...extra,
});

describe('touch gives the same stored string as parse / replace cookie / stringify', () => {
  test('cookies and data holding tricky strings (quotes, braces, backslashes, unicode, lone surrogates)', async () => {
    for (const s of TRICKY) {
      const session = { cookie: cookieOf(60_000, { domain: s, sameSite: s, [s]: s }), note: s, nested: { [s]: [s, { s }] } };
      const newCookie = cookieOf(120_000, { path: `/${s}`, priority: s, deep: { a: [s, '}', '{'] } });
      const { store, before, after } = await setThenTouch(session, newCookie);
      assert.equal(after, reference(JSON, before, newCookie), `value ${JSON.stringify(s)}`);
      assert.deepEqual(await call(store, 'get', 'sid'), JSON.parse(after));
    }
  });

  test('a real express-session Cookie (toJSON, Date expires) replacing a plain stored cookie', async () => {
    const newCookie = new Cookie({ maxAge: 3_600_000, domain: 'example.com', sameSite: 'lax', secure: true });
    const session = { cookie: cookieOf(60_000), passport: { user: '42' }, csrfSecret: 'q"}\\' };
    const { store, before, after } = await setThenTouch(session, newCookie);
    assert.equal(after, reference(JSON, before, newCookie));
    const got = await call(store, 'get', 'sid');
    assert.equal(got.cookie.expires, newCookie.expires.toISOString());
    assert.deepEqual(got.passport, { user: '42' });
  });

  test('slow path: a session whose JSON does not start with its cookie keeps its key order', async () => {
    const session = { user: 'first', cookie: cookieOf(60_000), after: '"}' };
    const newCookie = cookieOf(90_000, { domain: '"}' });
    const { before, after } = await setThenTouch(session, newCookie);
    assert.ok(!before.startsWith('{"cookie"'));
    assert.equal(after, reference(JSON, before, newCookie));
    assert.deepEqual(Object.keys(JSON.parse(after)), ['user', 'cookie', 'after']);
  });

  test('slow path: integer-like keys serialize before the cookie', async () => {
    const session = { cookie: cookieOf(60_000), 7: 'seven', x: 1 };
    const newCookie = cookieOf(90_000);
    const { before, after } = await setThenTouch(session, newCookie);
    assert.ok(before.startsWith('{"7"'));
    assert.equal(after, reference(JSON, before, newCookie));
  });

  test('slow path: a custom serializer', async () => {
    const serializer = {
      stringify: (v) => `v1:${Buffer.from(JSON.stringify(v)).toString('base64')}`,
      parse: (s) => JSON.parse(Buffer.from(s.slice(3), 'base64').toString('utf8')),
    };
    const session = { cookie: cookieOf(60_000, { domain: '"}' }), data: ['é', '😀'] };
    const newCookie = cookieOf(90_000, { domain: '\\"}' });
    const { store, before, after } = await setThenTouch(session, newCookie, { serializer });
    assert.ok(after.startsWith('v1:'));
    assert.equal(after, reference(serializer, before, newCookie));
    assert.deepEqual(await call(store, 'get', 'sid'), { cookie: newCookie, data: ['é', '😀'] });
  });

  test('a JSON-compatible serializer that is not the JSON object gives the same result', async () => {
    const serializer = { stringify: (v) => JSON.stringify(v), parse: (s) => JSON.parse(s) };
    const session = { cookie: cookieOf(60_000), n: '"}' };
    const newCookie = cookieOf(90_000);
    const { before, after } = await setThenTouch(session, newCookie, { serializer });
    assert.equal(after, reference(JSON, before, newCookie));
  });

  test('a stored session that is not an object, or has no cookie', async () => {
    const newCookie = cookieOf(90_000);
    for (const session of [{ user: 1 }, { cookie: null, user: 1 }, { cookie: 'str', user: 1 }, { cookie: {}, user: 1 }, { cookie: [1, '}'], u: 1 }]) {
      const { before, after } = await setThenTouch(session, newCookie);
      assert.equal(after, reference(JSON, before, newCookie), JSON.stringify(session));
    }
  });

  test('a touch without a cookie object in the session removes the stored cookie, as memorystore does', async () => {
    // The clock cookieOf's expiries count from: a cookie that has expired by the wall clock is not stored.
    const store = new MemFileStore({ clock: () => 1_700_000_000_000 });
    await call(store, 'set', 'sid', { cookie: cookieOf(60_000), user: 1 });
    const before = store.store.get('sid');
    await call(store, 'touch', 'sid', { user: 1 });
    assert.equal(store.store.get('sid'), reference(JSON, before, undefined));
  });

  test('a cookie that cannot be serialized: error to touch, stored session unchanged', async () => {
    // The clock cookieOf's expiries count from: a cookie that has expired by the wall clock is not stored.
    const store = new MemFileStore({ clock: () => 1_700_000_000_000 });
    await call(store, 'set', 'sid', { cookie: cookieOf(60_000), user: 1 });
    const before = store.store.get('sid');
    const { err } = await settle(store, 'touch', 'sid', { cookie: { maxAge: 1000, big: 1n } });
    assert.ok(err instanceof TypeError);
    assert.equal(store.store.get('sid'), before);
  });
});

// A random seed per run (more cases over time), printed with the command that replays a failure.
const SEED = process.env.TOUCH_SEED === undefined ? randomInt(1, 2 ** 31) : Number(process.env.TOUCH_SEED);

/** fc.assert with the run's seed; a failure names the seed, the path and the command to replay it. */
async function check(property, numRuns) {
  const details = await fc.check(property, { numRuns, seed: SEED, path: process.env.TOUCH_PATH });
  if (!details.failed) return;
  const replay = `TOUCH_SEED=${details.seed} TOUCH_PATH=${details.counterexamplePath} node --test test/store-touch.test.mjs`;
  throw new Error(`${fc.defaultReportMessage(details)}\nReplay: ${replay}`, { cause: details.errorInstance });
}

describe(`generated sessions (fast-check, seed ${SEED})`, () => {
  const str = fc.oneof(fc.constantFrom(...TRICKY), fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ maxLength: 8 }));
  const json = fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' });
  const cookie = fc.record({
    originalMaxAge: fc.option(fc.integer({ min: 1, max: 10 * 86_400_000 }), { nil: null }),
    expires: fc.option(fc.date({ min: new Date(1_700_000_100_000), max: new Date(1_800_000_000_000), noInvalidDate: true })
      .map((d) => d.toISOString()), { nil: null }),
    httpOnly: fc.boolean(),
    path: str,
  }, { requiredKeys: ['originalMaxAge', 'expires', 'path'] }).chain((base) => fc.dictionary(str.filter((k) => k !== 'maxAge'), json, { maxKeys: 3 })
    .map((extra) => ({ ...extra, ...base })));
  const data = fc.dictionary(str.filter((k) => k !== 'cookie'), json, { maxKeys: 6 });

  test('JSON serializer: touch == parse / replace cookie / stringify, and get returns it', async () => {
    await check(fc.asyncProperty(cookie, data, cookie, async (oldCookie, userData, newCookie) => {
      const session = { cookie: oldCookie };
      for (const [k, v] of Object.entries(userData)) Object.defineProperty(session, k, { value: v, enumerable: true, writable: true, configurable: true });
      const { store, before, after } = await setThenTouch(session, newCookie);
      assert.equal(after, reference(JSON, before, newCookie));
      assert.deepEqual(await call(store, 'get', 'sid'), JSON.parse(after));
    }), 300);
  });

  test('custom serializer: same equivalence on the slow path', async () => {
    const serializer = { stringify: (v) => `~${JSON.stringify(v)}`, parse: (s) => JSON.parse(s.slice(1)) };
    await check(fc.asyncProperty(cookie, data, cookie, async (oldCookie, userData, newCookie) => {
      const session = { cookie: oldCookie, ...userData };
      const { before, after } = await setThenTouch(session, newCookie, { serializer });
      assert.equal(after, reference(serializer, before, newCookie));
    }), 100);
  });
});
