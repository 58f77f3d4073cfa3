/**
 * Every option validated and defaulted, in one place: a wrong one is a TypeError at construction naming the option, the
 * type expected and the value received (its types are in option-types.ts).
 */
import { constants as osConstants } from 'node:os';
import type {
  Serializer,
  DisposeFunction,
  FsPromises,
  MemFileStoreOptions,
  PublicOptions,
  ResolvedOptions,
} from './option-types.js';

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
