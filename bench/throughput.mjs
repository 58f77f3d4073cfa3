// Store API throughput: get, set, touch and destroy of express-session stores, on the same realistic sessions,
// in the same process and run.
//
//   node --expose-gc throughput.mjs [--json] [--quick] [--clock wall|cpu] [--sessions N] [--ops N] [--rounds N]
//                                   [--inflight N] [--stores ours,memory,memorystore,memfilestore1,file,sqlite,
//                                   sqlite-wal,redis,floor,floor-immediate] [--ours path/to/dist/index.mjs] [--seed N] [--no-check]
//
// Each measurement makes `ops` calls on `sessions` preloaded sessions, the ids chosen by a seeded random order
// (the same for every store), in two modes:
//   awaited   each call waits for its callback before the next is made, as one request does;
//   inflight  `inflight` calls are kept outstanding at once, as a busy server does.
// Every store is checked (set/get/touch/destroy behave as the benchmark assumes) and warmed up first. Then each
// round measures one (mode, op) on every store in turn, every other round in the reverse order; the table
// reports the median over rounds, and ratios are paired (ours / peer within a round, median over rounds).
// The stores that write to disk or go over the network (session-file-store, better-sqlite3-session-store,
// connect-redis) are far slower: they make a fixed share of `ops` calls per measurement (see STORES), on the same
// sessions and access order. connect-redis runs against a redis-server this script starts (and stops) itself on a
// free loopback port, when one is installed; otherwise its row says "skipped (no redis-server)".
// --json also writes bench/results/throughput.json (machine, Node, date, every sample) for the report script.
import { availableParallelism, cpus, platform, release, arch, totalmem } from 'node:os';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuPressureMicros } from './http-load.mjs';
import { startRedis } from './redis-server.mjs';
import { ONE_DAY_MS, loadedSession, makeSessions, permutation, randomOrder } from './sessions.mjs';

// Debug output would measure the terminal, not the stores (memorystore calls debug() on every operation).
if (process.env.DEBUG) {
  console.error('Unset DEBUG: with debug output on, the benchmark would measure the terminal, not the stores.');
  process.exit(2);
}

const require = createRequire(import.meta.url);

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    sessions: { type: 'string' },
    ops: { type: 'string' },
    rounds: { type: 'string' },
    inflight: { type: 'string' },
    stores: { type: 'string' },
    'no-check': { type: 'boolean', default: false },
    clock: { type: 'string', default: 'wall' },
    ours: { type: 'string' },
    seed: { type: 'string' },
  },
});

const QUICK = args.quick;
const SESSIONS = Number(args.sessions ?? 10_000);
const OPS = Number(args.ops ?? (QUICK ? 15_000 : 30_000));
const ROUNDS = Number(args.rounds ?? (QUICK ? 3 : 5));
const INFLIGHT = Number(args.inflight ?? 100);
const SEED = Number(args.seed ?? 20_250_101);
// destroy empties the store: it runs over whole passes of the preloaded sessions, reloaded (untimed) between passes.
const DESTROY_PASSES = Math.max(1, Math.round(OPS / 2 / SESSIONS));
// set-new: a set of a session the store does not hold (a login, a first visit), its own row since it costs an
// insertion where set replaces. The -plain rows hand the stores the same sessions with a plain-object cookie, as
// after a JSON round trip (a wrapper store, a migration script): no Cookie class, `expires` an ISO string.
const OPS_LIST = ['get', 'set', 'set-new', 'touch', 'destroy', 'set-plain', 'set-new-plain', 'touch-plain'];
/** The store method an op calls, and whether it sets new ids or takes plain-cookie sessions. */
const OP_SPEC = Object.fromEntries(OPS_LIST.map((op) => [op, {
  method: op.replace(/-plain$/, '').replace(/^set-new$/, 'set'),
  fresh: op.startsWith('set-new'),
  plain: op.endsWith('-plain'),
}]));
// wall: elapsed time (what a server sees). cpu: CPU time of this process (all its threads), which leaves out the
// time other processes take from us on a busy machine.
const CLOCK = args.clock;
if (CLOCK !== 'wall' && CLOCK !== 'cpu') {
  console.error('--clock must be wall or cpu');
  process.exit(2);
}
const MODES = ['awaited', 'inflight'];

