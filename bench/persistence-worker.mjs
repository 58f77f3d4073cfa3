// One persistence measurement in a fresh process (so heap figures belong to one store only):
//   node --expose-gc persistence-worker.mjs save <ours|1.x> <sessions> <file>
//   node --expose-gc persistence-worker.mjs load <ours|1.x> <sessions> <file>
//   node --expose-gc persistence-worker.mjs floor ours <sessions> <file>
// Prints one JSON line with the figures.
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createRng, newSession, sessionData, sessionId } from './sessions.mjs';

const require = createRequire(import.meta.url);
const session = require('express-session');
const [mode, kind, countText, file] = process.argv.slice(2);
const count = Number(countText);

// Loaded before anything is measured: module loading is not the store's load time or memory.
const Store = kind === 'ours' ? require('express-memfilestore').MemFileStore : require('express-memfilestore-1')(session);

function construct(options) {
  return new Store({ saveFile: file, ...options });
}

const call = (fn) => new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));

function heapUsed() {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
}

/** Longest stall seen by a 1 ms timer and by the event-loop delay histogram, while `work` runs, with requests being served. */
async function measureStall(store, ids, work) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  let last = performance.now();
  let worstGap = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    worstGap = Math.max(worstGap, now - last);
    last = now;
  }, 1);
  // "Serving": a steady stream of get + touch calls on random sessions, as requests with resave: false do.
  let serving = true;
  let served = 0;
  const rng = createRng(7);
  const serve = () => {
    if (!serving) return;
    for (let i = 0; i < 20; i++) {
      const sid = ids[rng.int(ids.length)];
      store.get(sid, (err, sess) => {
        if (!err && sess) store.touch(sid, sess, () => { served++; });
      });
    }
    setImmediate(serve);
  };
  histogram.enable();
  serve();
  const started = performance.now();
  const measured = await work();
  const durationMs = typeof measured === 'number' ? measured : performance.now() - started;
  serving = false;
  histogram.disable();
  clearInterval(ticker);
  return { durationMs, worstGapMs: worstGap, loopDelayMaxMs: histogram.max / 1e6, served };
}

async function save() {
  const before = heapUsed();
  // express-memfilestore 1.x only saves from its interval: a long period that we fire by hand below.
  const store = construct(kind === 'ours' ? { savePeriod: 0 } : { savePeriod: 3_600_000 });
  const rng = createRng(1);
  const ids = new Array(count);
  let serialized = 0;
  for (let i = 0; i < count; i++) {
    const sid = sessionId(rng);
    const sess = newSession(sid, sessionData(rng));
    serialized += Buffer.byteLength(JSON.stringify(sess)) + Buffer.byteLength(sid);
    ids[i] = sid;
    await call((cb) => store.set(sid, sess, cb));
  }
  const idsBytes = ids.length * 8; // the benchmark's own array of ids, not the store's
  const heapPerSession = (heapUsed() - before - idsBytes) / count;
  let stall;
  if (kind === 'ours') {
    let copyMs = 0;
    stall = await measureStall(store, ids, () => {
      // The synchronous part of a save: taking the snapshot (a copy of references).
      const t0 = performance.now();
      const saving = store.flush();
      copyMs = performance.now() - t0;
      return saving;
    });
    stall.copyMs = copyMs;
  } else {
    // 1.x's timer callback is its save: run it as its interval would.
    const timer = store._saveInterval;
    stall = await measureStall(store, ids, async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      const t0 = performance.now();
      timer._onTimeout();
      const saveMs = performance.now() - t0;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return saveMs;
    });
    store.stopSaveInterval();
  }
  if (kind === 'ours') await store.close();
  else store.stopInterval();
  return {
    mode, kind, sessions: count, ...stall,
    fileBytes: statSync(file).size,
    heapPerSession,
    serializedPerSession: serialized / count,
  };
}

function load() {
  const started = performance.now();
  const store = construct(kind === 'ours' ? { savePeriod: 0 } : {});
  const loadMs = performance.now() - started;
  return call((cb) => store.length(cb)).then(async (loaded) => {
    if (kind === 'ours') await store.close();
    return { mode, kind, sessions: count, loadMs, loaded };
  });
}

/** Decimal digits of `bytes` from `at` up to the byte `stop`: [value, index of stop]. */
function number(bytes, at, stop) {
  let n = 0;
  while (bytes[at] !== stop) n = n * 10 + (bytes[at++] - 48);
  return [n, at];
}

/**
 * The floor of a load: the least work reading our snapshot takes. Read the whole file, check its SHA-256, decode each
 * record's id and value into a Map (expiries into a typed array: no object per record). No validation beyond the
 * checksum, no expiry, no LRU, no streaming. The hash runs a MiB ahead of the decoding, not over the whole file first:
 * hashing 40 MB and then decoding it read every byte from memory twice, and the floor was slower than our own load.
 */
function floor() {
  const started = performance.now();
  const bytes = readFileSync(file);
  const trailer = bytes.lastIndexOf('\nend ', bytes.length - 2) + 1;
  const [records, hashAt] = number(bytes, trailer + 4, 0x20);
  const hash = createHash('sha256');
  let hashed = 0;
  const hashTo = (end) => {
    while (hashed < end) {
      const next = Math.min(trailer, hashed + STEP);
      hash.update(bytes.subarray(hashed, next));
      hashed = next;
    }
  };
  const map = new Map();
  const expiries = new Float64Array(records);
  let at = bytes.indexOf(0x0a) + 1;
  for (let r = 0; r < records; r++) {
    // r <expires> <idBytes> <valueBytes>\n<id>\n<value>\n
    const [expires, e] = number(bytes, at + 2, 0x20);
    const [idBytes, i] = number(bytes, e + 1, 0x20);
    const [valueBytes, v] = number(bytes, i + 1, 0x0a);
    const valueAt = v + 2 + idBytes;
    hashTo(valueAt + valueBytes + 1);
    map.set(bytes.toString('utf8', v + 1, v + 1 + idBytes), bytes.toString('utf8', valueAt, valueAt + valueBytes));
    expiries[r] = expires;
    at = valueAt + valueBytes + 1;
  }
  hashTo(trailer);
  if (hash.digest('hex') !== bytes.toString('latin1', hashAt + 1, hashAt + 65)) throw new Error('checksum mismatch');
  const loadMs = performance.now() - started;
  return { mode, kind, sessions: count, loadMs, loaded: map.size };
}

/** Bytes hashed at a time by the floor: about what stays in the CPU's caches while it is decoded. */
const STEP = 1 << 20;

const result = mode === 'save' ? await save() : mode === 'floor' ? floor() : await load();
process.stdout.write(`${JSON.stringify(result)}\n`);
