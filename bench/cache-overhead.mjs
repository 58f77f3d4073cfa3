// Heap per entry of the structures an in-memory session cache could be built on, strings excluded (issue 11,
// part 3: heap per session <= 1.3x its serialized size at 100k). The ids and values are made first and measured
// apart, so the figures are what each structure adds on top of the stored strings.
//
//   node --expose-gc cache-overhead.mjs [--entries N]   (each structure is measured in a fresh process)
//
//   lru-cache          what the store uses: lru-cache 11 with a ttl, a start and a size per entry
//   Map + object       Map<id, { value, expires, size }>, LRU order kept by re-inserting on use
//   Map + expiry Map   Map<id, value> and Map<id, expires> (a boxed number per entry)
//   Map + slot arrays  what a cache of our own would hold: Map<id, slot>, the ids and values in arrays by slot, and
//                      expiry, size and the LRU list's links in typed arrays grown by half (lru-cache's layout, with
//                      typed arrays where lru-cache keeps plain arrays when it has no `max`)
//   Map of strings     Map<id, value>: the floor of any Map-based cache (expiry and size would then have to live in
//                      the value string itself)
//
// Each figure is heapUsed plus arrayBuffers (typed arrays live outside the JavaScript heap, but they are the cache's
// memory all the same).
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const { LRUCache } = require('../node_modules/lru-cache');
const { values: args } = parseArgs({ options: { entries: { type: 'string', default: '100000' }, kind: { type: 'string' } } });
const N = Number(args.entries);
if (typeof globalThis.gc !== 'function') {
  console.error('Run with node --expose-gc.');
  process.exit(2);
}
const ids = Array.from({ length: N }, (_, i) => `sid${String(i).padStart(29, '0')}`);
const values = Array.from({ length: N }, (_, i) => `{"cookie":{"originalMaxAge":86400000},"n":${i}}`.padEnd(373, ' '));
const DAY = 86_400_000;

const kinds = {
  'lru-cache': () => {
    const c = new LRUCache({ maxSize: 2 ** 40, sizeCalculation: () => 1 });
    const now = Date.now();
    for (let i = 0; i < N; i++) c.set(ids[i], values[i], { ttl: DAY, start: now, size: 400 });
    return c;
  },
  'Map + object': () => {
    const c = new Map();
    for (let i = 0; i < N; i++) c.set(ids[i], { value: values[i], expires: Date.now() + DAY, size: 400 });
    return c;
  },
  'Map + expiry Map': () => {
    const c = new Map();
    const expires = new Map();
    for (let i = 0; i < N; i++) {
      c.set(ids[i], values[i]);
      expires.set(ids[i], Date.now() + DAY + 0.5);
    }
    return [c, expires];
  },
  'Map + slot arrays': () => {
    const index = new Map();
    const idList = [];
    const valueList = [];
    let capacity = 0;
    let expires = new Float64Array(0);
    let sizes = new Uint32Array(0);
    let next = new Uint32Array(0);
    let prev = new Uint32Array(0);
    const grown = (a) => {
      const b = new a.constructor(capacity);
      b.set(a);
      return b;
    };
    for (let i = 0; i < N; i++) {
      if (i === capacity) {
        capacity = Math.max(64, Math.ceil(capacity * 1.5));
        [expires, sizes, next, prev] = [grown(expires), grown(sizes), grown(next), grown(prev)];
      }
      index.set(ids[i], i);
      idList[i] = ids[i];
      valueList[i] = values[i];
      expires[i] = Date.now() + DAY;
      sizes[i] = 400;
      next[i] = i + 1;
      prev[i] = i - 1;
    }
    return [index, idList, valueList, expires, sizes, next, prev];
  },
  'Map of strings': () => {
    const c = new Map();
    for (let i = 0; i < N; i++) c.set(ids[i], values[i]);
    return c;
  },
};

/** Heap and ArrayBuffer bytes in use after full GCs. */
async function memory() {
  // ArrayBuffers a GC found dead are released by a task after it: let it run, then collect again.
  globalThis.gc();
  await new Promise((resolve) => setTimeout(resolve, 50));
  globalThis.gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

if (args.kind !== undefined) {
  // One structure in a fresh process: memory a previous one left (ArrayBuffers are released after a GC, not in
  // it) cannot count against it.
  const before = await memory();
  const structure = kinds[args.kind]();
  const after = await memory();
  console.log(`  ${args.kind.padEnd(18)} ${((after - before) / N).toFixed(1).padStart(6)} B`);
  if (structure === undefined) process.exit(1);
} else {
  console.log(`${N} entries, heap (and ArrayBuffers) each structure adds per entry (ids and values excluded):`);
  for (const kind of Object.keys(kinds)) {
    execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--entries', String(N), '--kind', kind], { stdio: 'inherit' });
  }
}
