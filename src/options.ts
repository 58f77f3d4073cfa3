import { constants as osConstants } from 'node:os';
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
   * stores close waits for their final saves (so does one arriving during a `close()` the app called).
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

/** Signals a handler can be installed for: this platform's, without SIGKILL and SIGSTOP. */
const CATCHABLE_SIGNALS = new Set(Object.keys(osConstants.signals).filter((name) => name !== 'SIGKILL' && name !== 'SIGSTOP'));

/** Node's timers overflow above 2^31-1 ms and then fire every millisecond. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** lru-cache pre-allocates arrays of `max` slots (about 40 bytes each): a larger bound is refused, not silently ignored. */
const MAX_PREALLOCATED_ENTRIES = 2 ** 24;
const DEFAULT_SAVE_PERIOD_MS = 60_000;

const KNOWN = new Set<string>([
  'checkPeriod', 'max', 'maxSize', 'ttl', 'dispose', 'stale', 'noDisposeOnSet', 'serializer',
  'saveFile', 'savePeriod', 'journal', 'onDamagedFile', 'closeOnSignals', 'clock', 'fs',
]);

/** A name without case, `-` or `_`: how a typo of an option's name most often differs from it. */
const loose = (name: string): string => name.toLowerCase().replace(/[-_]/g, '');

/** Characters of a value an error message shows: a value read from a file or the environment can be megabytes long. */
const SHOWN_CHARS = 80;

/**
 * A value as error messages show it: strings quoted, objects by kind (never converted: that can throw), a long one cut
 * short with its length.
 */
export function describe(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (value !== null && typeof value === 'object') {
    return Array.isArray(value) ? 'an array' : value instanceof Promise ? 'a Promise' : 'an object';
  }
  const text = typeof value === 'string' ? value : typeof value === 'bigint' ? `${value}n` : String(value);
  if (text.length <= SHOWN_CHARS) return typeof value === 'string' ? JSON.stringify(text) : text;
  const start = text.slice(0, SHOWN_CHARS);
  return `${typeof value === 'string' ? `${JSON.stringify(start).slice(0, -1)}...` : `${start}...`} (${text.length} characters)`;
}

function fail(name: string, expected: string, value: unknown, shown = describe(value)): never {
  throw new TypeError(`express-memfilestore: option "${name}" must be ${expected}, got ${shown}`);
}

function optionalNumber(name: string, value: unknown, accept: (n: number) => boolean, expected: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || Number.isNaN(value) || !accept(value)) fail(name, expected, value);
  return value;
}

function optionalBoolean(name: string, value: unknown): boolean | null | undefined {
  if (value === undefined || value === null || typeof value === 'boolean') return value;
  return fail(name, 'a boolean', value);
}

function optionalFunction(name: string, value: unknown): ((...args: never[]) => unknown) | null | undefined {
  if (value === undefined || value === null || typeof value === 'function') return value as (() => unknown) | null | undefined;
  return fail(name, 'a function', value);
}

/** A period as a timer delay: memorystore starts no timer for values that are not finite and positive. */
function timerPeriod(ms: number | undefined): number {
  if (ms === undefined || !Number.isFinite(ms) || ms <= 0) return 0;
  return Math.min(Math.max(1, Math.floor(ms)), MAX_TIMER_MS);
}

function resolveSignals(value: unknown): readonly NodeJS.Signals[] {
  if (value === undefined || value === null || value === false) return [];
  if (value === true) return ['SIGTERM', 'SIGINT'];
  // A hole of a sparse array is a wrong name too: every() skipped holes, and the store listened for an "undefined" event.
  const names: unknown[] | undefined = Array.isArray(value) ? Array.from(value as unknown[]) : undefined;
  const expected = 'a boolean or an array of signal names that can be caught, such as "SIGTERM"';
  if (names === undefined) return fail('closeOnSignals', expected, value);
  const wrong = names.findIndex((s) => typeof s !== 'string' || !CATCHABLE_SIGNALS.has(s));
  if (wrong === -1) return names as NodeJS.Signals[];
  // "got an array" alone left the user to find which of the names was mistyped or uncatchable.
  return fail('closeOnSignals', expected, value, `an array holding ${describe(names[wrong])}`);
}

