/**
 * The options' types: what users pass (`MemFileStoreOptions`), what the store keeps (`PublicOptions`, `ResolvedOptions`)
 * and the hooks' signatures. Their validation and defaults are in options.ts, in one place.
 */
import type { SessionData } from 'express-session';

/** A session as handed to and returned by the store: express-session's `SessionData`. */
export type StoredSession = SessionData;

/** Turns sessions into the strings the store keeps, and back. `JSON` by default. */
export interface Serializer {
  stringify(value: unknown): string;
  parse(text: string): unknown;
}

/**
 * Computes a session's time to live in milliseconds, as memorystore does:
 * called at every `set` and `touch` with the store's `options`, the session and its id. `0` or `Infinity` mean
 * "never expires"; below `0`, the session is removed instead of stored. A result that is not a number, or a throw,
 * calls that `set` or `touch` back with the error and changes nothing.
 */
export type TtlFunction = (options: PublicOptions, session: StoredSession, sid: string) => number;

/**
 * Called when an entry leaves the cache: `(sid, storedString, reason)`. It may be async: a rejection is reported as a
 * throw is (an `'error'` event); the store does not wait for it.
 */
export type DisposeFunction = (sid: string, value: string, reason: DisposeReason) => void | Promise<void>;

/** Why an entry left the cache (lru-cache's reasons; `'fetch'` never occurs here: the store uses no `fetchMethod`). */
export type DisposeReason = 'evict' | 'set' | 'delete' | 'expire' | 'fetch';

/**
 * The subset of `node:fs/promises` the snapshot writer uses, plus optionally the synchronous and callback calls
 * the journal makes (`openSync`, `writeSync`, `fdatasync`, `fdatasyncSync`, `fsyncSync`, `ftruncateSync`,
 * `closeSync`, `unlinkSync`, as in `node:fs`); a seam for fault-injection and crash-consistency tests.
 */
export type FsPromises = Pick<typeof import('node:fs/promises'), 'open' | 'rename' | 'unlink'>;

/** How changes reach the journal between snapshots; `false`: snapshots only. */
export type JournalOption = 'everysec' | 'always' | false;

