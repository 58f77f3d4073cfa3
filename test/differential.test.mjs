// Differential test: the same scripted, seeded pseudo-random sequences of store operations run against
// express-session's own MemoryStore (the reference) and MemFileStore, with real express-session Session
// and Cookie objects, as express-session's middleware would drive them (load with createSession,
// session.touch() then set or touch). Results must agree, up to the normalizations listed below.
//
// Time: node:test's mocked Date moves time for both stores and for Cookie (whose maxAge getter is the
// time remaining); MemFileStore reads it through its `clock` option.
//
// Normalizations, each where the contract legitimately differs:
//  1. get of a missing session: MemoryStore calls back (null, undefined), MemFileStore () with nothing
//     (as memorystore): both are "no error, no session"; compared as `value ?? null`, `!!err`.
//  2. set/touch/destroy/clear callbacks: MemoryStore calls back with no argument, MemFileStore with null:
//     only "no error" is compared.
//  3. all: MemoryStore returns a null-prototype object in insertion order, MemFileStore a plain object
//     in most-recently-used order: compared as entries sorted by id.
//  4. length: MemoryStore counts live sessions only (it runs all(), which deletes expired ones);
//     MemFileStore counts expired sessions not yet pruned, as memorystore does (contract §2). Compared:
//     MemoryStore's length == the number of MemFileStore's ids (live sessions), and MemFileStore's
//     length >= it. (MemoryStore's deleting of expired sessions is not observable otherwise: an expired
//     session stays expired, and neither store lets touch revive one.)
//  5. (none for the expiry instant: both stores end a session at its `expires` millisecond, `expires <= now`.
//     The script moves time to a stored session's exact `expires`, or the millisecond before, now and then.)
//  6. Browser-session cookies (`maxAge: null`, no `expires`): MemoryStore keeps them forever, MemFileStore
//     for one day after the last set/touch (its default ttl, contract §2). Each sequence stays under one
//     simulated day, so the difference cannot show.
//
// A failing sequence prints its seed; rerun it alone with `DIFF_SEED=<seed> node --test test/differential.test.mjs`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { createRequire } from 'node:module';
import { MemFileStore } from 'express-memfilestore';
import { settle } from './fixtures/store-calls.mjs';

const require = createRequire(import.meta.url);
const session = require('express-session');
const Cookie = require('express-session/session/cookie');
const Session = require('express-session/session/session');

const START = 1_700_000_000_000;
const ONE_DAY = 86_400_000;
const TIME_BUDGET = ONE_DAY - 3_600_000; // normalization 6
const STEPS = 400;
/** What the sequences covered, summed over all seeds (checked by the last test). */
const coverage = { getHit: 0, getMiss: 0, expiredOnGet: 0, touchHit: 0, touchHeld: 0, nonEmptyAll: 0, lengthAboveLive: 0, atExpiry: 0 };
const IDS = ['sid-0', 'sid-1', 'sid-2', 'sid-3', 'sid-4', 'sid-5', 'sid-6', 'sid-7', 'Xk3-9_q"}', 'é😀', '__proto__', 'constructor'];
const MAX_AGES = [1_000, 1_001, 4_999, 60_000, 59_999, 600_001, 3_600_000, 7_199_999, ONE_DAY + 1, 14 * ONE_DAY, null];
const TRICKY = ['Zoë', '"}', '\\"}{', '日本語', '😀', '\u2028', 'a\\b', '{"cookie":{}}'];

/** mulberry32: small, seedable, good enough to script operations. */
function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (list) => list[Math.floor(next() * list.length)],
    chance: (p) => next() < p,
    token: (n) => Array.from({ length: n }, () => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[Math.floor(next() * 64)]).join(''),
  };
}


/** Both stores, same operation; resolves both results. */
async function both(ref, ours, method, ...args) {
  const [r, o] = await Promise.all([settle(ref, method, ...args), settle(ours, method, ...args)]);
  return { r, o };
}

function sortedEntries(obj) {
  return Object.keys(obj).sort().map((k) => [k, obj[k]]);
}