/** At least 1: read in whole ms, a reading below it is 0, which the expiry arithmetic takes for "never". */
function isClockReading(time: unknown): time is number {
  return typeof time === 'number' && Number.isFinite(time) && time >= 1;
}

/**
 * The user's clock in whole milliseconds, as Date.now gives: expiries are whole ms, and lru-cache compares its own
 * readings of the clock against them; a fractional reading expired a session up to 1 ms before the expiry the store
 * lists and saves.
 *
 * A reading that is not a number of ms (NaN, a string, Infinity) or a throw, once the store runs, gives the last good
 * reading instead: a NaN became the expiry of the session set then, acknowledged and then written into a snapshot
 * its own loader refuses (the next start refused the whole file), and a throw escaped from get, set and from the
 * prune timer into the host. `bad` hears the first bad reading of each run of them.
 */
function steadyClock(read: () => unknown, first: number, bad: (err: Error) => void): () => number {
  let last = Math.floor(first);
  let failing = false;
  return () => {
    let time: unknown;
    try {
      time = read();
    } catch (err) {
      time = err instanceof Error ? err : new Error(describe(err));
    }
    if (isClockReading(time)) {
      failing = false;
      last = Math.floor(time);
      return last;
    }
    if (!failing) {
      failing = true;
      const got = time instanceof Error ? `threw (${time.message})` : `returned ${describe(time)}`;
      bad(new Error(`express-memfilestore: the clock option ${got}; the store uses its last reading (${last} ms) until it gives ms since the epoch again`,
        { cause: time instanceof Error ? time : undefined }));
    }
    return last;
  };
}

/**
 * Validates and defaults every option in one place.
 * @param warn - hears what is accepted but suspect (an unknown option).
 * @param badClock - hears a `clock` reading that is not ms since the epoch, after construction (see steadyClock).
 * @throws TypeError naming the option, the expected type and the value received.
 */
