/**
 * How sessions are kept in lru-cache, and copied out of it.
 *
 * Expiry: lru-cache treats an entry as expired when `now - start > ttl`, so it still serves it at the
 * millisecond `start + ttl`. A session expires at its expiry millisecond (as in express-session's
 * MemoryStore), so entries are stored with `start` one ms early and their expiry is `start + ttl + 1`.
 */

import { Buffer } from 'node:buffer';
import { LRUCache } from 'lru-cache';

/** The largest time a Date can hold: a later expiry is "never" (and still a whole number the file can hold). */
const MAX_DATE_MS = 8.64e15;

/**
 * The absolute expiry, in whole ms since the epoch, of a session living `lifetime` ms from `now` (0: never).
 * Rounded up, so a fractional lifetime never makes a number the snapshot format cannot hold.
 */
export function expiryOf(now: number, lifetime: number): number {
  // A positive lifetime below the float step at `now` (2^-12 ms) rounds back to `now`, which lru-cache, handed a ttl of
  // 0, took for "never": it ends at the next ms, as any other lifetime under 1 ms does.
  const expires = lifetime > 0 ? Math.max(Math.ceil(now + lifetime), Math.floor(now) + 1) : Math.ceil(now + lifetime);
  return lifetime === Infinity || expires > MAX_DATE_MS ? 0 : expires;
}

/** Whether an absolute expiry (0: never) has come at `now`: a session expires at its expiry millisecond. */
export function isExpired(expires: number, now: number): boolean {
  return expires !== 0 && expires <= now;
}

/**
 * The options of every `cache.set`, reused: a new object per call was garbage on every set and touch, and lru-cache
 * writes `status` into it (declared here, so the object keeps one shape). lru-cache reads it synchronously.
 */
const setOptions: LRUCache.SetOptions<string, string, unknown> = { ttl: 0, start: 0, size: 0, status: undefined };

/** Stores `value` under `id`, expiring at `expires` (ms since the epoch; 0: never), as of `now`. */
export function putEntry(cache: LRUCache<string, string>, id: string, value: string, expires: number, now: number, size: number): void {
  setOptions.ttl = expires === 0 ? 0 : expires - now;
  // Ignored by lru-cache when ttl is 0.
  setOptions.start = now - 1;
  setOptions.size = size;
  // Cleared each time: with a diagnostics subscriber, lru-cache puts a status object here that must not be reused.
  setOptions.status = undefined;
  cache.set(id, value, setOptions);
}

/**
 * lru-cache's arrays, as `LRUCache.unsafeExposeInternals` gives them. `head` and `tail` are getters that
 * read live values, and `keyList` is created with the cache; `ttls`/`starts` appear only with the first
 * TTL, so code that reads them asks for the internals afresh.
 */
export type LruInternals = ReturnType<typeof LRUCache.unsafeExposeInternals<string, string, unknown>>;

/** Whether reading `id` would move it in the LRU order: it is not already the most recently used entry. */
export function readReorders(cache: LRUCache<string, string>, internals: LruInternals, id: string): boolean {
  return cache.size > 1 && internals.keyList[internals.tail as unknown as number] !== id;
}

/** Live entries, least recently used first: references to the stored strings, nothing serialized. */
export interface EntryCopy {
  ids: string[];
  values: string[];
  /** Absolute expiry in the cache's clock (ms since the epoch), 0 for never. */
  expires: number[];
}

/**
 * Copies every live entry of the cache, least recently used first, in one tight loop over lru-cache's
 * arrays (reached through its public `LRUCache.unsafeExposeInternals`).
 *
 * Why not `rforEach`: its generator walk costs 300-500 ns per entry on our 2-core machine, 30-50 ms for
 * 100k sessions, all of it blocking the event loop, and a generator cannot be paused across ticks while
 * requests reorder the list. This loop copies 100k references in a few ms. The package pins lru-cache to
 * ~11.5 and a test checks this copy against `rforEach` and `getRemainingTTL`.
 */
export function copyEntries(cache: LRUCache<string, string>, now: number): EntryCopy {
  const size = cache.size;
  const ids = new Array<string>(size);
  const values = new Array<string>(size);
  const expires = new Array<number>(size);
  const internals = LRUCache.unsafeExposeInternals(cache);
  const { keyList, valList, ttls, starts } = internals;
  // Indexes are plain numbers at run time; lru-cache brands them in its types.
  const next = internals.next as unknown as ArrayLike<number>;
  let index = internals.head as unknown as number;
  let live = 0;
  // The list from head holds exactly `size` entries, all set: values are copied as references without
  // being read (reading 100k scattered strings costs a cache miss each).
  for (let n = size; n > 0; n--, index = next[index] as number) {
    const ttl = ttls?.[index] ?? 0;
    const expiry = ttl === 0 ? 0 : (starts?.[index] ?? 0) + ttl + 1;
    if (isExpired(expiry, now)) continue;
    ids[live] = keyList[index] as string;
    values[live] = valList[index] as string;
    expires[live] = expiry;
    live++;
  }
  ids.length = live;
  values.length = live;
  expires.length = live;
  return { ids, values, expires };
}

/**
 * Ids of the expired entries, least recently used first, by lru-cache's own rule (`now - start > ttl`, neither 0), in
 * a loop over its arrays as {@link copyEntries}: lru-cache's `purgeStale` walks its list through a generator, 450 ms of
 * blocked event loop for a prune of 1M sessions that finds nothing expired.
 */
export function expiredIds(cache: LRUCache<string, string>, now: number): string[] {
  const internals = LRUCache.unsafeExposeInternals(cache);
  const { keyList, ttls, starts } = internals;
  const ids: string[] = [];
  if (ttls === undefined || starts === undefined) return ids;
  const next = internals.next as unknown as ArrayLike<number>;
  let index = internals.head as unknown as number;
  for (let n = cache.size; n > 0; n--, index = next[index] as number) {
    const ttl = ttls[index] ?? 0;
    const start = starts[index] ?? 0;
    if (ttl !== 0 && start !== 0 && now - start > ttl) ids.push(keyList[index] as string);
  }
  return ids;
}

/** Size of an entry for `maxSize`: the UTF-8 bytes of its id and stored text, as written to the file. */
export function entrySize(id: string, text: string): number {
  return Math.max(1, Buffer.byteLength(id) + Buffer.byteLength(text));
}
