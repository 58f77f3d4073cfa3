/**
 * The sessions in memory: lru-cache 11 holding `sid -> stored text` with an absolute expiry, and the glue of the
 * change paths: every change is counted (the periodic snapshot saves only when the count moved) and, for a store with
 * a `saveFile`, journaled.
 */
import { LRUCache } from 'lru-cache';
import type { JournalOp } from '../files/journal-format.js';
import type { Persistence } from '../files/persistence.js';
import type { DisposeReason, PublicOptions, ResolvedOptions } from '../option-types.js';
import { handleRejection, toError } from './callback.js';
import { SessionLRU } from './session-lru.js';
import { copyEntries, entrySize, expiryOf, putEntry, readReorders, type EntryCopy, type LruInternals } from './lru-entries.js';
import type { Lifetime } from './ttl.js';

export class SessionCache {
  /** The cache, exposed as the store's `store` property (memorystore's). */
  readonly cache: LRUCache<string, string>;
  /** lru-cache's arrays, for reads that must not walk it through its generators. */
  readonly lru: LruInternals;
  /** The snapshot file and its journal, once opened; `undefined` for a memory-only store. */
  persistence: Persistence | undefined;
  readonly #options: PublicOptions;
  readonly #clock: () => number;
  readonly #maxBytes: number;
  readonly #report: (err: Error) => void;
  #changes = 0;
  /** While the file loads, entries that come and go are not the user's events: no dispose, no change. */
  #loading = false;
  /** Changes being made (nested: an 'error' listener may change the store inside one): dispose hooks wait for their records. */
  #depth = 0;
  #draining = false;
  /** Dispose hooks waiting for the change that caused them to be journaled. */
  readonly #hooks: [string, string, DisposeReason][] = [];