export function resolveOptions(
  input: MemFileStoreOptions | null | undefined,
  warn: (message: string) => void,
  badClock: (err: Error) => void = (err) => { warn(err.message); },
): ResolvedOptions {
  const o: Record<string, unknown> = input === undefined || input === null ? {} : (input as Record<string, unknown>);
  if (typeof o !== 'object') fail('options', 'an object', o);
  for (const key of Object.keys(o)) {
    if (KNOWN.has(key)) continue;
    // A misspelt saveFile leaves the store in memory only: name the option the key most likely meant.
    const meant = [...KNOWN].find((known) => loose(known) === loose(key));
    warn(`express-memfilestore: unknown option "${key}" is ignored${meant === undefined ? '' : ` (did you mean "${meant}"?)`}`);
  }

  // NaN is a number memorystore accepted (and started no timer for): keep accepting it. So is `false`, which apps pass
  // to switch pruning off (`checkPeriod: isProduction && 86_400_000`): no timer, as memorystore.
  const checkPeriod = Number.isNaN(o.checkPeriod) ? NaN
    : optionalNumber('checkPeriod', o.checkPeriod === false ? undefined : o.checkPeriod, () => true, 'a number of milliseconds');
  const max = optionalNumber('max', o.max, (n) => n === Infinity || (Number.isInteger(n) && n >= 0 && n <= MAX_PREALLOCATED_ENTRIES),
    `a non-negative integer up to ${MAX_PREALLOCATED_ENTRIES}, or Infinity`) ?? Infinity;
  const maxSize = optionalNumber('maxSize', o.maxSize, (n) => n === Infinity || (Number.isInteger(n) && n > 0),
    'a positive integer (bytes) or Infinity') ?? Infinity;

  // memorystore read the TTL from the cookie for any falsy ttl that is not a number (false, '').
  const ttl = o.ttl === false || o.ttl === '' ? undefined : o.ttl;
  if (ttl !== undefined && ttl !== null && typeof ttl !== 'function' &&
      (typeof ttl !== 'number' || Number.isNaN(ttl) || ttl < 0)) {
    fail('ttl', 'a non-negative number of milliseconds or a function', ttl);
  }

  const serializer = o.serializer ?? JSON;
  // A function counts too: superjson's default export is a class with static stringify and parse.
  if (typeof serializer !== 'object' && typeof serializer !== 'function') {
    fail('serializer', 'an object with stringify and parse functions', serializer);
  }
  // Which one is missing: "got an object" alone did not say what was wrong with the object given.
  const missing = (['stringify', 'parse'] as const).find((name) => typeof (serializer as Serializer)[name] !== 'function');
  if (missing !== undefined) {
    fail('serializer', 'an object with stringify and parse functions', serializer, `${describe(serializer)} without a ${missing} function`);
  }

  const saveFile = o.saveFile ?? undefined;
  // A NUL is in no path: caught here, it is a TypeError naming the option, not a rejected `ready` naming an fs argument.
  if (saveFile !== undefined && (typeof saveFile !== 'string' || saveFile === '' || saveFile.includes('\0'))) {
    fail('saveFile', 'a non-empty path string without NUL characters', saveFile);
  }
  const savePeriod = optionalNumber('savePeriod', o.savePeriod, (n) => n >= 0, 'a non-negative number of milliseconds');
  const journal = o.journal ?? (saveFile === undefined ? false : 'everysec');
  if (journal !== false && journal !== 'everysec' && journal !== 'always') fail('journal', '"everysec", "always" or false', journal);
  if (journal !== false && saveFile === undefined) fail('journal', 'false or unset without saveFile (the journal lives beside it)', journal);
  const onDamagedFile = o.onDamagedFile ?? 'error';
  if (onDamagedFile !== 'error' && onDamagedFile !== 'move-aside') {
    fail('onDamagedFile', '"error" or "move-aside"', onDamagedFile);
  }
  const userClock = optionalFunction('clock', o.clock);
  const time = typeof userClock === 'function' ? userClock() : Date.now();
  if (!isClockReading(time)) fail('clock', 'a function returning ms since the epoch', time);
  const clock = typeof userClock === 'function' ? steadyClock(userClock, time, badClock) : Date.now;
  const fs = o.fs ?? undefined;
  if (fs !== undefined && (typeof fs !== 'object' || fs === null ||
      !['open', 'rename', 'unlink'].every((name) => typeof (fs as Record<string, unknown>)[name] === 'function'))) {
    fail('fs', 'an object with open, rename and unlink like node:fs/promises', fs);
  }

  const pub: PublicOptions = {
    checkPeriod,
    max,
    maxSize,
    ttl: ttl as PublicOptions['ttl'],
    dispose: optionalFunction('dispose', o.dispose) as DisposeFunction | null | undefined,
    stale: optionalBoolean('stale', o.stale),
    noDisposeOnSet: optionalBoolean('noDisposeOnSet', o.noDisposeOnSet),
    saveFile,
    savePeriod: saveFile === undefined ? savePeriod : (savePeriod ?? DEFAULT_SAVE_PERIOD_MS),
    journal,
  };
  return {
    public: pub,
    checkPeriodMs: timerPeriod(checkPeriod),
    maxEntries: max === Infinity ? 0 : max,
    maxBytes: maxSize === Infinity ? Number.MAX_SAFE_INTEGER : maxSize,
    serializer: serializer as Serializer,
    saveFile,
    savePeriodMs: saveFile === undefined ? 0 : timerPeriod(pub.savePeriod),
    onDamagedFile,
    journal,
    closeOnSignals: resolveSignals(o.closeOnSignals),
    clock,
    fs: fs as FsPromises | undefined,
  };
}
