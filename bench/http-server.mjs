// The app of the HTTP benchmark, with one store, in its own process (started by http.mjs with fork()):
//
//   node http-server.mjs <store> <dir> [--redis-port N] [--prefill N] [--memory-only]
//
// A small express 5 app as most apps use express-session: resave: false, saveUninitialized: false, a one-day
// cookie. Routes:
//   POST /login   writes a realistic session (passport user, csrf secret, page to return to, preferences, counter):
//                 a new session, saved with store.set; the response sets the cookie.
//   GET  /read    reads the session and answers with the user's name: the session is unchanged, so express-session
//                 calls store.touch (the hot path of a real app).
//   GET  /count   views++: the session changed, so express-session calls store.set.
// Both answer 401 without a logged-in session, so a request that lost its session is counted as a failure.
// Before it listens, the store is filled with `prefill` other sessions (the benchmark's sessions.mjs), so every
// store holds as many sessions as the others. The process tells its parent { ready, port, label } over IPC, and
// answers { cpu } messages with the CPU time it has used, so the parent can tell the server's CPU per request.
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { COOKIE_OPTIONS, createRng, makeSessions, sessionData } from './sessions.mjs';

const require = createRequire(import.meta.url);
const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'redis-port': { type: 'string' },
    prefill: { type: 'string', default: '10000' },
    'memory-only': { type: 'boolean', default: false },
  },
});
const [key, dir] = positionals;
const PREFILL = Number(opts.prefill);
const pkg = (name) => JSON.parse(readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url), 'utf8')).version;

const express = require('express');
const session = require('express-session');

/** The store under test, configured as its users would: defaults, and a file where the store persists to one. */
async function makeStore() {
  switch (key) {
    case 'ours': {
      const { MemFileStore } = await import('express-memfilestore');
      // With persistence on, as deployed: a snapshot every minute (the default savePeriod) when something changed.
      return opts['memory-only']
        ? { store: new MemFileStore(), label: `express-memfilestore ${pkg('express-memfilestore')} (memory only)` }
        : { store: new MemFileStore({ saveFile: join(dir, 'ours.snapshot') }), label: `express-memfilestore ${pkg('express-memfilestore')}` };
    }
    case 'ours-everysec':
    case 'ours-nojournal':
    case 'ours-always': {
      // The journal benchmark (journal.mjs): the same store with each `journal` mode, persistence on.
      const { MemFileStore } = await import('express-memfilestore');
      const journal = { 'ours-everysec': 'everysec', 'ours-nojournal': false, 'ours-always': 'always' }[key];
      return { store: new MemFileStore({ saveFile: join(dir, 'ours.snapshot'), journal }), label: `express-memfilestore ${pkg('express-memfilestore')} (journal: ${journal === false ? 'false' : `'${journal}'`})` };
    }
    case 'memory':
      return { store: new session.MemoryStore(), label: `express-session MemoryStore ${pkg('express-session')}` };
    case 'memorystore': {
      const MemoryStore = require('memorystore')(session);
      return { store: new MemoryStore(), label: `memorystore ${pkg('memorystore')}` };
    }
    case 'memfilestore1': {
      const MemFileStore1 = require('express-memfilestore-1')(session);
      // 1.x saves only from its timer: the same one-minute period as ours.
      return opts['memory-only']
        ? { store: new MemFileStore1(), label: `express-memfilestore ${pkg('express-memfilestore-1')} (memory only)` }
        : { store: new MemFileStore1({ saveFile: join(dir, 'memfilestore1.json'), savePeriod: 60_000 }), label: `express-memfilestore ${pkg('express-memfilestore-1')}` };
    }
    case 'file': {
      const FileStore = require('session-file-store')(session);
      return { store: new FileStore({ path: join(dir, 'session-file-store'), logFn() {} }), label: `session-file-store ${pkg('session-file-store')}` };
    }
    case 'sqlite-wal-full': {
      // WAL with a sync per commit: better-sqlite3 is built with SQLITE_DEFAULT_WAL_SYNCHRONOUS=1 (NORMAL, no sync
      // at commit), so its WAL mode is durable per write only after this pragma.
      const Database = require('better-sqlite3');
      const SqliteStore = require('better-sqlite3-session-store')(session);
      const db = new Database(join(dir, 'sessions-wal-full.db'));
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      return { store: new SqliteStore({ client: db }), label: `better-sqlite3-session-store ${pkg('better-sqlite3-session-store')} (WAL, synchronous FULL)` };
    }
    case 'sqlite':
    case 'sqlite-wal': {
      const Database = require('better-sqlite3');
      const SqliteStore = require('better-sqlite3-session-store')(session);
      const wal = key === 'sqlite-wal';
      const db = new Database(join(dir, wal ? 'sessions-wal.db' : 'sessions.db'));
      if (wal) db.pragma('journal_mode = WAL');
      return { store: new SqliteStore({ client: db }), label: `better-sqlite3-session-store ${pkg('better-sqlite3-session-store')} (${wal ? 'WAL' : 'default'})` };
    }
    case 'redis': {
      const { createClient } = require('redis');
      const { RedisStore } = require('connect-redis');
      const client = createClient({ socket: { host: '127.0.0.1', port: Number(opts['redis-port']) } });
      client.on('error', (err) => console.error(`redis client: ${err.message}`));
      await client.connect();
      return { store: new RedisStore({ client }), label: `connect-redis ${pkg('connect-redis')}` };
    }
    default:
      throw new Error(`unknown store ${key}`);
  }
}