if (typeof globalThis.gc !== 'function') {
  console.error('Run with node --expose-gc (npm run bench does): a collection between measurements keeps one store\'s garbage out of the next one\'s time.');
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------------------------
// The stores

const session = require('express-session');
let ours;
try {
  // --ours PATH benchmarks another build of the package (a scratch copy while trying a change) against the same peers.
  const where = args.ours ? pathToFileURL(resolvePath(args.ours)).href : 'express-memfilestore';
  ({ MemFileStore: ours } = await import(where));
} catch (err) {
  console.error('Cannot load express-memfilestore: build it first (cd .. && npm run build), then npm install here.\n', err);
  process.exit(2);
}
const MemoryStorePeer = require('memorystore')(session);
const MemFileStore1 = require('express-memfilestore-1')(session);
const FileStore = require('session-file-store')(session);
const SqliteStore = require('better-sqlite3-session-store')(session);
const Database = require('better-sqlite3');
const { RedisStore } = require('connect-redis');
const { createClient: createRedisClient } = require('redis');

// Where session-file-store keeps its files and better-sqlite3 its databases: a real directory on disk, removed at
// the end.
const TMP = mkdtempSync(join(tmpdir(), 'memfilestore-bench-throughput-'));
// Removed at the end, and also if the run ends early with an exception.
process.once('exit', () => rmSync(TMP, { recursive: true, force: true }));
const cleanups = [];

/** better-sqlite3-session-store with its defaults, on a database file; `wal`: after `db.pragma('journal_mode = WAL')`. */
function makeSqliteStore(wal) {
  const db = new Database(join(TMP, wal ? 'sessions-wal.db' : 'sessions.db'));
  if (wal) db.pragma('journal_mode = WAL');
  // Its constructor starts a 15-minute expiry timer that it never unrefs and offers no way to stop: unref it, or
  // this script would never exit. Nothing else changes.
  const setIntervalBefore = globalThis.setInterval;
  globalThis.setInterval = (...a) => setIntervalBefore(...a).unref();
  let store;
  try {
    store = new SqliteStore({ client: db });
  } finally {
    globalThis.setInterval = setIntervalBefore;
  }
  cleanups.push(() => db.close());
  return { store, db };
}

/** connect-redis with its defaults, on a node-redis client of the redis-server started below. */
async function makeRedisStore() {
  const client = createRedisClient({ socket: { host: '127.0.0.1', port: redis.port } });
  client.on('error', (err) => console.error(`redis client: ${err.message}`));
  await client.connect();
  cleanups.push(() => client.close());
  return new RedisStore({ client });
}

/**
 * The floor: the least work these semantics allow. A bare Map of JSON strings with an absolute expiry checked on
 * get, callbacks deferred with `defer`. No LRU, no size bound, no validation, no events. touch replaces the stored
 * cookie without parsing the session: the offset where the cookie ends is found once (scanning the text) and then
 * known, since touch writes the cookie itself.
 *
 * Two rows: with process.nextTick (the cheapest deferral for a loop that awaits one call at a time) and with
 * setImmediate (the deferral ours, MemoryStore and memorystore use): their difference is the deferral alone.
 */
function floorStore(defer) {
  // A class per deferral, calling it directly: a shared call site would see two targets and slow both rows.
  return class FloorStore {
    constructor() {
      this.map = new Map();
    }

    get(sid, cb) {
      const e = this.map.get(sid);
      if (e === undefined) return defer(cb);
      if (e.expires <= Date.now()) {
        this.map.delete(sid);
        return defer(cb);
      }
      let value;
      try {
        value = JSON.parse(e.text);
      } catch (err) {
        return defer(cb, err);
      }
      defer(cb, null, value);
    }

    set(sid, sess, cb) {
      let text;
      try {
        text = JSON.stringify(sess);
      } catch (err) {
        return defer(cb, err);
      }
      const expires = Date.now() + ttlOf(sess);
      const e = this.map.get(sid);
      if (e === undefined) this.map.set(sid, { text, expires, cookieEnd: -1 });
      else {
        e.text = text;
        e.expires = expires;
        e.cookieEnd = -1;
      }
      defer(cb, null);
    }

    touch(sid, sess, cb) {
      const e = this.map.get(sid);
      if (e === undefined || e.expires <= Date.now()) return defer(cb, null);
      const end = e.cookieEnd >= 0 ? e.cookieEnd : cookieEnd(e.text);
      const cookie = JSON.stringify(sess.cookie);
      if (end < 0) {
        const value = JSON.parse(e.text);
        value.cookie = sess.cookie;
        e.text = JSON.stringify(value);
        e.cookieEnd = -1;
      } else {
        e.text = '{"cookie":' + cookie + e.text.slice(end);
        e.cookieEnd = 10 + cookie.length;
      }
      e.expires = Date.now() + ttlOf(sess);
      defer(cb, null);
    }

    destroy(sid, cb) {
      this.map.delete(sid);
      defer(cb, null);
    }
  };
}

const NextTickFloor = floorStore(process.nextTick);
const ImmediateFloor = floorStore(setImmediate);

function ttlOf(sess) {
  const maxAge = sess.cookie?.maxAge;
  return typeof maxAge === 'number' ? Math.floor(maxAge) : 86_400_000;
}

/** Offset just past the cookie object of `{"cookie":{...},...`, or -1. Skips strings, so braces in values are fine. */
function cookieEnd(text) {
  if (!text.startsWith('{"cookie":{')) return -1;
  let depth = 0;
  for (let i = 10; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 92) i++;
        else if (d === 34) break;
      }
    } else if (c === 123) depth++;
    else if (c === 125 && --depth === 0) return i + 1;
  }
  return -1;
}