function realisticData(rnd) {
  const data = {
    passport: { user: String(rnd.int(1, 99_999)) },
    csrfSecret: rnd.token(24),
    views: rnd.int(0, 50),
  };
  if (rnd.chance(0.5)) data.flash = { info: [`Welcome back, ${rnd.pick(TRICKY)}`] };
  if (rnd.chance(0.4)) {
    data.cart = Array.from({ length: rnd.int(1, 4) }, () => ({ sku: rnd.token(8), qty: rnd.int(1, 9), price: rnd.int(100, 99_999) / 100 }));
  }
  if (rnd.chance(0.3)) data.returnTo = `/search?q=${encodeURIComponent(rnd.pick(TRICKY))}`;
  if (rnd.chance(0.2)) data.note = rnd.pick(TRICKY);
  return data;
}

/** A new session as express-session's store.generate makes it: Session, then its Cookie, then user data. */
function newSession(rnd, id) {
  const req = { sessionID: id };
  const sess = new Session(req);
  const options = { path: '/', httpOnly: true, maxAge: rnd.pick(MAX_AGES) };
  if (rnd.chance(0.3)) options.sameSite = rnd.pick(['lax', 'strict']);
  if (rnd.chance(0.3)) options.secure = true;
  sess.cookie = new Cookie(options);
  Object.assign(sess, realisticData(rnd));
  return sess;
}

