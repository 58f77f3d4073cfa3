// Soak: millions of operations against one persisted store, with expiry, eviction, pruning and periodic
// saves all running (and the journal between them, 'everysec' by default), checking that heap, open file
// descriptors, the snapshot file, the journal and temp files stay bounded.
//
//   node scripts/soak.mjs [--ops N] [--json]          (10 million ops by default, about a minute on 2 cores;
//                                                     re-runs itself with --expose-gc if needed)
//   (tuning: --max 10000 --ttl 1000 --check-period 250 --save-period 200 --sample-every N)
//
// Traffic looks like express-session's: each request gets its session, then touches it (unchanged), sets it
// (changed) or destroys it (logout); a request without a session logs in half of the time (a set). Requests
// run a few hundred at a time through the callback API, then the loop yields to the event loop, so the prune
// and save timers run between batches as they would between requests. Cycles of bursts (many new visitors for
// 0.5 s: the store fills up and evicts) and calm stretches (regular users only for 1.5 ttl: idle sessions
// expire and are pruned) exercise both. Every `--sample-every` ops (ops / 40 by default): heapUsed after a
// full GC, RSS, the file's size, the journal's bytes since the last snapshot and its files, entries of
// /proc/self/fd, temp files next to the snapshot.
//
// Bounded means, comparing the last quarter of the samples with the second quarter (the first is warm-up):
// median heap not above 1.15x + 2 MiB, most fds not above +2, largest file and largest journal not above 1.25x
// (the journal + 1 MiB), at most 3 journal files at once; at the end, after close(), the fd count is back to its
// value before the store existed and no temp file or journal remains; and the
// store never held more than `max` sessions. Exits non-zero otherwise, or if no eviction, expiry, prune or
// save happened (the soak would prove nothing). `--json` writes scripts/results/soak.json. `--sabotage` is
// its self-test: the loop itself then leaks (it keeps every session it writes, and an fd per sample), and the
// checks must fail. Needs dist/.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem, type as osType } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { flag, option } from './cli-args.mjs';

if (typeof globalThis.gc !== 'function') {
  const run = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: 'inherit' });
  process.exit(run.status ?? 1);
}

const { MemFileStore } = await import('express-memfilestore');
const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));

const OPS = option('--ops', 10_000_000, { min: 1 });
const SAMPLE_EVERY = option('--sample-every', Math.max(1000, Math.floor(OPS / 40)), { min: 1 });
const MAX = option('--max', 10_000, { min: 1 });
const TTL_MS = option('--ttl', 1000, { min: 1 });
const CHECK_PERIOD_MS = option('--check-period', 250, { min: 1 });
const SAVE_PERIOD_MS = option('--save-period', 200, { min: 1 });
/** Self-test: leak on purpose, so the boundedness checks must fail. */
const SABOTAGE = flag('--sabotage');
const leaked = [];
const REGULARS = Math.floor(MAX * 0.6); // returning users, some far more active than others
const BATCH = 250; // requests in flight between two yields to the event loop
// Wall-clock phases, so both happen at any speed: a burst of new visitors fills the store past `max`, then a
// calm stretch longer than the ttl, with regular users only, lets idle sessions expire.
const BURST_MS = 500;
const CALM_MS = Math.max(500, TTL_MS * 1.5);

const dir = mkdtempSync(join(tmpdir(), 'memfilestore-soak-'));
const file = join(dir, 'sessions.db');
const fds = () => readdirSync('/proc/self/fd').length;
/** What each open fd points to (a file, a pipe, an anon inode), to name what a leak is. */
const fdTargets = () => readdirSync('/proc/self/fd').map((fd) => {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return '(closed while listing)';
  }
});
const tempCount = () => readdirSync(dirname(file)).filter((n) => n.startsWith(`${basename(file)}.tmp-`)).length;
const journalCount = () => readdirSync(dirname(file)).filter((n) => n.startsWith(`${basename(file)}.journal.`)).length;
const MiB = 2 ** 20;

const seen = { evict: 0, expire: 0, delete: 0, set: 0, fetch: 0, saves: 0, saveErrors: 0, callbackErrors: 0, maxSessions: 0 };
const ops = { get: 0, set: 0, touch: 0, destroy: 0 };