mkdirSync(dir, { recursive: true });
const { store, label } = await makeStore();

// Fill the store with other sessions (100 calls in flight), as a running app's store holds them.
if (PREFILL > 0) {
  const { ids, sessions } = makeSessions(PREFILL, { seed: 424_242 });
  await new Promise((resolve, reject) => {
    let issued = 0;
    let completed = 0;
    const next = (err) => {
      if (err) return reject(err);
      if (++completed === PREFILL) return resolve();
      if (issued < PREFILL) setImmediate(issue);
    };
    const issue = () => {
      if (issued >= PREFILL) return;
      const i = issued++;
      store.set(ids[i], sessions[i], next);
    };
    for (let k = 0; k < Math.min(100, PREFILL); k++) issue();
  });
}

const app = express();
app.disable('x-powered-by');
app.use(session({
  store,
  secret: 'express-memfilestore benchmark secret',
  resave: false,
  saveUninitialized: false,
  cookie: { ...COOKIE_OPTIONS },
}));

const rng = createRng(99);
app.post('/login', (req, res) => {
  Object.assign(req.session, sessionData(rng));
  res.json({ ok: true });
});
app.get('/read', (req, res) => {
  const user = req.session.passport?.user;
  if (!user) return res.status(401).json({ error: 'no session' });
  res.json({ name: user.name, views: req.session.views });
});
app.get('/count', (req, res) => {
  const user = req.session.passport?.user;
  if (!user) return res.status(401).json({ error: 'no session' });
  req.session.views++;
  res.json({ name: user.name, views: req.session.views });
});

const server = app.listen(0, '127.0.0.1', () => {
  const ready = { ready: true, port: server.address().port, label, pid: process.pid };
  if (process.send) process.send(ready);
  else console.log(JSON.stringify(ready)); // started by hand
});
server.keepAliveTimeout = 60_000;

let loopDelay;
// The parent says when to stop: close the server and, for ours, the store (final snapshot), then exit.
process.on('message', async (msg) => {
  // The CPU time this process has used (user + system, µs): read before and after each run by the parent.
  if (msg?.cpu) {
    const { user, system } = process.cpuUsage();
    process.send({ cpu: msg.cpu, us: user + system });
    return;
  }
  // Ours' persistence stats and the longest event-loop stall since the last ask (journal.mjs); the histogram
  // starts at the first ask, so the other benchmarks do not pay for its timer.
  if (msg?.stats) {
    loopDelay ??= monitorEventLoopDelay({ resolution: 1 });
    loopDelay.enable();
    process.send({ stats: msg.stats, persistence: store.stats?.persistence, maxStallMs: loopDelay.max / 1e6, at: Date.now() });
    loopDelay.reset();
    return;
  }
  if (msg?.stop) {
    server.close();
    server.closeAllConnections?.();
    try {
      if (typeof store.close === 'function' && key.startsWith('ours')) await store.close();
    } finally {
      process.exit(0);
    }
  }
});
if (process.send) process.on('disconnect', () => process.exit(0));
