import { captureRejectionSymbol, EventEmitter } from 'node:events';
import { isMainThread } from 'node:worker_threads';
import { Store } from 'express-session';
import type { LRUCache } from 'lru-cache';
import { later, toError, type AnyCallback } from './callback.js';
import { SessionCodec } from '../json/session-codec.js';
import { log } from '../debug.js';
import type { MemFileStoreOptions, PublicOptions, ResolvedOptions, Serializer, StoredSession } from '../option-types.js';
import { resolveOptions } from '../options.js';
import { describeFileError } from '../files/file-errors.js';
import { closeOnSignal } from './signals.js';
import { lifetimeOf, type Lifetime } from './ttl.js';
import { openFiles } from './open-files.js';
import type { EventListener, EventName, OtherListener, SessionId, StoreStats } from './store-types.js';
import { CallGuard } from './call-guard.js';
import { SessionCache } from './session-cache.js';
import { sessionsObject } from './sessions-object.js';
import { reportFailure } from './report.js';

export { StoreClosedError } from './store-types.js';

/**
 * Listener methods typed for the store's events ({@link MemFileStoreEvents}), merged into the class's type; any other
 * event name keeps EventEmitter's untyped form.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface MemFileStore {
  on<K extends EventName>(event: K, listener: EventListener<K>): this;
  on(event: string | symbol, listener: OtherListener): this;
  once<K extends EventName>(event: K, listener: EventListener<K>): this;
  once(event: string | symbol, listener: OtherListener): this;
  off<K extends EventName>(event: K, listener: EventListener<K>): this;
  off(event: string | symbol, listener: OtherListener): this;
  addListener<K extends EventName>(event: K, listener: EventListener<K>): this;
  addListener(event: string | symbol, listener: OtherListener): this;
  removeListener<K extends EventName>(event: K, listener: EventListener<K>): this;
  removeListener(event: string | symbol, listener: OtherListener): this;
  prependListener<K extends EventName>(event: K, listener: EventListener<K>): this;
  prependListener(event: string | symbol, listener: OtherListener): this;
  prependOnceListener<K extends EventName>(event: K, listener: EventListener<K>): this;
  prependOnceListener(event: string | symbol, listener: OtherListener): this;
}

/**
 * An express-session store that keeps sessions in memory, in an LRU cache with expiry
 * (lru-cache 11), as serialized strings with an absolute expiry; with `saveFile`, persisted to a snapshot file and
 * a journal beside it, loaded again at start.
 *
 * Drop-in for memorystore 1.6.8: same options, methods, callbacks and public properties. Every callback is called
 * later (never synchronously) and exactly once.
 */
