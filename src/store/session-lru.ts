import { LRUCache } from 'lru-cache';
import { expiredIds } from './lru-entries.js';

/** How {@link SessionLRU.purgeStale} removes an expired entry: lru-cache's `get` deletes it, with the reason 'expire'. */
const REMOVE_STALE: LRUCache.GetOptions<string, string, unknown> = { allowStale: false };

/**
 * The cache the store exposes as `store.store`: lru-cache 11, walked over a copy of its order.
 *
 * lru-cache 11 walks its list live: an entry read, set or touched inside `forEach` (or the body of a `for...of` over
 * `keys()`, `entries()`...) moves to the most recently used end, where a walk from that end meets it again, forever
 * (the server stops answering), and a walk from the other end stops at once (sessions silently skipped).
 * memorystore's lru-cache 4 took the next entry before calling back, so its users' code that walks the cache to
 * update the sessions of one user, or prunes as memorystore did (`forEach` + `get`), ended. Here a walk takes the keys
 * first: each entry is visited once, in the order of when the walk began, with the value it holds when reached; one
 * deleted meanwhile is skipped.
 */
export class SessionLRU extends LRUCache<string, string> {
  override *entries(): Generator<[string, string], void, unknown> {
    yield* this.#settled(super.keys());
  }

  override *rentries(): Generator<[string, string], void, unknown> {
    yield* this.#settled(super.rkeys());
  }

  override *keys(): Generator<string, void, unknown> {
    for (const [key] of this.#settled(super.keys())) yield key;
  }

  override *rkeys(): Generator<string, void, unknown> {
    for (const [key] of this.#settled(super.rkeys())) yield key;
  }

  override *values(): Generator<string, void, unknown> {
    for (const [, value] of this.#settled(super.keys())) yield value;
  }

  override *rvalues(): Generator<string, void, unknown> {
    for (const [, value] of this.#settled(super.rkeys())) yield value;
  }

  override forEach(fn: (v: string, k: string, self: LRUCache<string, string>) => unknown, thisp: unknown = this): void {
    for (const [key, value] of this.#settled(super.keys())) fn.call(thisp, value, key, this);
  }

  override rforEach(fn: (v: string, k: string, self: LRUCache<string, string>) => unknown, thisp: unknown = this): void {
    for (const [key, value] of this.#settled(super.rkeys())) fn.call(thisp, value, key, this);
  }

  /**
   * Removes the expired entries, least recently used first, each disposed with the reason 'expire', as lru-cache's own
   * does, in a tenth of its time (see {@link expiredIds}). The store's prune (`checkPeriod`) and `store.store.prune()`.
   */
  override purgeStale(): boolean {
    const ids = expiredIds(this, this.perf.now());
    for (const id of ids) this.get(id, REMOVE_STALE);
    return ids.length > 0;
  }

  // lru-cache 4's names, which memorystore handed out and its users' code calls (lru-cache 11 renamed them; a count
  // read by the old name was `undefined`, silently). Not in the types: new code uses lru-cache 11's names.

  /** lru-cache 4's `del`: {@link LRUCache.delete}. */
  del(key: string): boolean {
    return this.delete(key);
  }

  /** lru-cache 4's `reset`: {@link LRUCache.clear}. */
  reset(): void {
    this.clear();
  }

  /** lru-cache 4's `itemCount`: {@link LRUCache.size}. */
  get itemCount(): number {
    return this.size;
  }

  /** lru-cache 4's `length` (the sum of entry lengths, each 1 in memorystore's cache): {@link LRUCache.size}. */
  get length(): number {
    return this.size;
  }

  /** lru-cache 4's `prune`: {@link LRUCache.purgeStale}. */
  prune(): void {
    this.purgeStale();
  }

  /** The entries of `live` (a walk of lru-cache's own), its keys read to the end before the first is handed out. */
  *#settled(live: Iterable<string>): Generator<[string, string], void, unknown> {
    const keys = Array.from(live);
    for (const key of keys) {
      // Without allowStale, one that expired meanwhile is skipped, as lru-cache's walk skips it when it reaches it.
      const value = this.peek(key);
      if (value !== undefined) yield [key, value];
    }
  }
}
