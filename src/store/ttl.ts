import type { PublicOptions, StoredSession } from '../options.js';

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
 * The time to live of a session in ms, computed as memorystore does: the `ttl` option, else the result of
 * the `ttl` function, else the cookie's remaining `maxAge`, else one day.
 * @throws TypeError when a `ttl` function returns something that is not a number.
 */
export function lifetimeOf(options: PublicOptions, sess: StoredSession | null | undefined, sid: string): Lifetime {
  const ttl = options.ttl;
  if (typeof ttl === 'number') return fromNumber(ttl);
  if (typeof ttl === 'function') {
    const ms = ttl(options, sess as StoredSession, sid);
    if (typeof ms !== 'number' || Number.isNaN(ms)) {
      throw new TypeError(`express-memfilestore: the ttl function must return a number of milliseconds, got ${String(ms)}`);
    }
    return fromNumber(ms);
  }
  const cookie = sess !== null && typeof sess === 'object' ? sess.cookie : undefined;
  const maxAge: unknown = cookie !== null && typeof cookie === 'object' ? cookie.maxAge : undefined;
  // Cookie.maxAge is the time remaining; 0 or less is a cookie that has already expired, never "forever".
  return typeof maxAge === 'number' && !Number.isNaN(maxAge) ? Math.floor(maxAge) : ONE_DAY_MS;
}