/** Options of {@link MemFileStore}. Every memorystore 1.6.8 and express-memfilestore 1.x option is accepted. */
export interface MemFileStoreOptions {
  /**
   * Milliseconds between prunes of expired sessions. No timer when unset, `false`, `0`, negative or not finite; above 2^31-1
   * (24.8 days) clamped to it, where Node's timers would fire every millisecond. Expired sessions are never served
   * without it: the prune frees their memory.
   */
  checkPeriod?: number | false | null | undefined;
  /**
   * Maximum number of sessions; the least recently used is evicted first. `Infinity` (default) or `0`: no limit.
   * An integer up to 16,777,216 (lru-cache allocates for `max` up front): a larger or fractional value is a TypeError.
   */
  max?: number | null | undefined;
  /**
   * Maximum total size in bytes: UTF-8 length of each stored (serialized) session plus its id.
   * The least recently used sessions are evicted to stay within it. `Infinity` (default): no limit. A positive integer
   * otherwise (`0` is a TypeError, not "no limit" as for `max`); a single session larger than it is refused with a RangeError.
   */
  maxSize?: number | null | undefined;
  /**
   * Time to live in ms (`0`: never expires), or a function computing it ({@link TtlFunction}). Default (also with
   * `false`, as memorystore allowed): the cookie's remaining `maxAge`, else its `expires`, else one day. A negative
   * number is a TypeError.
   */
  ttl?: number | TtlFunction | false | null | undefined;
  /**
   * Called as `(sid, storedString, reason)` when a session leaves the cache, once the operation that removed it is
   * complete (so it may call the store). Not called for what the file load at start drops. An exception it throws, or
   * the rejection of an async hook, is reported as an `'error'` event (a process warning without a listener), never
   * thrown at the caller.
   */
  dispose?: DisposeFunction | null | undefined;
  /**
   * Return an expired session once (then delete it) instead of nothing. Off by default, and best left off: express-session
   * does not check expiry itself, and would revive the expired session.
   */
  stale?: boolean | null | undefined;
  /** Do not call `dispose` when `set` or `touch` overwrite a session. */
  noDisposeOnSet?: boolean | null | undefined;
  /**
   * Serializer with `stringify` and `parse` (a class with static ones, as superjson's, works). Default `JSON`.
   * `stringify` must return a string: a `set` it returns anything else for is called back with a TypeError, one it
   * throws for with that error, and stores nothing.
   */
  serializer?: Serializer | null | undefined;
  /**
   * Path of the snapshot file. Without it the store keeps sessions in memory only. Its directory must exist and be
   * writable (the journal, the lock and a save's temp file are created beside the file), and the file must not be a
   * symbolic link, nor a mount point (one file mounted into a container: mount its directory instead), and its name
   * must be at most 230 bytes (the names made from it are longer): otherwise
   * `store.ready` rejects (see it).
   */
  saveFile?: string | null | undefined;
  /**
   * Milliseconds between snapshots (only when something changed). Default 60000 when `saveFile` is set; `0` disables
   * the timer (`flush()` and `close()` still save). A negative value is a TypeError.
   */
  savePeriod?: number | null | undefined;
  /**
   * The journal between snapshots (`<saveFile>.journal.<n>` beside it). `'everysec'` (default with `saveFile`):
   * every change is handed to the OS at the end of its event-loop turn and synced about every second, so a process
   * crash loses at most the last few ms and a power cut about one second. `'always'`: a change's callback is called
   * once it is written and synced (the changes of one turn share one sync). `false`: snapshots only. Without
   * `saveFile` only `false` is accepted (another value is a TypeError).
   * @defaultValue `'everysec'` with `saveFile`, else `false`
   */
  journal?: JournalOption | null | undefined;
  /**
   * What to do when the snapshot file is damaged at start. `'error'` (default): refuse it, leave it untouched
   * and reject `store.ready`. `'move-aside'`: rename it and its journals to `<name>.corrupt-<timestamp>` (a long `<name>` cut
   * short to fit), warn loudly and start empty.
   */
  onDamagedFile?: 'error' | 'move-aside' | null | undefined;
  /**
   * Install handlers for these signals that `close()` the store (final save) and then let the signal take
   * its default course. `true` means `['SIGTERM', 'SIGINT']`. Off by default. The store closes when the signal
   * arrives: a request still running then has its session change refused (a server that drains its requests closes
   * the store itself after `server.close()` has called back). A repeat of the signal, or another signal of the list, while the
   * stores close waits for their final saves (so does one arriving during a `close()` the app called; one after a
   * `close()` whose final save failed retries it).
   * A signal that cannot be caught (SIGKILL, SIGSTOP) is a TypeError.
   */
  closeOnSignals?: boolean | readonly NodeJS.Signals[] | null | undefined;
  /**
   * Wall clock in ms since the epoch, `Date.now` by default. For tests that move time. Read in whole milliseconds
   * (a fractional reading is rounded down); a reading at construction that is not a number of at least 1 is a TypeError.
   * Such a reading later (NaN, a string, a throw) is reported as an `'error'` event and the last good reading is used.
   */
  clock?: (() => number) | null | undefined;
  /** @internal File-system seam for fault-injection tests. */
  fs?: FsPromises | null | undefined;
}

/**
 * The public `store.options` object, shaped like memorystore's (its users' tests read it): each option as given, with
 * the defaults filled in where noted. It is what a `ttl` function receives.
 */
export interface PublicOptions {
  checkPeriod: number | null | undefined;
  /** `Infinity` when unset. */
  max: number;
  /** `Infinity` when unset. */
  maxSize: number;
  /** `undefined` for `false`: the TTL then comes from the cookie. */
  ttl: number | TtlFunction | null | undefined;
  dispose: DisposeFunction | null | undefined;
  stale: boolean | null | undefined;
  noDisposeOnSet: boolean | null | undefined;
  saveFile: string | undefined;
  /** 60000 with `saveFile` when unset. */
  savePeriod: number | undefined;
  /** As resolved: `'everysec'` with `saveFile` when unset, else `false`. */
  journal: JournalOption;
}

/** Everything the store needs, validated and defaulted. */
export interface ResolvedOptions {
  readonly public: PublicOptions;
  /** Prune timer period in ms, clamped to what timers accept; 0 when no timer. */
  readonly checkPeriodMs: number;
  /** Entry bound handed to lru-cache; 0 when unbounded. */
  readonly maxEntries: number;
  /** Byte bound; `Number.MAX_SAFE_INTEGER` when unbounded. */
  readonly maxBytes: number;
  readonly serializer: Serializer;
  readonly saveFile: string | undefined;
  /** Snapshot timer period in ms, clamped; 0 when no timer. */
  readonly savePeriodMs: number;
  readonly onDamagedFile: 'error' | 'move-aside';
  readonly journal: JournalOption;
  readonly closeOnSignals: readonly NodeJS.Signals[];
  readonly clock: () => number;
  readonly fs: FsPromises | undefined;
}
