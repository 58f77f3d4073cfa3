// Realistic express-session sessions for the benchmark, deterministic for a given seed.
//
// A session here is what express-session hands to a store: a `Session` (express-session/session/session.js)
// whose own enumerable fields are `cookie` (a real `Cookie`, 1 day, httpOnly, path '/') plus user data:
// a passport-style user, a csrf secret and a view counter. About 350 bytes of JSON.
// Ids are made as express-session makes them (uid-safe: 24 random bytes, base64url, 32 characters).
import { Buffer } from 'node:buffer';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const Cookie = require('express-session/session/cookie');
const Session = require('express-session/session/session');
const { Store } = require('express-session');

export const ONE_DAY_MS = 86_400_000;

/** The cookie options of a typical app: `session({ cookie: { maxAge: 86400000 } })` (httpOnly and path '/' are defaults). */
export const COOKIE_OPTIONS = Object.freeze({ maxAge: ONE_DAY_MS, httpOnly: true, path: '/' });

/**
 * A small seeded pseudo-random generator (mulberry32). Not for secrets: it only makes the benchmark
 * repeatable, so every store sees exactly the same ids, sessions and access order.
 */
export function createRng(seed = 1) {
  let a = seed >>> 0;
  const uint32 = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return {
    uint32,
    /** A float in [0, 1). */
    float: () => uint32() / 4294967296,
    /** An integer in [0, n). */
    int: (n) => Math.floor((uint32() / 4294967296) * n),
    pick(list) {
      return list[Math.floor((uint32() / 4294967296) * list.length)];
    },
    bytes(n) {
      const buf = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i += 4) {
        const v = uint32();
        for (let j = 0; j < 4 && i + j < n; j++) buf[i + j] = (v >>> (8 * j)) & 0xff;
      }
      return buf;
    },
  };
}

/** A session id as express-session's default `genid` makes it: `uid-safe(24)`, base64url without padding. */
export function sessionId(rng) {
  return rng.bytes(24).toString('base64url');
}

const FIRST = ['Maria', 'James', 'Aiko', 'Olumide', 'Sofia', 'Lukas', 'Priya', 'Mateo', 'Chen', 'Fatima',
  'Noah', 'Elena', 'Kwame', 'Ingrid', 'Rafael', 'Yuki'];
const LAST = ['Garcia', 'Smith', 'Tanaka', 'Adeyemi', 'Rossi', 'Muller', 'Sharma', 'Fernandez', 'Wang', 'Haddad',
  'Johnson', 'Petrova', 'Mensah', 'Larsen', 'Oliveira', 'Sato'];
const ROLES = [['user'], ['user'], ['user'], ['user', 'editor'], ['user', 'billing'], ['user', 'editor', 'admin']];
const PAGES = ['/account', '/account/orders?page=2', '/settings/profile', '/cart', '/checkout/shipping', '/docs/getting-started'];
const LOCALES = ['en-US', 'en-GB', 'de-DE', 'fr-FR', 'ja-JP', 'pt-BR', 'es-ES'];

/** The user data of one session (everything but the cookie), as an app using passport and csurf would keep. */
export function sessionData(rng) {
  const first = rng.pick(FIRST);
  const last = rng.pick(LAST);
  return {
    passport: {
      user: {
        id: 100_000 + rng.int(900_000),
        name: `${first} ${last}`,
        email: `${first}.${last}${rng.int(100)}@example.com`.toLowerCase(),
        roles: rng.pick(ROLES),
      },
    },
    // csrf/csurf keep an 18-byte secret: 24 base64url characters.
    csrfSecret: rng.bytes(18).toString('base64url'),
    returnTo: rng.pick(PAGES),
    prefs: { locale: rng.pick(LOCALES), theme: rng.pick(['light', 'dark', 'system']) },
    views: 1 + rng.int(50),
  };
}

/** A minimal request, enough for express-session's `Session` (it reads `sessionID`, and `sessionStore` on save). */
function fakeRequest(sid, store) {
  return { sessionID: sid, sessionStore: store };
}

/**
 * A new session, as express-session's `store.generate(req)` makes it: `new Session(req)` with a fresh `Cookie`,
 * then the app writes its data.
 */
export function newSession(sid, data, store = null) {
  const req = fakeRequest(sid, store);
  const sess = new Session(req);
  sess.cookie = new Cookie(COOKIE_OPTIONS);
  Object.assign(sess, data);
  return sess;
}

const parser = new Store();

/**
 * A session as express-session has it during a request that loaded it from a store: built from the stored JSON
 * by `store.createSession(req, sess)` (the cookie becomes a `Cookie` with `expires` a `Date`), then
 * `req.session.touch()` moves its expiry (its `cookie.maxAge` getter is the time remaining). This is what
 * express-session passes to `store.touch` and, when the session changed, to `store.set`.
 */
export function loadedSession(sid, json, store = null) {
  const req = fakeRequest(sid, store);
  const sess = parser.createSession(req, JSON.parse(json));
  sess.touch();
  return sess;
}

/**
 * `count` sessions with their ids, deterministic for `seed`.
 * @returns {{ ids: string[], sessions: object[], bytes: number }} `sessions[i]` is the loaded `Session` of `ids[i]`;
 *   `bytes` is the mean length of their JSON.
 */
export function makeSessions(count, { seed = 1 } = {}) {
  const rng = createRng(seed);
  const ids = new Array(count);
  const sessions = new Array(count);
  let total = 0;
  for (let i = 0; i < count; i++) {
    const sid = sessionId(rng);
    const json = JSON.stringify(newSession(sid, sessionData(rng)));
    ids[i] = sid;
    sessions[i] = loadedSession(sid, json);
    total += Buffer.byteLength(json);
  }
  return { ids, sessions, bytes: total / count };
}

/** Indices in [0, n) chosen uniformly by a seeded generator: the order in which a run visits sessions. */
export function randomOrder(length, n, seed) {
  const rng = createRng(seed);
  const order = new Uint32Array(length);
  for (let i = 0; i < length; i++) order[i] = rng.int(n);
  return order;
}

/** A seeded permutation of [0, n): each session exactly once (for destroy). */
export function permutation(n, seed) {
  const rng = createRng(seed);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}