// Printed before the fd baseline: Node opens an fd of its own at the first write to a piped stdout.
console.log(`soak: ${OPS} ops, max ${MAX}, ttl ${TTL_MS} ms, checkPeriod ${CHECK_PERIOD_MS} ms, savePeriod ${SAVE_PERIOD_MS} ms, ` +
  `sample every ${SAMPLE_EVERY} ops, in ${dir}`);
globalThis.gc();
await sleep(50);
const baselineFds = fds();
const baselineTargets = fdTargets();
const store = new MemFileStore({
  saveFile: file,
  savePeriod: SAVE_PERIOD_MS,
  checkPeriod: CHECK_PERIOD_MS,
  max: MAX,
  ttl: TTL_MS,
  dispose: (_id, _value, reason) => {
    seen[reason]++;
  },
});
await store.ready;
store.on('save', () => { seen.saves++; });
store.on('error', (err) => {
  seen.saveErrors++;
  console.error(`save error: ${err.message}`);
});
// Pruning is counted through the store's own method: wrap it (the prune timer calls `this.prune()`).
let prunes = 0;
const prune = store.prune.bind(store);
store.prune = () => {
  prunes++;
  prune();
};

let counter = 0;
const pick = (n) => Math.floor(Math.random() * n);
/** Regular user k in [0, REGULARS) with probability ~ 1/(k+1): a few very active, a long tail of occasional ones. */
const regular = () => `u${Math.floor(Math.exp(Math.random() * Math.log(REGULARS + 1))) - 1}`;
let visitor = 0;
const newSession = (id) => ({
  cookie: { originalMaxAge: TTL_MS, expires: new Date(Date.now() + TTL_MS).toISOString(), httpOnly: true, path: '/' },
  user: { id, name: `name-${counter}`, roles: ['reader'] },
  csrfSecret: `${counter.toString(36)}-${'s'.repeat(24)}`,
  views: 1,
  cart: pick(4) === 0 ? Array.from({ length: 1 + pick(5) }, (_, i) => ({ sku: `sku-${i}`, qty: 1 + pick(3) })) : [],
});

/** One request: get, then touch / set / destroy, or a login. Calls `done` once. */
function request(id, done) {
  ops.get++;
  store.get(id, (err, sess) => {
    if (err) seen.callbackErrors++;
    const after = (e) => {
      if (e) seen.callbackErrors++;
      done();
    };
    if (!sess) {
      if (pick(2) === 0) return done(); // a visitor who does not log in (saveUninitialized: false)
      ops.set++;
      const fresh = newSession(id);
      if (SABOTAGE) leaked.push(fresh);
      return store.set(id, fresh, after);
    }
    const r = pick(100);
    if (r < 55) {
      ops.touch++;
      sess.cookie.expires = new Date(Date.now() + TTL_MS).toISOString();
      return store.touch(id, sess, after);
    }
    if (r < 97) {
      ops.set++;
      sess.views++;
      return store.set(id, sess, after);
    }
    ops.destroy++;
    return store.destroy(id, after);
  });
}

const total = () => ops.get + ops.set + ops.touch + ops.destroy;
const samples = [];
function sample() {
  if (SABOTAGE) leaked.push(openSync('/dev/null', 'r'));
  globalThis.gc();
  const mem = process.memoryUsage();
  samples.push({
    ops: total(),
    atMs: Math.round(performance.now() - started),
    heapUsed: mem.heapUsed,
    rss: mem.rss,
    external: mem.external + mem.arrayBuffers,
    fileBytes: existsSync(file) ? statSync(file).size : 0,
    fds: fds(),
    tempFiles: tempCount(),
    journalBytes: store.stats.persistence.journal.bytes,
    journalFiles: journalCount(),
    sessions: store.stats.sessions,
    saves: seen.saves,
  });
}