// The interface above only types the inherited listener methods: the class has nothing it leaves uninitialized.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class MemFileStore extends Store {
  /** The options as given and defaulted, shaped like memorystore's `store.options`. */
  readonly options: PublicOptions;
  /**
   * The LRU cache holding `sid -> serialized session`. Exposed as memorystore does; prefer the store's methods: a
   * session put here directly is not journaled (deletions made here are), so a crash before the next snapshot loses it.
   */
  readonly store: LRUCache<string, string>;
  /** The serializer in use (`JSON` by default). */
  readonly serializer: Serializer;
  /** The prune timer, `undefined` when none runs (memorystore's public property). */
  _checkInterval: NodeJS.Timeout | undefined;
  /**
   * Settles when the store is usable: the snapshot file (if any) is loaded synchronously in the
   * constructor, so it is settled at once. Rejects when the file is damaged (code 'ERR_SNAPSHOT_DAMAGED'), locked by
   * another store ('ERR_SNAPSHOT_LOCKED') or unusable (its directory is missing: 'ENOENT', ...); every call then fails
   * with the same error (`get` with an `ENOENT` one wrapped, as its `cause`, under the code 'ERR_SNAPSHOT_UNUSABLE',
   * which express-session does not take for a missing session), except `close()`, which resolves (there is nothing to
   * save), and the file is left untouched. Left unhandled, that rejection stops the process at start, as Redis
   * refuses to start on a damaged snapshot, unless the host has an `unhandledRejection` listener that only logs (pm2
   * does): catch it and `process.exit(1)` there, or the process runs on without its store.
   */
  readonly ready: Promise<void>;

  readonly #opts: ResolvedOptions;
  readonly #codec: SessionCodec;
  readonly #sessions: SessionCache;
  readonly #guard: CallGuard;
  readonly #cancelSignals: (() => void)[] = [];

  /**
   * Validates the options and, with `saveFile`, loads the file and replays its journal synchronously: the store serves
   * its sessions as soon as it is constructed (see {@link MemFileStore.ready} for a file it cannot use).
   * @param options - see {@link MemFileStoreOptions}.
   * @throws TypeError when an option has the wrong type or value, naming it.
   */
  constructor(options?: MemFileStoreOptions) {
    super();
    // An async listener (`store.on('save', async (info) => ...)`) fails by rejecting, which Node turns into the end of
    // the process: with captureRejections, EventEmitter hands the rejection to the method below. express-session's
    // Store initializes EventEmitter without options; initializing again keeps what it set up.
    (EventEmitter as unknown as (this: EventEmitter, options: { captureRejections: boolean }) => void).call(this, { captureRejections: true });
    // A bad clock reading is read inside lru-cache's operations: reported on the next turn, so that an 'error'
    // listener calling the store does not run in the middle of one.
    const opts = resolveOptions(options, (message) => process.emitWarning(message, 'MemFileStoreWarning'),
      (err) => { setImmediate(() => { reportFailure(this, err); }); });
    this.#opts = opts;
    this.options = opts.public;
    this.serializer = opts.serializer;
    this.#codec = new SessionCodec(opts.serializer);
    this.#sessions = new SessionCache(opts, (err) => { reportFailure(this, err); });
    this.#guard = new CallGuard(opts.journal === 'always', () => this.#sessions.persistence?.refusal, opts.saveFile);
    this.store = this.#sessions.cache;
    this._checkInterval = undefined;
    log('init: max %d, maxSize %d, checkPeriod %d ms', opts.public.max, opts.public.maxSize, opts.checkPeriodMs);
    this.ready = opts.saveFile === undefined ? Promise.resolve() : this.#openFile(opts.saveFile);
    if (this.#guard.failed !== undefined) return;
    this.startInterval();
    this.#sessions.persistence?.startTimer();
    // Process signals reach the main thread only: in a worker the option would never close the store, without a word.
    if (!isMainThread && opts.closeOnSignals.length > 0) {
      process.emitWarning('express-memfilestore: closeOnSignals does nothing in a worker thread (process signals reach ' +
        'the main thread only), so this store is not closed on them. Have the main thread tell the worker to close() ' +
        'it, and wait for that before it exits; else the changes since the last save not in the journal are lost', 'MemFileStoreWarning');
    } else {
      for (const signal of opts.closeOnSignals) {
        this.#cancelSignals.push(closeOnSignal(signal, () => this.close().catch((err: unknown) => {
          reportFailure(this, toError(err));
        })));
      }
    }
  }

  #openFile(file: string): Promise<void> {
    const sessions = this.#sessions;
    try {
      sessions.persistence = sessions.loading(() => openFiles({
        file, opts: this.#opts, cache: sessions.cache, lru: sessions.lru,
        stringify: (v) => this.serializer.stringify(v),
        changes: () => sessions.changes, copy: (now) => sessions.live(now),
        // A listener that throws must not turn a good save into a failed flush(), nor crash a tick.
        emit: (event, info) => {
          try {
            this.emit(event, info);
          } catch (err) {
            reportFailure(this, toError(err));
          }
        },
        report: (err) => { reportFailure(this, err); },
      }));
    } catch (err) {
      this.#guard.failed = describeFileError(file, err);
      log('cannot use the snapshot file: %s', this.#guard.failed.message);
      return Promise.reject(this.#guard.failed);
    }
    sessions.persistence.loaded(this.store.size);
    return Promise.resolve();
  }

  /**
   * A listener's promise rejected (EventEmitter's captureRejections): reported as its throw would be, an `'error'`
   * listener's as a process warning (an `'error'` event for it would reach that listener again).
   */
  override [captureRejectionSymbol](err: unknown, event: string | symbol): void {
    if (event === 'error') process.emitWarning(toError(err));
    else reportFailure(this, toError(err));
  }

  /** Counts, sizes and the outcome of the last save and of the load. */
  get stats(): StoreStats {
    return {
      sessions: this.store.size,
      bytes: this.store.calculatedSize,
      changes: this.#sessions.changes,
      persistence: this.#sessions.persistence?.stats,
    };
  }

  /**
   * Saves a snapshot now if anything changed since the last one. Resolves when it is on disk (fsynced and
   * renamed into place); rejects with the error if the save fails (the previous file stays intact).
   * Resolves at once for a memory-only store. Rejects with {@link StoreClosedError} once `close()` was called, and
   * with `ready`'s error when the file could not be used at start.
   */
  flush(): Promise<void> {
    const unusable = this.#guard.unusable();
    if (unusable !== undefined) return Promise.reject(unusable);
    return this.#sessions.persistence?.flush() ?? Promise.resolve();
  }

  /** Starts the periodic snapshot (every `savePeriod` ms, when something changed). Started by the constructor. */
  startSaveInterval(): void {
    if (!this.#guard.closed) this.#sessions.persistence?.startTimer();
  }

  /** Stops the periodic snapshot. `flush()` and `close()` still save. */
  stopSaveInterval(): void {
    this.#sessions.persistence?.stopTimer();
  }

  /** The snapshot timer, as express-memfilestore 1.x exposed it; `undefined` when none runs. */
  get _saveInterval(): NodeJS.Timeout | undefined {
    return this.#sessions.persistence?.timer;
  }

  /**
   * Fetches a session. Calls back with nothing when it is missing or expired (unless `stale`), with the error when
   * the serializer cannot parse it. Marks it most recently used.
   */
  override get(sid: SessionId, callback: (err: unknown, session?: StoredSession | null) => void): void {
    const id = this.#guard.checkGet(sid, callback);
    if (id === undefined) return;
    const text = this.#sessions.read(id);
    if (text === undefined) return later(callback);
    let session: StoredSession;
    try {
      session = this.#codec.parse(text) as StoredSession;
    } catch (err) {
      return later(callback, this.#codec.parseError(err));
    }
    later(callback, null, session);
  }

  /**
   * Stores a session with its TTL (see the `ttl` option). A serializer error calls back once and stores nothing; a
   * session larger than `maxSize` is refused with a RangeError; one whose lifetime is already over (its cookie has
   * expired) is removed instead.
   */
  override set(sid: SessionId, session: StoredSession, callback?: (err?: unknown) => void): void {
    const id = this.#guard.check(sid, callback, true);
    if (id === undefined) return;
    // One clock reading per call, for both the lifetime and the expiry stored.
    const now = this.#opts.clock();
    let text: unknown;
    let lifetime: Lifetime;
    try {
      lifetime = lifetimeOf(this.options, session, id, now);
      text = this.#codec.stringify(session);
    } catch (err) {
      return later(callback, toError(err));
    }
    this.#change(callback, id, text, lifetime, now, 's');
  }

  /**
   * Moves a live session's expiry and replaces its stored cookie with `session.cookie`.
   * A missing or expired session is left alone (no upsert), as in memorystore; a null or undefined `session` for a live
   * one calls back with a TypeError and changes nothing.
   */
  override touch(sid: SessionId, session: StoredSession, callback?: (err?: unknown) => void): void {
    const id = this.#guard.check(sid, callback, true);
    if (id === undefined) return;
    const stored = this.#sessions.readLive(id);
    if (stored === undefined) return later(callback, null);
    // memorystore read sess.cookie and called back with its TypeError: no session is no cookie to store, not a
    // cookie to remove (the next get would return a session express-session cannot load).
    if (session === null || session === undefined) {
      return later(callback, new TypeError(`express-memfilestore: touch needs the session, got ${String(session)}`));
    }
    const now = this.#opts.clock();
    let text: unknown;
    let lifetime: Lifetime;
    try {
      lifetime = lifetimeOf(this.options, session, id, now);
      text = this.#codec.withCookie(stored, session.cookie);
    } catch (err) {
      return later(callback, toError(err));
    }
    this.#change(callback, id, text, lifetime, now, 't');
  }

  /** Deletes one session, or several when `sid` is an array. Missing ids are fine; an array with an invalid id deletes none. */
  override destroy(sid: SessionId | readonly SessionId[], callback?: (err?: unknown) => void): void {
    if (!Array.isArray(sid)) {
      // One id, as express-session always passes: no arrays to build on every logout and regenerate.
      const id = this.#guard.check(sid, callback, true);
      if (id === undefined) return;
      this.#sessions.delete(id);
      return this.#done(callback, null);
    }
    const ids = this.#guard.checkList(sid as readonly unknown[], callback);
    if (ids === undefined) return;
    for (const id of ids) this.#sessions.delete(id);
    this.#done(callback, null);
  }

  /** Ids of the live sessions, most recently used first. */
  ids(callback: (err: unknown, ids?: string[]) => void): void {
    if (this.#guard.refused(callback)) return;
    later(callback, null, this.#sessions.live().ids.reverse());
  }

  /** All live sessions as an object `{ [sid]: session }`. */
  override all(callback: (err: unknown, sessions?: Record<string, StoredSession> | null) => void): void {
    if (this.#guard.refused(callback)) return;
    let result: Record<string, StoredSession>;
    try {
      result = sessionsObject(this.#sessions.live(), (text) => this.#codec.parse(text));
    } catch (err) {
      return later(callback, this.#codec.parseError(err));
    }
    later(callback, null, result);
  }

  /** Number of entries, read when called. Expired entries not yet pruned still count, as in memorystore. */
  override length(callback: (err: unknown, length?: number) => void): void {
    if (this.#guard.refused(callback)) return;
    later(callback, null, this.store.size);
  }

  /** Deletes every session (`dispose` fires for each). */
  override clear(callback?: (err?: unknown) => void): void {
    if (this.#guard.refused(callback, true)) return;
    this.#sessions.clear();
    this.#done(callback, null);
  }

  /** Removes expired sessions now, keeping the LRU order of the others. */
  prune(): void {
    const before = this.store.size;
    this.#sessions.purgeStale();
    log('prune: %d expired removed', before - this.store.size);
  }

  /** Starts the prune timer when `checkPeriod` is a finite number > 0 (unref'd: it never keeps the process alive). */
  startInterval(): void {
    const ms = this.#opts.checkPeriodMs;
    if (ms === 0 || this.#guard.closed || this.#guard.failed !== undefined) return;
    clearInterval(this._checkInterval);
    this._checkInterval = setInterval(() => this.prune(), ms).unref();
  }

  /** Stops the prune timer. */
  stopInterval(): void {
    clearInterval(this._checkInterval);
    this._checkInterval = undefined;
  }

  /**
   * Stops all timers, writes and syncs what the journal holds, saves a final snapshot that stands alone (no journal
   * beside it: the file can be copied by itself; skipped when the file on disk already is that), removes the journals
   * and releases the file's lock: nothing is lost. Later calls of the other methods fail with {@link StoreClosedError};
   * `close()` again resolves once closed. Rejects if the final save fails (the previous file stays intact, the lock
   * and the journals are kept); calling `close()` again retries it.
   */
  close(): Promise<void> {
    this.#guard.closed = true;
    this.stopInterval();
    const closing = this.#guard.failed === undefined ? this.#sessions.persistence?.close() ?? Promise.resolve() : Promise.resolve();
    // The closeOnSignals handlers stay until the final save is written: taken off when the close began, a signal of the
    // list arriving during that save (SIGINT during a SIGTERM's close, or any of them during a close() the app called)
    // took its default action and killed the process mid-save. Kept, it waits for this close, then ends the process.
    // A close that failed leaves the store open (a later close() retries the save), so a signal then retries it too.
    closing.then(() => {
      for (const cancel of this.#cancelSignals.splice(0)) cancel();
    }, () => undefined);
    return closing;
  }

  /** Stores the text a set or touch made, or calls back with why it cannot be. */
  #change(callback: AnyCallback | undefined, id: string, text: unknown, lifetime: Lifetime, now: number, op: 's' | 't'): void {
    const storable = this.#codec.storable(text);
    this.#done(callback, typeof storable === 'string' ? this.#sessions.put(id, storable, lifetime, now, op) : storable);
  }

  /** Calls back once the change is as durable as the journal mode promises. */
  #done(callback: AnyCallback | undefined, err: Error | null): void {
    if (err !== null || this.#sessions.persistence?.afterDurable(callback) !== true) later(callback, err);
  }
}
