import { Store } from 'express-session';
import { LRUCache } from 'lru-cache';
import { later, toError, type AnyCallback } from './callback.js';
import { spliceCookie } from '../json/cookie-splice.js';
import { cookieJson, parseErrorPosition, sessionJson } from '../json/session-json.js';
import { log } from '../debug.js';
import { copyEntries, entrySize, expiryOf, putEntry, readReorders, type EntryCopy, type LruInternals } from './lru-entries.js';
import { toId } from './ids.js';
import {
  resolveOptions,
  type DisposeReason,
  type MemFileStoreOptions,
  type PublicOptions,
  type ResolvedOptions,
  type Serializer,
  type StoredSession,
} from '../options.js';
import type { Persistence } from '../files/persistence.js';
import { describeFileError } from '../files/file-errors.js';
import { closeOnSignal } from './signals.js';
import type { JournalOp } from '../files/journal-format.js';
import { lifetimeOf, type Lifetime } from './ttl.js';
import { openFiles } from './open-files.js';
import { StoreClosedError, type StoreStats } from './store-types.js';

export { StoreClosedError, type StoreStats } from './store-types.js';

/**
 * An express-session store that keeps sessions in memory, in an LRU cache with expiry
 * (lru-cache 11), as serialized strings with an absolute expiry.
 *
 * Drop-in for memorystore 1.6.8: same options, methods, callbacks and public properties.
 */
export class MemFileStore extends Store {
  /** The options as given and defaulted, shaped like memorystore's `store.options`. */
  readonly options: PublicOptions;
  /** The LRU cache holding `sid -> serialized session`. Exposed as memorystore does; prefer the store's methods. */
  readonly store: LRUCache<string, string>;
  /** The serializer in use (`JSON` by default). */
  readonly serializer: Serializer;
  /** The prune timer, `undefined` when none runs (memorystore's public property). */
  _checkInterval: NodeJS.Timeout | undefined;
  /**
   * Settles when the store is usable: the snapshot file (if any) is loaded synchronously in the
   * constructor, so it is settled at once. Rejects when the file is damaged, locked by another store or
   * unusable; every call then fails with the same error, and the file is left untouched. Left unhandled,
   * that rejection stops the process at start, as Redis refuses to start on a damaged snapshot.
   */
  readonly ready: Promise<void>;

  readonly #opts: ResolvedOptions;
  readonly #json: boolean;
  readonly #lru: LruInternals;
  #changes = 0;
  #closed = false;
  /** While the file loads, entries that come and go are not the user's events: no dispose, no change. */
  #loading = false;
  #failed: Error | undefined;
  #persistence: Persistence | undefined;
  /** 'always' journal: callbacks wait for the sync. */
  readonly #always: boolean;
  readonly #cancelSignals: (() => void)[] = [];