// connect-redis does not export its package.json: read it from node_modules.
const pkg = (name) => JSON.parse(readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url), 'utf8')).version;

// Which stores need a redis-server: started only when the redis row is selected.
const wantsRedis = !args.stores || args.stores.split(',').includes('redis');
let redis = null;
let redisSkipped = null;
if (wantsRedis) {
  try {
    redis = await startRedis();
    if (!redis) redisSkipped = 'skipped (no redis-server)';
  } catch (err) {
    redisSkipped = `skipped (${err.message})`;
  }
}

const STORES = [
  { key: 'ours', label: args.ours ? `express-memfilestore (${args.ours})` : `express-memfilestore ${pkg('express-memfilestore')}`, make: () => new ours(), defer: 'setImmediate' },
  { key: 'memory', label: `express-session MemoryStore ${pkg('express-session')}`, make: () => new session.MemoryStore(), defer: 'setImmediate' },
  { key: 'memorystore', label: `memorystore ${pkg('memorystore')}`, make: () => new MemoryStorePeer(), defer: 'setImmediate' },
  { key: 'memfilestore1', label: `express-memfilestore ${pkg('express-memfilestore-1')} (memory only)`, make: () => new MemFileStore1(), defer: 'setImmediate' },
  // The persistent stores. opsShare: the share of `ops` each makes per measurement (they are 10-1000x slower);
  // destroy then deletes that many sessions (part of a pass) and puts them back, untimed.
  // ownSessions: session-file-store writes a __lastAccess field into the session objects it is given: it gets its
  // own identical copy of the sessions, so the other stores keep seeing untouched ones.
  { key: 'file', label: `session-file-store ${pkg('session-file-store')}`, defer: 'fs', opsShare: 1 / 60, ownSessions: true,
    make: () => new FileStore({ path: join(TMP, 'session-file-store'), logFn() {} }) },
  // Its callbacks are synchronous (the loops are trampolined for it). Untimed fills run in one transaction.
  { key: 'sqlite', label: `better-sqlite3-session-store ${pkg('better-sqlite3-session-store')} (default)`, defer: 'sync', opsShare: 1 / 100, sync: true,
    make: () => makeSqliteStore(false) },
  { key: 'sqlite-wal', label: `better-sqlite3-session-store ${pkg('better-sqlite3-session-store')} (WAL)`, defer: 'sync', opsShare: 1 / 6, sync: true,
    make: () => makeSqliteStore(true) },
  { key: 'redis', label: `connect-redis ${pkg('connect-redis')}${redis ? ` (redis-server ${redis.version})` : ''}`, defer: 'network', opsShare: 1 / 10,
    skipped: redisSkipped, make: () => makeRedisStore() },
  { key: 'floor', label: 'floor: Map + JSON + expiry, nextTick', make: () => new NextTickFloor(), defer: 'nextTick' },
  { key: 'floor-immediate', label: 'floor: Map + JSON + expiry, setImmediate', make: () => new ImmediateFloor(), defer: 'setImmediate' },
];
const PEERS = ['memory', 'memorystore', 'memfilestore1', 'file', 'sqlite', 'sqlite-wal', 'redis'];
const FLOORS = ['floor', 'floor-immediate'];
/** Extra package versions, for the record (results JSON). */
const VERSIONS = { 'better-sqlite3': pkg('better-sqlite3'), redis: pkg('redis'), 'redis-server': redis?.version ?? null };