const started = performance.now();
let nextSample = SAMPLE_EVERY;
let lastReport = started;
while (total() < OPS) {
  const inBurst = (performance.now() - started) % (BURST_MS + CALM_MS) < BURST_MS;
  await new Promise((resolve) => {
    let pending = BATCH;
    const done = () => {
      if (--pending === 0) resolve();
    };
    for (let i = 0; i < BATCH; i++) {
      counter++;
      // In a burst, most requests come from new visitors, each making a couple of requests in a row.
      const id = inBurst && pick(3) !== 0 ? `v${Math.floor(visitor++ / 2)}` : regular();
      request(id, done);
    }
  });
  seen.maxSessions = Math.max(seen.maxSessions, store.stats.sessions);
  await yieldToLoop();
  if (total() >= nextSample) {
    sample();
    nextSample += SAMPLE_EVERY;
  }
  if (performance.now() - lastReport > 10_000) {
    lastReport = performance.now();
    console.log(`  ${total()} ops in ${((lastReport - started) / 1000).toFixed(0)} s, heap ${(samples.at(-1)?.heapUsed / MiB).toFixed(1)} MiB`);
  }
}
const runMs = performance.now() - started;
const beforeClose = { sessions: store.stats.sessions, fileBytes: statSync(file).size };
await store.close();
globalThis.gc();
await sleep(50);
const endFds = fds();
const endTargets = fdTargets();
const fdsOpened = [...endTargets];
for (const t of baselineTargets) if (fdsOpened.includes(t)) fdsOpened.splice(fdsOpened.indexOf(t), 1);
const endTemp = tempCount();
const endJournals = journalCount();
const durationMs = Math.round(performance.now() - started);
rmSync(dir, { recursive: true, force: true });

// Boundedness: the last quarter of the samples against the second quarter.
const quarter = (q) => samples.slice(Math.floor((samples.length * q) / 4), Math.floor((samples.length * (q + 1)) / 4));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : (s[Math.floor((s.length - 1) / 2)] + s[Math.ceil((s.length - 1) / 2)]) / 2;
};
const max = (xs) => Math.max(...xs);
const q2 = quarter(1);
const q4 = quarter(3);
const figures = {
  heapMedianQ2: median(q2.map((s) => s.heapUsed)),
  heapMedianQ4: median(q4.map((s) => s.heapUsed)),
  heapMax: max(samples.map((s) => s.heapUsed)),
  rssMedianQ2: median(q2.map((s) => s.rss)),
  rssMedianQ4: median(q4.map((s) => s.rss)),
  fdsMaxQ2: max(q2.map((s) => s.fds)),
  fdsMaxQ4: max(q4.map((s) => s.fds)),
  fileMaxQ2: max(q2.map((s) => s.fileBytes)),
  fileMaxQ4: max(q4.map((s) => s.fileBytes)),
  tempFilesMax: max(samples.map((s) => s.tempFiles)),
  journalMaxQ2: max(q2.map((s) => s.journalBytes)),
  journalMaxQ4: max(q4.map((s) => s.journalBytes)),
  journalFilesMax: max(samples.map((s) => s.journalFiles)),
};
const checks = [
  ['enough samples', samples.length >= 8, `${samples.length} samples`],
  ['heap bounded', figures.heapMedianQ4 <= figures.heapMedianQ2 * 1.15 + 2 * MiB,
    `median heapUsed ${(figures.heapMedianQ2 / MiB).toFixed(1)} -> ${(figures.heapMedianQ4 / MiB).toFixed(1)} MiB`],
  ['fds bounded', figures.fdsMaxQ4 <= figures.fdsMaxQ2 + 2, `max fds ${figures.fdsMaxQ2} -> ${figures.fdsMaxQ4}`],
  ['fds back to baseline', endFds === baselineFds, `${baselineFds} before the store, ${endFds} after close()${fdsOpened.length > 0 ? `, new: ${tally(fdsOpened)}` : ''}`],
  ['file bounded', figures.fileMaxQ4 <= figures.fileMaxQ2 * 1.25, `largest file ${figures.fileMaxQ2} -> ${figures.fileMaxQ4} bytes`],
  ['journal bounded', figures.journalMaxQ4 <= figures.journalMaxQ2 * 1.25 + MiB,
    `largest journal since a snapshot ${figures.journalMaxQ2} -> ${figures.journalMaxQ4} bytes`],
  ['journal files bounded', figures.journalFilesMax <= 3 && endJournals === 0,
    `at most ${figures.journalFilesMax} while running, ${endJournals} after close()`],
  ['no temp file left', endTemp === 0 && figures.tempFilesMax <= 1, `${endTemp} at the end, at most ${figures.tempFilesMax} while running`],
  ['max respected', seen.maxSessions <= MAX, `at most ${seen.maxSessions} sessions (max ${MAX})`],
  ['no errors', seen.saveErrors === 0 && seen.callbackErrors === 0, `${seen.saveErrors} save errors, ${seen.callbackErrors} callback errors`],
  ['evictions happened', seen.evict > 0, `${seen.evict} evicted`],
  ['expiries happened', seen.expire > 0, `${seen.expire} expired`],
  ['prunes and saves ran', prunes > 0 && seen.saves > 0, `${prunes} prunes, ${seen.saves} saves`],
];
const failed = checks.filter(([, ok]) => !ok);