  /** @param report - where a throwing `dispose` hook is reported. */
  constructor(opts: ResolvedOptions, report: (err: Error) => void) {
    this.#options = opts.public;
    this.#clock = opts.clock;
    this.#maxBytes = opts.maxBytes;
    this.#report = report;
    this.cache = new SessionLRU({
      max: opts.maxEntries,
      // Always tracking sizes gives byte stats and keeps lru-cache from warning about an unbounded cache.
      maxSize: opts.maxBytes,
      sizeCalculation: (value, key) => entrySize(key, value),
      allowStale: opts.public.stale === true,
      // A replaced value matters only to the user's dispose hook: without one, lru-cache need not call back at all.
      noDisposeOnSet: opts.public.noDisposeOnSet === true || typeof opts.public.dispose !== 'function',
      dispose: (value, key, reason) => { this.#disposed(value, key, reason); },
      // Expiry is wall-clock time (as the cookie's), so it can be written to and read from a file.
      perf: { now: opts.clock },
      ttlResolution: 0,
    });
    this.lru = LRUCache.unsafeExposeInternals(this.cache);
  }

  /** Changes to the sessions since the cache was created (loading the file excluded). */
  get changes(): number {
    return this.#changes;
  }

  /** Runs `load` (which fills the cache from the file) without counting, journaling or disposing what it does. */
  loading<T>(load: () => T): T {
    this.#loading = true;
    try {
      return load();
    } finally {
      this.#loading = false;
    }
  }

  /** The stored text of `id`, marking it most recently used; `undefined` when missing or expired (unless `stale`). */
  read(id: string): string | undefined {
    // A read that moves the session in the LRU order changes what the snapshot keeps (the order decides
    // evictions after a restart); reading the most recent session again changes nothing.
    const reorders = readReorders(this.cache, this.lru, id);
    let text: string | undefined;
    // An expired session is deleted by the read: its dispose hook runs once lru-cache's get is done.
    this.#depth++;
    try {
      text = this.cache.get(id);
    } finally {
      this.#changed();
    }
    if (text !== undefined && reorders) this.#changes++;
    return text;
  }

  /** The stored text of a live `id` (never a stale one), marking it most recently used. */
  readLive(id: string): string | undefined {
    this.#depth++;
    try {
      return this.cache.get(id, { allowStale: false });
    } finally {
      this.#changed();
    }
  }

  /** Removes the expired sessions (their dispose hooks run once all are removed). */
  purgeStale(): void {
    this.#depth++;
    try {
      this.cache.purgeStale();
    } finally {
      this.#changed();
    }
  }

  /**
   * Stores `text` under `id` for `lifetime` ms from `now` and journals it as `op`. A lifetime <= 0 deletes the session instead:
   * saving a session whose cookie already expired must not keep it (or an older version) alive.
   * @returns the error to call back with (a session larger than `maxSize`), else null.
   */
  put(id: string, text: string, lifetime: Lifetime, now: number, op: JournalOp): Error | null {
    if (lifetime <= 0) {
      this.delete(id);
      return null;
    }
    const size = entrySize(id, text);
    if (size > this.#maxBytes) {
      return new RangeError(`express-memfilestore: the session is ${size} bytes, more than maxSize (${this.#maxBytes})`);
    }
    const expires = expiryOf(now, lifetime);
    this.#depth++;
    try {
      // lru-cache 11 skips dispose when the new value is the same string (a session saved unchanged); memorystore's
      // lru-cache 4 disposed of every overwrite. Without a hook lru-cache's noDisposeOnSet is set: nothing to do.
      if (!this.cache.noDisposeOnSet && this.cache.peek(id, { allowStale: true }) === text) this.#disposed(text, id, 'set');
      putEntry(this.cache, id, text, expires, now, size);
      this.#changes++;
      this.persistence?.record(op, id, expires, text);
    } finally {
      this.#changed();
    }
    return null;
  }

  /** Deletes `id` if present, and journals it. */
  delete(id: string): void {
    this.#depth++;
    try {
      if (this.cache.delete(id)) this.persistence?.record('d', id, 0, '');
    } finally {
      this.#changed();
    }
  }

  /** Deletes every session (`dispose` fires for each), and journals it. */
  clear(): void {
    this.#depth++;
    try {
      this.cache.clear();
      this.persistence?.record('c', '', 0, '');
    } finally {
      this.#changed();
    }
  }

  /**
   * A change is journaled: the dispose hooks it caused run now. Not before its record: a hook that changes the store
   * (destroys the session just set) is journaled after it, as it happened in memory.
   */
  #changed(): void {
    if (--this.#depth > 0 || this.#draining || this.#hooks.length === 0) return;
    this.#draining = true;
    let next = 0;
    try {
      // Hooks that change the store queue their own hooks here, run in order. Walked by index, not shift(): V8 cannot
      // trim the front of a large array, so shift() copied the rest at every step, and a clear() or prune of 400k
      // sessions with a hook stalled the event loop 13 s (0.2 s without one).
      while (next < this.#hooks.length) this.#callHook(...(this.#hooks[next++] as [string, string, DisposeReason]));
    } finally {
      this.#hooks.splice(0, next);
      this.#draining = false;
    }
  }

  /**
   * Live sessions, least recently used first: references only, no serialization. Expired ones are left out even with
   * `stale` (lru-cache's own iteration would include them then).
   */
  live(now = this.#clock()): EntryCopy {
    return copyEntries(this.cache, now);
  }

  #disposed(value: string, key: string, reason: DisposeReason): void {
    if (this.#loading) return;
    if (reason !== 'set') this.#changes++;
    // An eviction by max/maxSize must be replayed as such: a restart cannot see the reads that chose it. So must a
    // deletion made on the cache directly (memorystore's users call `store.store.delete`/`clear` to log someone out),
    // or a crash brings the session back; the store's own deletions, inside a change, are journaled by delete/clear.
    if (reason === 'evict' || (reason === 'delete' && this.#depth === 0)) this.persistence?.record('d', key, 0, '');
    if (typeof this.#options.dispose !== 'function') return;
    // Never in the middle of lru-cache's operation: it disposes of an evicted session before the set that evicts it
    // reuses the slot, and a session set from there corrupted the cache (an id listed several times, a session
    // acknowledged and not served). Nor before the change that caused it is journaled. (lru-cache's disposeAfter
    // would do the first, but not for evictions by a set with noDisposeOnSet: those it never delivers.) A change
    // made on the cache directly (the `store` property) calls the hook in place, as before.
    if (this.#depth > 0 || this.#draining) this.#hooks.push([value, key, reason]);
    else this.#callHook(value, key, reason);
  }

  #callHook(value: string, key: string, reason: DisposeReason): void {
    const dispose = this.#options.dispose;
    if (typeof dispose !== 'function') return;
    try {
      // An async hook fails by rejecting: reported as a throw is.
      handleRejection(dispose(key, value, reason), this.#report);
    } catch (err) {
      this.#report(toError(err));
    }
  }
}