const selected = args.stores ? new Set(args.stores.split(',')) : null;
const listed = STORES.filter((s) => !selected || selected.has(s.key));
// A skipped store (redis without a redis-server) keeps its row in the tables, with the reason.
const skippedStores = listed.filter((s) => s.skipped);
const stores = listed.filter((s) => !s.skipped);
if (stores.length === 0) {
  console.error(`--stores: none of ${args.stores}; known: ${STORES.map((s) => s.key).join(', ')}`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------------------------
// The loops. Each (store, op, mode) gets its own compiled function, so the call sites inside stay monomorphic and
// one store's types do not slow down the next store's loop.

function compileLoop(name, mode, { sync = false } = {}) {
  const op = OP_SPEC[name]?.method ?? name;
  const args = op === 'set' || op === 'touch' ? 'sessions[k], ' : '';
  const check = op === 'get' ? 'if (value == null) misses++;' : '';
  if (sync) return compileSyncLoop(op, mode, args, check);
  const body = mode === 'awaited'
    ? `
      let i = 0, misses = 0, errors = 0;
      const t0 = process.hrtime.bigint();
      const next = (err, value) => {
        if (err) errors++;
        ${check}
        if (i === n) return done(process.hrtime.bigint() - t0, misses, errors);
        const k = order[i++];
        store.${op}(ids[k], ${args}next);
      };
      const k = order[i++];
      store.${op}(ids[k], ${args}next);`
    : `
      let issued = 0, completed = 0, misses = 0, errors = 0;
      const t0 = process.hrtime.bigint();
      const next = (err, value) => {
        if (err) errors++;
        ${check}
        if (++completed === n) return done(process.hrtime.bigint() - t0, misses, errors);
        if (issued < n) {
          const k = order[issued++];
          store.${op}(ids[k], ${args}next);
        }
      };
      while (issued < Math.min(inflight, n)) {
        const k = order[issued++];
        store.${op}(ids[k], ${args}next);
      }`;
  return new Function('store', 'ids', 'sessions', 'order', 'n', 'inflight', 'done', body);
}

/**
 * The same loops for a store that calls back synchronously (better-sqlite3-session-store): a callback made during
 * the call only records that the next call is due, and the issuing loop makes it, so the stack does not grow with
 * every call. Used only for such stores: the loops of the others stay as they are.
 */
function compileSyncLoop(op, mode, args, check) {
  const body = mode === 'awaited'
    ? `
      let i = 0, misses = 0, errors = 0, depth = 0, again = false;
      const t0 = process.hrtime.bigint();
      const issue = () => {
        do {
          again = false;
          const k = order[i++];
          depth++;
          store.${op}(ids[k], ${args}next);
          depth--;
        } while (again);
      };
      const next = (err, value) => {
        if (err) errors++;
        ${check}
        if (i === n) return done(process.hrtime.bigint() - t0, misses, errors);
        if (depth > 0) again = true;
        else issue();
      };
      issue();`
    : `
      let issued = 0, completed = 0, misses = 0, errors = 0, depth = 0, owed = 0;
      const t0 = process.hrtime.bigint();
      const issue = () => {
        while (owed > 0 && issued < n) {
          owed--;
          const k = order[issued++];
          depth++;
          store.${op}(ids[k], ${args}next);
          depth--;
        }
      };
      const next = (err, value) => {
        if (err) errors++;
        ${check}
        if (++completed === n) return done(process.hrtime.bigint() - t0, misses, errors);
        if (issued < n) {
          owed++;
          if (depth === 0) issue();
        }
      };
      owed = Math.min(inflight, n);
      issue();`;
  return new Function('store', 'ids', 'sessions', 'order', 'n', 'inflight', 'done', body);
}

function runLoop(loop, store, order, n, list = sessions, idList = ids) {
  return new Promise((resolve) => {
    const cpu0 = process.cpuUsage();
    loop(store, idList, list, order, n, INFLIGHT, (ns, misses, errors) => {
      const cpu = process.cpuUsage(cpu0);
      resolve({ ns: Number(ns), cpuUs: cpu.user + cpu.system, misses, errors });
    });
  });
}

/** Puts every session in the store (untimed), 100 calls in flight. */
function preload(entry) {
  return fill(entry, preloadOrder, SESSIONS);
}

/** Sets the sessions order[0..n) (untimed); in one transaction for better-sqlite3 (its loops are synchronous). */
function fill(entry, order, n) {
  const run = () => runLoop(entry.loops.set.inflight, entry.store, order, n, entry.sessions);
  if (!entry.db) return run();
  let done;
  entry.db.transaction(() => { done = run(); })();
  return done;
}

// ---------------------------------------------------------------------------------------------------------------
// Data

const tData = performance.now();
const { ids, sessions, bytes } = makeSessions(SESSIONS, { seed: SEED });
const plainSessions = plainCopies(sessions);
// Ids no store holds, for set-new: set in order (each once per measurement), then destroyed again, untimed.
const newIds = makeSessions(OPS, { seed: SEED + 5 }).ids;
const newOrder = Uint32Array.from({ length: OPS }, (_, i) => i);
const orders = {
  get: randomOrder(OPS, SESSIONS, SEED + 1),
  set: randomOrder(OPS, SESSIONS, SEED + 2),
  touch: randomOrder(OPS, SESSIONS, SEED + 3),
};
const preloadOrder = permutation(SESSIONS, SEED + 4);
const destroyOrders = Array.from({ length: DESTROY_PASSES }, (_, p) => permutation(SESSIONS, SEED + 10 + p));
const dataMs = performance.now() - tData;

/** The sessions as plain objects, as after JSON: `cookie` is `{ originalMaxAge, expires: 'ISO', httpOnly, path }`. */
function plainCopies(list) {
  return list.map((s) => JSON.parse(JSON.stringify(s)));
}

/** `list[i % list.length]` for i < OPS: the sessions set-new stores under newIds[i]. */
function cycled(list) {
  return Array.from({ length: OPS }, (_, i) => list[i % list.length]);
}

for (const entry of stores) {
  const made = await entry.make();
  // makeSqliteStore returns the store and its database (for the untimed fills).
  if (entry.sync) ({ store: entry.store, db: entry.db } = made);
  else entry.store = made;
  // Calls per get/set/touch measurement; the slow stores make a share of them.
  entry.ops = entry.opsShare ? Math.max(100, Math.round(OPS * entry.opsShare)) : OPS;
  entry.sessions = entry.ownSessions ? makeSessions(SESSIONS, { seed: SEED }).sessions : sessions;
  entry.plainSessions = entry.ownSessions ? plainCopies(entry.sessions) : plainSessions;
  entry.newSessions = { real: cycled(entry.sessions), plain: cycled(entry.plainSessions) };
  entry.loops = {};
  for (const op of OPS_LIST) {
    entry.loops[op] = {};
    for (const mode of MODES) entry.loops[op][mode] = compileLoop(op, mode, { sync: entry.sync });
  }
  entry.samples = {};
  entry.anomalies = [];
  for (const mode of MODES) {
    entry.samples[mode] = {};
    for (const op of OPS_LIST) entry.samples[mode][op] = { wall: [], cpu: [] };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Sanity: every store must do what the benchmark assumes, or its numbers mean nothing.

function call(store, method, ...rest) {
  return new Promise((resolve, reject) => store[method](...rest, (err, value) => (err ? reject(err) : resolve(value))));
}

/** get, with an error whose code is ENOENT read as "not found", as express-session reads it (session-file-store). */
function getSession(store, sid) {
  return call(store, 'get', sid).catch((err) => {
    if (err?.code === 'ENOENT') return null;
    throw err;
  });
}

async function check(entry) {
  const s = entry.store;
  const sid = 'bench-check';
  const sess = entry.sessions[0];
  await call(s, 'set', sid, sess);
  const got = await getSession(s, sid);
  if (!got || got.passport?.user?.id !== sess.passport.user.id) throw new Error('get after set did not return the session');
  const touched = loadedSession(sid, JSON.stringify(sess));
  touched.cookie.maxAge = 3_600_000;
  await call(s, 'touch', sid, touched);
  const after = await getSession(s, sid);
  if (after?.cookie?.expires !== touched.cookie.expires.toISOString()) throw new Error('get after touch did not return the new cookie');
  if (after.csrfSecret !== sess.csrfSecret) throw new Error('touch lost the session data');
  await call(s, 'destroy', sid);
  if ((await getSession(s, sid)) != null) throw new Error('get after destroy returned a session');
  try {
    await call(s, 'touch', sid, sess);
  } catch (err) {
    throw new Error(`touch of a missing session failed with ${err.code ?? err.message}`, { cause: err });
  }
  if ((await getSession(s, sid)) != null) throw new Error('touch of a missing session created it');
}

// ---------------------------------------------------------------------------------------------------------------
// Measurement

async function measure(entry, op, mode, { record = true, scale = 1 } = {}) {
  const loop = entry.loops[op][mode];
  let ns = 0;
  let cpuUs = 0;
  let count = 0;
  let misses = 0;
  let errors = 0;
  if (op === 'destroy' && entry.ops < OPS) {
    // A slow store: delete entry.ops sessions (the start of a seeded pass, a different one each time), then put
    // them back, untimed.
    const n = Math.min(SESSIONS, Math.max(100, Math.round(entry.ops * scale)));
    entry.destroyPass = (entry.destroyPass ?? -1) + 1;
    const part = destroyOrders[entry.destroyPass % destroyOrders.length].subarray(0, n);
    globalThis.gc();
    const r = await runLoop(loop, entry.store, part, n, entry.sessions);
    ({ ns, cpuUs } = r);
    count = n;
    errors = r.errors;
    await fill(entry, part, n);
  } else if (op === 'destroy') {
    const passes = Math.max(1, Math.round(DESTROY_PASSES * scale));
    for (let p = 0; p < passes; p++) {
      globalThis.gc();
      const r = await runLoop(loop, entry.store, destroyOrders[p % destroyOrders.length], SESSIONS);
      ns += r.ns;
      cpuUs += r.cpuUs;
      count += SESSIONS;
      errors += r.errors;
      await preload(entry);
    }
  } else {
    const spec = OP_SPEC[op];
    const list = spec.plain ? entry.plainSessions : entry.sessions;
    // What express-session does before it calls the store: touch() moves the cookie's expiry; a changed
    // session (set) has new data. A plain cookie gets its new expiry as the string JSON would give.
    if (spec.method === 'touch') {
      if (spec.plain) {
        const expires = new Date(Date.now() + ONE_DAY_MS).toISOString();
        for (const s of list) s.cookie.expires = expires;
      } else {
        for (const s of list) s.touch();
      }
    }
    if (spec.method === 'set') for (const s of list) s.views++;
    const n = entry.ops < OPS ? Math.max(100, Math.round(entry.ops * scale)) : Math.max(1000, Math.round(OPS * scale));
    globalThis.gc();
    const r = spec.fresh
      ? await runLoop(loop, entry.store, newOrder, n, entry.newSessions[spec.plain ? 'plain' : 'real'], newIds)
      : await runLoop(loop, entry.store, orders[spec.method], n, list);
    ({ ns, cpuUs } = r);
    count = n;
    misses = r.misses;
    errors = r.errors;
    // The new sessions go again (untimed), so every set-new measurement finds the store as preloaded.
    if (spec.fresh) await runLoop(entry.loops.destroy.inflight, entry.store, newOrder, n, list, newIds);
  }
  if (misses || errors) entry.anomalies.push(`${mode} ${op}: ${misses} misses, ${errors} errors`);
  if (record) {
    entry.samples[mode][op].wall.push(count / (ns / 1e9));
    entry.samples[mode][op].cpu.push(count / (Math.max(cpuUs, 1) / 1e6));
  }
}

/** Callback deferral alone: what a store costs when it does nothing but call back later. */
async function deferralBaseline() {
  const result = { awaited: {}, inflight: {} };
  for (const [name, defer] of [['nextTick', process.nextTick], ['setImmediate', setImmediate]]) {
    const store = { get: (sid, cb) => defer(cb, null, sid) };
    for (const mode of MODES) {
      const loop = compileLoop('get', mode);
      await runLoop(loop, store, orders.get, OPS / 4);
      const samples = [];
      for (let r = 0; r < 3; r++) {
        globalThis.gc();
        const { ns } = await runLoop(loop, store, orders.get, OPS);
        samples.push(OPS / (ns / 1e9));
      }
      result[mode][name] = Math.round(median(samples));
    }
  }
  return result;
}


function median(list) {
  const s = [...list].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const t0 = performance.now();
const pressure0 = cpuPressureMicros();
console.log(`Node ${process.version}, V8 ${process.versions.v8}, ${cpus()[0]?.model ?? 'unknown CPU'} x ${availableParallelism()}`);
console.log(`${SESSIONS} sessions of ${bytes.toFixed(0)} bytes of JSON; ${OPS} calls per measurement (destroy: ${DESTROY_PASSES * SESSIONS}); ` +
  `${ROUNDS} rounds, median; inflight = ${INFLIGHT} calls outstanding`);

for (const entry of stores) {
  if (!args['no-check']) {
    try {
      await check(entry);
    } catch (err) {
      entry.anomalies.push(`sanity check failed: ${err.message}`);
    }
  }
  await preload(entry);
}

// Warm-up: every loop of every store, untimed, until the optimizing compiler has seen them.
for (const entry of stores) {
  for (const mode of MODES) for (const op of OPS_LIST) await measure(entry, op, mode, { record: false, scale: 0.25 });
}
const tWarm = performance.now();

// Each round measures one (mode, op) on every store in turn, so that the stores being compared run seconds apart
// and a burst of machine noise hits them alike. Rounds go in pairs: one order, then the same order backwards, the
// next pair rotated by one. So every two stores run in both orders equally often (one round apart at most, with an
// odd count): which store runs just before which shifts single ops by about 10% either way, and with a plain rotation
// ours ran just before MemoryStore in 4 of 5 rounds, which its paired ratios then carried.
for (let round = 0; round < ROUNDS; round++) {
  const shift = Math.floor(round / 2);
  const rotated = stores.map((_, i) => stores[(i + shift) % stores.length]);
  const order = round % 2 ? rotated.reverse() : rotated;
  for (const mode of MODES) {
    for (const op of OPS_LIST) {
      for (const entry of order) await measure(entry, op, mode);
    }
  }
  process.stderr.write(`round ${round + 1}/${ROUNDS} done (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
}
const deferral = await deferralBaseline();
const totalMs = performance.now() - t0;
const pressure1 = cpuPressureMicros();
// Share of the run during which some task waited for a CPU: near 0 on an idle machine.
const contention = pressure0 === undefined || pressure1 === undefined ? undefined : (pressure1 - pressure0) / 1000 / totalMs;

// ---------------------------------------------------------------------------------------------------------------
// Report

const results = {};
for (const entry of stores) {
  results[entry.key] = { label: entry.label, defer: entry.defer, ops: entry.ops, anomalies: entry.anomalies };
  for (const mode of MODES) {
    results[entry.key][mode] = {};
    for (const op of OPS_LIST) {
      const samples = entry.samples[mode][op][CLOCK];
      const med = median(samples);
      results[entry.key][mode][op] = {
        median: Math.round(med),
        min: Math.round(Math.min(...samples)),
        max: Math.round(Math.max(...samples)),
        spread: (Math.max(...samples) - Math.min(...samples)) / med,
        samples: samples.map(Math.round),
        // The other clock, for comparison.
        [CLOCK === 'wall' ? 'cpuSamples' : 'wallSamples']: entry.samples[mode][op][CLOCK === 'wall' ? 'cpu' : 'wall'].map(Math.round),
      };
    }
  }
}

// Ratios are paired: ours / peer within each round (measured seconds apart), then the median over rounds.
const ratios = {};
if (results.ours) {
  for (const mode of MODES) {
    ratios[mode] = {};
    for (const peer of [...PEERS, ...FLOORS]) {
      if (!results[peer]) continue;
      ratios[mode][peer] = {};
      for (const op of OPS_LIST) {
        const mine = results.ours[mode][op].samples;
        const theirs = results[peer][mode][op].samples;
        const perRound = mine.map((v, r) => v / theirs[r]);
        ratios[mode][peer][op] = { median: median(perRound), min: Math.min(...perRound), max: Math.max(...perRound) };
      }
    }
  }
}

const fmtOps = (n) => Math.round(n).toLocaleString('en-US');
const pad = (s, w) => String(s).padStart(w);
const padEnd = (s, w) => String(s).padEnd(w);
const LABEL_W = Math.max(...listed.map((s) => s.label.length + 5), 36) + 2;
const COL_W = 20;
// Ratios against the slow stores run into the hundreds: fewer decimals there, so the columns stay aligned.
const fmtRatio = (r) => r.toFixed(r >= 100 ? 0 : r >= 10 ? 1 : 2);

for (const mode of MODES) {
  const title = mode === 'awaited'
    ? `AWAITED: one call at a time, each waits for its callback. ops/s (${CLOCK} clock), median of rounds (± half the min-max range)`
    : `IN FLIGHT: ${INFLIGHT} calls outstanding. ops/s (${CLOCK} clock), median of rounds (± half the min-max range)`;
  console.log(`\n${title}`);
  console.log(padEnd('store', LABEL_W) + OPS_LIST.map((op) => pad(op, COL_W)).join(''));
  for (const entry of stores) {
    const r = results[entry.key][mode];
    console.log(padEnd(entry.label, LABEL_W) + OPS_LIST.map((op) =>
      pad(`${fmtOps(r[op].median)} ±${((r[op].spread / 2) * 100).toFixed(0)}%`, COL_W)).join(''));
  }
  for (const entry of skippedStores) console.log(padEnd(entry.label, LABEL_W) + pad(entry.skipped, COL_W));
  if (ratios[mode]) {
    console.log(padEnd('ours / store (median, range of rounds)', LABEL_W) + OPS_LIST.map((op) => pad(op, COL_W)).join(''));
    for (const [peer, byOp] of Object.entries(ratios[mode])) {
      console.log(padEnd(`  vs ${results[peer].label}`, LABEL_W) + OPS_LIST.map((op) =>
        pad(`${fmtRatio(byOp[op].median)}x (${fmtRatio(byOp[op].min)}-${fmtRatio(byOp[op].max)})`, COL_W)).join(''));
    }
  }
}

console.log(`\nCallback deferral alone (a store that does nothing), ops/s: process.nextTick ${fmtOps(deferral.awaited.nextTick)} awaited, ` +
  `${fmtOps(deferral.inflight.nextTick)} in flight; setImmediate ${fmtOps(deferral.awaited.setImmediate)} awaited, ` +
  `${fmtOps(deferral.inflight.setImmediate)} in flight.\nThe floors call back with process.nextTick and with setImmediate; ours, MemoryStore, memorystore and ` +
  'express-memfilestore 1.x with setImmediate; session-file-store after file I/O, better-sqlite3-session-store ' +
  'synchronously, connect-redis after a round trip to redis-server.');
const slow = stores.filter((e) => e.ops < OPS);
if (slow.length) {
  console.log(`Fewer calls per measurement for the slow stores (same sessions and access order): ` +
    slow.map((e) => `${e.label} ${e.ops} (destroy: ${Math.min(SESSIONS, e.ops)})`).join('; ') + '.');
}

const targets = [];
if (results.ours) {
  const hot = ['get', 'set', 'touch'];
  const worst = (mode, peer) => Math.min(...hot.map((op) => ratios[mode][peer][op].median));
  const test = (name, ok, detail) => targets.push({ name, ok, detail });
  // Issue 11: every call, new-session sets and plain cookies included, in both modes.
  if (ratios.awaited?.memory) {
    for (const mode of MODES) {
      const list = OPS_LIST.map((op) => [op, ratios[mode].memory[op].median]);
      const [op, w] = list.reduce((a, b) => (b[1] < a[1] ? b : a));
      test(`issue 11: every call >= 1x ${results.memory.label}, ${mode}`, w >= 1, `lowest ratio ${w.toFixed(2)}x (${op})`);
    }
  }
  for (const peer of ['memory', 'memorystore']) {
    if (!ratios.awaited?.[peer]) continue;
    for (const mode of MODES) {
      const w = worst(mode, peer);
      test(`issue 2: not slower than ${results[peer].label}, ${mode}`, w >= 1, `lowest ratio ${w.toFixed(2)}x`);
    }
  }
  if (ratios.awaited?.memory) {
    const w = worst('awaited', 'memory');
    test('issue 4: >= 1x MemoryStore, awaited', w >= 1, `lowest ratio ${w.toFixed(2)}x`);
  }
  if (ratios.awaited?.memorystore) {
    const w = worst('awaited', 'memorystore');
    test('issue 4: >= 2x memorystore, awaited', w >= 2, `lowest ratio ${w.toFixed(2)}x`);
  }
  for (const floor of FLOORS) {
    if (!ratios.awaited?.[floor]) continue;
    const w = worst('awaited', floor);
    test(`issue 4: within 1.3x of the ${results[floor].label}, awaited`, w >= 1 / 1.3, `slowest op takes ${(1 / w).toFixed(2)}x the floor's time`);
  }
  console.log('\nTargets (issue 2 and 4: get, set, touch; issue 11: every call; paired median ratios):');
  for (const t of targets) console.log(`  ${t.ok ? 'MET   ' : 'MISSED'} ${t.name}: ${t.detail}`);
}

for (const entry of stores) {
  for (const a of entry.anomalies) console.log(`WARNING ${entry.label}: ${a}`);
}
console.log(`\nTotal ${(totalMs / 1000).toFixed(1)} s (data ${(dataMs / 1000).toFixed(1)} s, warm-up ${((tWarm - t0) / 1000).toFixed(1)} s).` +
  (contention === undefined ? '' : ` CPU contention: some task waited for a CPU ${(contention * 100).toFixed(0)}% of the time` +
    (contention > 0.1 ? ' (other processes were busy: expect noisy numbers; compare the paired ratios)' : '') + '.'));

if (args.json) {
  const cpu = cpus();
  const out = {
    benchmark: 'throughput',
    date: new Date().toISOString(),
    machine: {
      cpu: cpu[0]?.model ?? 'unknown',
      cores: availableParallelism(),
      memoryBytes: totalmem(),
      platform: platform(),
      release: release(),
      arch: arch(),
    },
    node: process.version,
    v8: process.versions.v8,
    params: { clock: CLOCK, sessions: SESSIONS, sessionBytes: Math.round(bytes), ops: OPS, destroyOps: DESTROY_PASSES * SESSIONS, rounds: ROUNDS, inflight: INFLIGHT, seed: SEED },
    stores: results,
    // Rows that could not run (connect-redis without a redis-server), with the reason.
    skipped: Object.fromEntries(skippedStores.map((e) => [e.key, { label: e.label, reason: e.skipped }])),
    versions: VERSIONS,
    ratios,
    deferral,
    cpuContention: contention,
    targets,
    durationMs: Math.round(totalMs),
  };
  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const file = new URL('throughput.json', dir);
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  console.log(`Wrote ${file.pathname}`);
}

// Close what the run opened (databases, the redis client), stop the redis-server it started, remove the temp dir.
for (const close of cleanups) {
  try {
    await close();
  } catch (err) {
    console.error(`cleanup: ${err.message}`);
  }
}
await redis?.stop();
rmSync(TMP, { recursive: true, force: true });