const result = {
  ops: total(),
  opsByKind: ops,
  opsPerSecond: Math.round(total() / (runMs / 1000)),
  durationMs,
  saves: seen.saves,
  prunes,
  evicted: seen.evict,
  expired: seen.expire,
  destroyed: seen.delete,
  maxSessions: seen.maxSessions,
  heapUsedMiB: { medianQ2: round(figures.heapMedianQ2 / MiB), medianQ4: round(figures.heapMedianQ4 / MiB), max: round(figures.heapMax / MiB) },
  rssMiB: { medianQ2: round(figures.rssMedianQ2 / MiB), medianQ4: round(figures.rssMedianQ4 / MiB) },
  fds: { baseline: baselineFds, maxQ2: figures.fdsMaxQ2, maxQ4: figures.fdsMaxQ4, afterClose: endFds },
  fileBytes: { maxQ2: figures.fileMaxQ2, maxQ4: figures.fileMaxQ4, atEnd: beforeClose.fileBytes },
  tempFiles: { maxWhileRunning: figures.tempFilesMax, afterClose: endTemp },
  journal: { mode: store.stats.persistence.journal.mode, bytesMaxQ2: figures.journalMaxQ2, bytesMaxQ4: figures.journalMaxQ4, filesMaxWhileRunning: figures.journalFilesMax, filesAfterClose: endJournals },
  bounded: failed.length === 0,
  checks: checks.map(([name, ok, detail]) => ({ name, ok, detail })),
  config: { max: MAX, ttlMs: TTL_MS, checkPeriodMs: CHECK_PERIOD_MS, savePeriodMs: SAVE_PERIOD_MS, sampleEvery: SAMPLE_EVERY, burstMs: BURST_MS, calmMs: CALM_MS },
  samples,
  node: process.version,
  date: new Date().toISOString(),
  machine: { os: `${osType()} ${release()}`, cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memGB: Math.round(totalmem() / 2 ** 30) },
  command: `node scripts/soak.mjs${OPS === 10_000_000 ? '' : ` --ops ${OPS}`}`,
};

/** "3 × /dev/null, 1 × pipe:[123]" */
function tally(names) {
  const n = new Map();
  for (const name of names) n.set(name, (n.get(name) ?? 0) + 1);
  return [...n].map(([name, count]) => `${count} × ${name}`).join(', ');
}

function round(x) {
  return Math.round(x * 10) / 10;
}

console.log(`\nsoak: ${result.ops} ops (${ops.get} get, ${ops.set} set, ${ops.touch} touch, ${ops.destroy} destroy) in ` +
  `${(runMs / 1000).toFixed(1)} s, ${result.opsPerSecond} ops/s`);
console.log(`  ${seen.saves} saves, ${prunes} prunes, ${seen.evict} evicted, ${seen.expire} expired, ${seen.delete} destroyed; ` +
  `at most ${seen.maxSessions} sessions`);
console.log(`  heapUsed after GC: median ${result.heapUsedMiB.medianQ2} MiB (2nd quarter) -> ${result.heapUsedMiB.medianQ4} MiB ` +
  `(last quarter), max ${result.heapUsedMiB.max} MiB; RSS ${result.rssMiB.medianQ2} -> ${result.rssMiB.medianQ4} MiB`);
console.log(`  fds: ${baselineFds} before, max ${figures.fdsMaxQ2} -> ${figures.fdsMaxQ4} while running, ${endFds} after close(); ` +
  `file: max ${figures.fileMaxQ2} -> ${figures.fileMaxQ4} bytes; temp files: at most ${figures.tempFilesMax}, ${endTemp} at the end`);
for (const [name, ok, detail] of checks) console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${name}: ${detail}`);

if (flag('--json')) {
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'soak.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`  wrote ${join(RESULTS, 'soak.json')}`);
}
if (failed.length > 0) process.exitCode = 1;
