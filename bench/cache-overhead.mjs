// Heap per entry of the structures an in-memory session cache could be built on, strings excluded (issue 11,
// part 3: heap per session <= 1.3x its serialized size at 100k). The ids and values are made first and measured
// apart, so the figures are what each structure adds on top of the stored strings.
//
//   node --expose-gc cache-overhead.mjs [--entries N]
//
//   lru-cache          what the store uses: lru-cache 11 with a ttl, a start and a size per entry
//   Map + object       Map<id, { value, expires, size }>, LRU order kept by re-inserting on use
//   Map + expiry Map   Map<id, value> and Map<id, expires> (a boxed number per entry)
//   Map of strings     Map<id, value>: the floor of any Map-based cache (expiry and size would then have to live in
//                      the value string itself)
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const { LRUCache } = require('../node_modules/lru-cache');
const { values: args } = parseArgs({ options: { entries: { type: 'string', default: '100000' } } });
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
  'Map of strings': () => {
    const c = new Map();
    for (let i = 0; i < N; i++) c.set(ids[i], values[i]);
    return c;
  },
};

console.log(`${N} entries, heap each structure adds per entry (ids and values excluded):`);
const live = {};
for (const [name, make] of Object.entries(kinds)) {
  delete live.structure; // the previous structure is garbage before the baseline is taken
  globalThis.gc();
  const before = process.memoryUsage().heapUsed;
  live.structure = make();
  globalThis.gc();
  const after = process.memoryUsage().heapUsed;
  console.log(`  ${name.padEnd(18)} ${((after - before) / N).toFixed(1).padStart(6)} B`);
}