async function runSequence(seed, t) {
  t.mock.timers.enable({ apis: ['Date'], now: START });
  const rnd = prng(seed);
  const ref = new session.MemoryStore();
  const ours = new MemFileStore({ clock: () => Date.now() });
  const held = new Map(); // the last Session object a "request" had for an id (may be stale or expired)
  const present = new Set(); // ids set and not destroyed/cleared since: a miss on one of them is an expiry
  const trail = [];
  let elapsed = 0;

  const check = (cond, message) => {
    assert.ok(cond, `seed ${seed}, step ${trail.length}: ${message}\nlast operations:\n  ${trail.slice(-15).join('\n  ')}`);
  };
  const same = (actual, expected, message) => {
    try {
      assert.deepStrictEqual(actual, expected);
    } catch (err) {
      check(false, `${message}\n${err.message}`);
    }
  };
  const noErrors = ({ r, o }, op) => check(!r.err && !o.err, `${op}: unexpected error ref=${r.err} ours=${o.err}`);

  /** Loads a session as express-session does; compares both stores' answers. */
  const load = async (id) => {
    const res = await both(ref, ours, 'get', id);
    noErrors(res, `get ${id}`);
    same(res.o.value ?? null, res.r.value ?? null, `get ${id}`);
    if (!res.r.value) {
      coverage.getMiss++;
      if (present.delete(id)) coverage.expiredOnGet++;
      return undefined;
    }
    coverage.getHit++;
    const req = { sessionID: id, sessionStore: ref };
    return ref.createSession(req, res.r.value);
  };

  for (let step = 0; step < STEPS; step++) {
    const id = rnd.pick(IDS);
    const roll = rnd.int(1, 100);
    if (roll <= 14) {
      let ms = rnd.pick([rnd.int(1, 600), rnd.int(1, 60_000), rnd.int(1, 3_600_000)]);
      // Now and then to a stored session's exact expiry (or the ms before): where an off-by-one would show.
      const ends = Object.values(ref.sessions).map((json) => Date.parse(JSON.parse(json).cookie.expires) - Date.now())
        .filter((left) => left > 1);
      if (ends.length > 0 && rnd.chance(0.5)) {
        ms = rnd.pick(ends) - (rnd.chance(0.3) ? 1 : 0);
        if (ms <= TIME_BUDGET - elapsed) coverage.atExpiry++;
      }
      ms = Math.min(ms, TIME_BUDGET - elapsed);
      elapsed += ms;
      trail.push(`advance ${ms} ms`);
      t.mock.timers.tick(ms);
    } else if (roll <= 30) {
      const sess = newSession(rnd, id);
      trail.push(`set ${id} (new, maxAge ${sess.cookie.originalMaxAge})`);
      noErrors(await both(ref, ours, 'set', id, sess), `set ${id}`);
      held.set(id, sess);
      present.add(id);
    } else if (roll <= 60) {
      // A request carrying this session id: load, then save if modified, else touch (resave: false).
      trail.push(`request ${id}`);
      const sess = await load(id);
      if (!sess) continue;
      held.set(id, sess);
      if (rnd.chance(0.9)) sess.touch(); // express-session resets maxAge before saving or touching
      if (rnd.chance(0.35)) {
        sess.views = (sess.views ?? 0) + 1;
        if (rnd.chance(0.2)) sess.flash = { error: [rnd.pick(TRICKY)] };
        trail.push(`  set ${id} (modified)`);
        noErrors(await both(ref, ours, 'set', id, sess), `set ${id}`);
      } else {
        trail.push(`  touch ${id}`);
        coverage.touchHit++;
        noErrors(await both(ref, ours, 'touch', id, sess), `touch ${id}`);
      }
    } else if (roll <= 66) {
      // A late request with an old Session object: its cookie may have expired, the session may be gone.
      const sess = held.get(id);
      if (!sess) continue;
      const method = rnd.chance(0.5) ? 'touch' : 'set';
      trail.push(`${method} ${id} (held session, cookie maxAge ${sess.cookie.maxAge})`);
      coverage.touchHeld++;
      if (method === 'set') present.add(id);
      noErrors(await both(ref, ours, method, id, sess), `${method} ${id}`);
    } else if (roll <= 76) {
      trail.push(`get ${id}`);
      await load(id);
    } else if (roll <= 84) {
      trail.push(`destroy ${id}`);
      noErrors(await both(ref, ours, 'destroy', id), `destroy ${id}`);
      present.delete(id);
    } else if (roll <= 91) {
      trail.push('all');
      const res = await both(ref, ours, 'all');
      noErrors(res, 'all');
      same(sortedEntries(res.o.value), sortedEntries(res.r.value), 'all');
      if (Object.keys(res.r.value).length > 0) coverage.nonEmptyAll++;
    } else if (roll <= 99) {
      trail.push('length');
      const ids = await settle(ours, 'ids');
      const res = await both(ref, ours, 'length');
      noErrors(res, 'length');
      check(!ids.err, `ids: ${ids.err}`);
      check(res.r.value === ids.value.length,
        `length: reference ${res.r.value} live sessions, ours ${ids.value.length} (${ids.value.join(', ')})`);
      check(res.o.value >= res.r.value, `length: ours ${res.o.value} < reference ${res.r.value}`);
      if (res.o.value > res.r.value) coverage.lengthAboveLive++;
    } else {
      trail.push('clear');
      noErrors(await both(ref, ours, 'clear'), 'clear');
      present.clear();
    }
  }

  // Final state: every id agrees.
  trail.push('final: get every id, all');
  for (const id of IDS) await load(id);
  const res = await both(ref, ours, 'all');
  same(sortedEntries(res.o.value), sortedEntries(res.r.value), 'final all');
}

const seeds = process.env.DIFF_SEED
  ? [Number(process.env.DIFF_SEED)]
  : [...Array.from({ length: 30 }, (_, i) => i + 1), randomInt(1, 2 ** 31)];

for (const seed of seeds) {
  test(`same results as express-session's MemoryStore, seed ${seed}`, async (t) => {
    try {
      await runSequence(seed, t);
    } catch (err) {
      // Whatever failed (a check, or an exception from either store), say how to run this sequence alone.
      err.message = `${err.message}\nReplay: DIFF_SEED=${seed} node --test test/differential.test.mjs`;
      throw err;
    }
  });
}

test('the scripts exercised hits, misses, expiries, touches and non-empty all()', () => {
  // Guards against a generator that silently stops producing the interesting cases.
  for (const [what, n] of Object.entries(coverage)) assert.ok(n > 0, `no ${what} in any sequence: ${JSON.stringify(coverage)}`);
});