  /**
   * @param options - see {@link MemFileStoreOptions}.
   * @throws TypeError when an option has the wrong type or value, naming it.
   */
  constructor(options?: MemFileStoreOptions) {
    super();
    const opts = resolveOptions(options, (message) => process.emitWarning(message, 'MemFileStoreWarning'));
    this.#opts = opts;
    this.options = opts.public;
    this.serializer = opts.serializer;
    this.#json = opts.serializer === JSON;
    this.#always = opts.journal === 'always';
    this.store = new LRUCache<string, string>({
      max: opts.maxEntries,
      // Always tracking sizes gives byte stats and keeps lru-cache from warning about an unbounded cache.
      maxSize: opts.maxBytes,
      sizeCalculation: (value, key) => entrySize(key, value),
      allowStale: opts.public.stale === true,
      noDisposeOnSet: opts.public.noDisposeOnSet === true,
      dispose: (value, key, reason) => this.#disposed(value, key, reason),
      // Expiry is wall-clock time (as the cookie's), so it can be written to and read from a file.
      perf: { now: opts.clock },
      ttlResolution: 0,
    });
    this.#lru = LRUCache.unsafeExposeInternals(this.store);
    this._checkInterval = undefined;
    log('init: max %d, maxSize %d, checkPeriod %d ms', opts.public.max, opts.public.maxSize, opts.checkPeriodMs);
    this.ready = opts.saveFile === undefined ? Promise.resolve() : this.#openFile(opts.saveFile);
    if (this.#failed !== undefined) return;
    this.startInterval();
    this.#persistence?.startTimer();
    for (const signal of opts.closeOnSignals) {
      this.#cancelSignals.push(closeOnSignal(signal, () => this.close().catch((err: unknown) => {
        this.#report(toError(err));
      })));
    }
  }

  #openFile(file: string): Promise<void> {
    this.#loading = true;
    try {
      this.#persistence = openFiles({
        file, opts: this.#opts, cache: this.store, lru: this.#lru,
        stringify: (v) => this.serializer.stringify(v),
        changes: () => this.#changes, copy: () => this.#live(),
        // A listener that throws must not turn a good save into a failed flush(), nor crash a tick.
        emit: (event, info) => {
          try {
            this.emit(event, info);
          } catch (err) {
            this.#report(toError(err));
          }
        },
        report: (err) => { this.#report(err); },
      });
    } catch (err) {
      this.#failed = describeFileError(file, err);
      log('cannot use the snapshot file: %s', this.#failed.message);
      return Promise.reject(this.#failed);
    } finally {
      this.#loading = false;
    }
    this.#persistence.loaded(this.store.size);
    return Promise.resolve();
  }

  /**
   * Live sessions, least recently used first: references only, no serialization. Expired ones are left
   * out even with `stale` (lru-cache's own iteration would include them then).
   */
  #live(): EntryCopy {
    return copyEntries(this.store, this.#opts.clock());
  }

  /** Counts, sizes and the outcome of the last save and of the load. */
  get stats(): StoreStats {
    return {
      sessions: this.store.size,
      bytes: this.store.calculatedSize,
      changes: this.#changes,
      persistence: this.#persistence?.stats,
    };
  }

  /**
   * Saves a snapshot now if anything changed since the last one. Resolves when it is on disk (fsynced and
   * renamed into place); rejects with the error if the save fails (the previous file stays intact).
   * Resolves at once for a memory-only store.
   */
  flush(): Promise<void> {
    const unusable = this.#unusable();
    if (unusable !== undefined) return Promise.reject(unusable);
    return this.#persistence?.flush() ?? Promise.resolve();
  }

  /** Starts the periodic snapshot (every `savePeriod` ms, when something changed). Started by the constructor. */
  startSaveInterval(): void {
    if (!this.#closed) this.#persistence?.startTimer();
  }

  /** Stops the periodic snapshot. `flush()` and `close()` still save. */
  stopSaveInterval(): void {
    this.#persistence?.stopTimer();
  }

  /** The snapshot timer, as express-memfilestore 1.x exposed it; `undefined` when none runs. */
  get _saveInterval(): NodeJS.Timeout | undefined {
    return this.#persistence?.timer;
  }

  /**
   * Fetches a session. Calls back with nothing when it is missing or expired (unless `stale`).
   * Marks it most recently used.
   */
  override get(sid: string, callback: (err: unknown, session?: StoredSession | null) => void): void {
    const id = this.#check(sid, callback);
    if (id === undefined) return;
    // A read that moves the session in the LRU order changes what the snapshot keeps (the order decides
    // evictions after a restart); reading the most recent session again changes nothing.
    const reorders = readReorders(this.store, this.#lru, id);
    const text = this.store.get(id);
    if (text === undefined) return later(callback);
    if (reorders) this.#changes++;
    let session: StoredSession;
    try {
      session = this.serializer.parse(text) as StoredSession;
    } catch (err) {
      return later(callback, this.#parseError(err));
    }
    later(callback, null, session);
  }

  /** Stores a session with its TTL (see the `ttl` option). A serializer error calls back once and stores nothing. */
  override set(sid: string, session: StoredSession, callback?: (err?: unknown) => void): void {
    const id = this.#check(sid, callback, true);
    if (id === undefined) return;
    let text: unknown;
    let lifetime: Lifetime;
    try {
      lifetime = lifetimeOf(this.options, session, id, this.#opts.clock);
      text = this.#json ? sessionJson(session) ?? JSON.stringify(session) : this.serializer.stringify(session);
    } catch (err) {
      return later(callback, toError(err));
    }
    this.#done(callback, this.#put(id, text, lifetime, 's'));
  }

  /**
   * Moves a live session's expiry and replaces its stored cookie with `session.cookie`.
   * A missing or expired session is left alone (no upsert), as in memorystore.
   */
  override touch(sid: string, session: StoredSession, callback?: (err?: unknown) => void): void {
    const id = this.#check(sid, callback, true);
    if (id === undefined) return;
    const stored = this.store.get(id, { allowStale: false });
    if (stored === undefined) return later(callback, null);
    let text: unknown;
    let lifetime: Lifetime;
    try {
      lifetime = lifetimeOf(this.options, session, id, this.#opts.clock);
      text = this.#withCookie(stored, session?.cookie);
    } catch (err) {
      return later(callback, toError(err));
    }
    this.#done(callback, this.#put(id, text, lifetime, 't'));
  }

  /** Deletes one session, or several when `sid` is an array. Missing ids are fine. */
  override destroy(sid: string | readonly string[], callback?: (err?: unknown) => void): void {
    if (!Array.isArray(sid)) {
      // One id, as express-session always passes: no arrays to build on every logout and regenerate.
      const id = this.#check(sid, callback, true);
      if (id === undefined) return;
      this.#delete(id);
      return this.#done(callback, null);
    }
    if (this.#refused(callback, true)) return;
    const list = sid as readonly unknown[];
    const ids: string[] = [];
    for (const raw of list) {
      const id = toId(raw);
      if (id instanceof TypeError) return later(callback, id);
      ids.push(id);
    }
    for (const id of ids) this.#delete(id);
    this.#done(callback, null);
  }

  /** Ids of the live sessions, most recently used first. */
  ids(callback: (err: unknown, ids?: string[]) => void): void {
    if (this.#refused(callback)) return;
    later(callback, null, this.#live().ids.reverse());
  }

  /** All live sessions as an object `{ [sid]: session }`. */
  override all(callback: (err: unknown, sessions?: Record<string, StoredSession> | null) => void): void {
    if (this.#refused(callback)) return;
    const result: Record<string, StoredSession> = {};
    try {
      // Most recently used first, as memorystore's forEach gave them.
      const { ids, values } = this.#live();
      for (let i = ids.length - 1; i >= 0; i--) {
        // defineProperty: an id such as "__proto__" must become a key, not replace the prototype.
        Object.defineProperty(result, ids[i] as string, {
          value: this.serializer.parse(values[i] as string), enumerable: true, writable: true, configurable: true,
        });
      }
    } catch (err) {
      return later(callback, this.#parseError(err));
    }
    later(callback, null, result);
  }

  /** Number of entries, read when called. Expired entries not yet pruned still count, as in memorystore. */
  override length(callback: (err: unknown, length?: number) => void): void {
    if (this.#refused(callback)) return;
    later(callback, null, this.store.size);
  }

  /** Deletes every session (`dispose` fires for each). */
  override clear(callback?: (err?: unknown) => void): void {
    if (this.#refused(callback, true)) return;
    this.store.clear();
    this.#persistence?.record('c', '', 0, '');
    this.#done(callback, null);
  }

  /** Removes expired sessions now, keeping the LRU order of the others. */
  prune(): void {
    const before = this.store.size;
    this.store.purgeStale();
    log('prune: %d expired removed', before - this.store.size);
  }

  /** Starts the prune timer when `checkPeriod` is a finite number > 0 (unref'd: it never keeps the process alive). */
  startInterval(): void {
    const ms = this.#opts.checkPeriodMs;
    if (ms === 0 || this.#closed || this.#failed !== undefined) return;
    clearInterval(this._checkInterval);
    this._checkInterval = setInterval(() => this.prune(), ms).unref();
  }

  /** Stops the prune timer. */
  stopInterval(): void {
    clearInterval(this._checkInterval);
    this._checkInterval = undefined;
  }

  /**
   * Stops all timers, saves a final snapshot if anything changed, and releases the file: nothing is lost.
   * Later calls fail with {@link StoreClosedError}. Rejects if the final save fails (the previous file stays
   * intact and the lock is kept); calling `close()` again retries it.
   */
  close(): Promise<void> {
    this.#closed = true;
    this.stopInterval();
    for (const cancel of this.#cancelSignals.splice(0)) cancel();
    if (this.#failed !== undefined) return Promise.resolve();
    return this.#persistence?.close() ?? Promise.resolve();
  }

  /** Why calls cannot be served: closed, or the snapshot file could not be used at start. */
  #unusable(): Error | undefined {
    return this.#failed ?? (this.#closed ? new StoreClosedError() : undefined);
  }

  /**
   * Calls back with the reason when the store cannot serve calls, or cannot make a `change` durable (an 'always'
   * journal that failed, until a snapshot recovers); says whether it did.
   */
  #refused(callback: AnyCallback | undefined, change = false): boolean {
    const unusable = this.#unusable() ?? (change && this.#always ? this.#persistence?.refusal : undefined);
    if (unusable !== undefined) later(callback, unusable);
    return unusable !== undefined;
  }

  #check(sid: unknown, callback: AnyCallback | undefined, change = false): string | undefined {
    // Every call starts here: an open store and a well-formed string id, the common case, in a few tests.
    if (this.#failed === undefined && !this.#closed && typeof sid === 'string' && sid.isWellFormed() &&
        (!change || !this.#always || this.#persistence?.refusal === undefined)) return sid;
    if (this.#refused(callback, change)) return undefined;
    const id = toId(sid);
    if (typeof id === 'string') return id;
    later(callback, id);
    return undefined;
  }


  /**
   * V8's JSON.parse error quotes the text around the fault: session contents, which express-session passes
   * to `next(err)` and so to logs. Keep only the position. A custom serializer's errors are its own.
   */
  #parseError(err: unknown): Error {
    if (!this.#json || !(err instanceof SyntaxError)) return toError(err);
    const at = parseErrorPosition(err);
    return new SyntaxError(`express-memfilestore: a stored session is not valid JSON${at === undefined ? '' : ` (at position ${at})`}`);
  }

  /** Returns the stored session with its cookie replaced, without parsing it when the text allows. */
  #withCookie(stored: string, cookie: unknown): unknown {
    if (this.#json && cookie !== undefined && cookie !== null) {
      // JSON.stringify gives undefined for a cookie whose toJSON does: the slow path then drops it, as it should.
      const json: unknown = cookieJson(cookie) ?? JSON.stringify(cookie);
      const spliced = typeof json === 'string' ? spliceCookie(stored, json) : undefined;
      if (spliced !== undefined) return spliced;
    }
    const session = this.serializer.parse(stored) as Record<string, unknown>;
    session.cookie = cookie;
    return this.serializer.stringify(session);
  }

  /** Calls back once the change is as durable as the journal mode promises. */
  #done(callback: AnyCallback | undefined, err: Error | null): void {
    if (err !== null || this.#persistence?.afterDurable(callback) !== true) later(callback, err);
  }

  #delete(id: string): void {
    if (this.store.delete(id)) this.#persistence?.record('d', id, 0, '');
  }

  #put(id: string, text: unknown, lifetime: Lifetime, op: JournalOp): Error | null {
    if (typeof text !== 'string') {
      return new TypeError(`express-memfilestore: serializer.stringify must return a string, got ${typeof text}`);
    }
    // The file holds UTF-8, where a lone surrogate cannot survive: refuse it now rather than lose it at a restart.
    // (JSON.stringify never produces one; a custom serializer might.)
    if (!this.#json && !text.isWellFormed()) {
      return new TypeError('express-memfilestore: serializer.stringify returned text with a lone surrogate, which cannot be saved');
    }
    if (lifetime <= 0) {
      // Saving a session whose cookie already expired must not keep it (or an older version) alive.
      this.#delete(id);
      return null;
    }
    const size = entrySize(id, text);
    if (size > this.#opts.maxBytes) {
      return new RangeError(`express-memfilestore: the session is ${size} bytes, more than maxSize (${this.#opts.maxBytes})`);
    }
    const now = this.#opts.clock();
    const expires = expiryOf(now, lifetime);
    putEntry(this.store, id, text, expires, now, size);
    this.#changes++;
    this.#persistence?.record(op, id, expires, text);
    return null;
  }

  #disposed(value: string, key: string, reason: DisposeReason): void {
    if (this.#loading) return;
    if (reason !== 'set') this.#changes++;
    // An eviction by max/maxSize must be replayed as such: a restart cannot see the reads that chose it.
    if (reason === 'evict') this.#persistence?.record('d', key, 0, '');
    const dispose = this.options.dispose;
    if (typeof dispose !== 'function') return;
    try {
      dispose(key, value, reason);
    } catch (err) {
      this.#report(toError(err));
    }
  }

  /**
   * Reports a failure nobody called for (a timer, a user hook): `'error'` when someone listens,
   * a process warning otherwise. Never throws, so it never crashes the host.
   */
  #report(err: Error): void {
    if (this.listenerCount('error') > 0) {
      try {
        this.emit('error', err);
        return;
      } catch (listenerErr) {
        err = toError(listenerErr);
      }
    }
    process.emitWarning(err);
  }
}
