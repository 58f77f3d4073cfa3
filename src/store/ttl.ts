import type { PublicOptions, StoredSession } from '../option-types.js';
import { describe } from '../options.js';
import { parseDate } from '../json/iso-date.js';
import { handleRejection } from './callback.js';

const ONE_DAY_MS = 86_400_000;

/** A session's lifetime: `Infinity` never expires, a value <= 0 is already expired. */
export type Lifetime = number;

function fromNumber(ms: number): Lifetime {
  // memorystore: an explicit ttl of 0 means "no expiry".
  return ms === 0 || ms === Infinity ? Infinity : ms;
}

/** The lifetime of a session whose cookie says nothing (a browser-session cookie): the `ttl` number, else one day. */
export function defaultLifetime(options: PublicOptions): Lifetime {
  return typeof options.ttl === 'number' ? fromNumber(options.ttl) : ONE_DAY_MS;
}

/**
 * A cookie's `expires` in ms since the epoch: a `Date` (express-session's `Cookie`), a date string (the same cookie
 * after a JSON round trip) or a number of ms (what express-session's MemoryStore also compares); NaN for anything
 * else, `null` included (a browser-session cookie).
 */
export function expiresAt(expires: unknown): number {
  if (typeof expires === 'string') return parseDate(expires);
  if (expires instanceof Date) return expires.getTime();
  return typeof expires === 'number' && Number.isFinite(expires) ? expires : NaN;
}

/**
 * The time to live of a session in ms, in this order: the `ttl` option when it is a number, else the result of
 * the `ttl` function, else the cookie's `maxAge` when it is a number (a `Cookie`'s time remaining, as memorystore
 * reads it), else the time until the cookie's `expires` (a cookie that went through JSON has no `maxAge`; without
 * this it would live a day even after its `expires`), else one day.
 * @param now - the store's clock now (ms since the epoch), for a cookie whose `expires` decides.
 * @throws what a `ttl` function throws; a TypeError when it returns something that is not a number.
 */
export function lifetimeOf(options: PublicOptions, sess: StoredSession | null | undefined, sid: string, now: number): Lifetime {
  const ttl = options.ttl;
  if (typeof ttl === 'number') return fromNumber(ttl);
  if (typeof ttl === 'function') {
    const ms = ttl(options, sess as StoredSession, sid);
    if (typeof ms !== 'number' || Number.isNaN(ms)) {
      // The set is told; an async function's rejection must not also end the process.
      handleRejection(ms);
      throw new TypeError(`express-memfilestore: the ttl function must return a number of milliseconds, got ${describe(ms)}`);
    }
    return fromNumber(ms);
  }
  const cookie = sess !== null && typeof sess === 'object' ? sess.cookie : undefined;
  if (cookie === null || typeof cookie !== 'object') return ONE_DAY_MS;
  const maxAge: unknown = cookie.maxAge;
  // Cookie.maxAge is the time remaining; 0 or less is a cookie that has already expired, never "forever".
  if (typeof maxAge === 'number' && !Number.isNaN(maxAge)) return Math.floor(maxAge);
  // Read as data, not as the typed Cookie option (whose setter express-session deprecates).
  const at = expiresAt((cookie as { expires?: unknown }).expires);
  return at === at ? at - now : ONE_DAY_MS;
}
