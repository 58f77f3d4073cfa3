/** What the CLI needs to know of a stored session value: is it an express-session session, and its cookie expiry. */
import { parseDate } from '../json/iso-date.js';

export interface SessionObject {
  cookie: Record<string, unknown>;
  [key: string]: unknown;
}

/** The session in `value`, or `undefined` when it is not JSON of an object with a cookie (a custom serializer, say). */
function parseSession(value: string): SessionObject | undefined {
  let data: unknown;
  try {
    data = JSON.parse(value);
  } catch {
    return undefined;
  }
  return isSession(data) ? data : undefined;
}

/**
 * The JSON text of `value` (what a store keeps for a session; an export's line), `undefined` for one nested too deeply:
 * JSON.parse reads any depth, JSON.stringify overflows the stack past some thousands, so no store can have set it.
 */
export function storedText(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

export function isSession(data: unknown): data is SessionObject {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return false;
  return isObject((data as { cookie?: unknown }).cookie);
}

/** `cookie.expires` in ms since the epoch, `undefined` for a browser-session cookie (or one that does not parse). */
export function cookieExpiry(session: SessionObject): number | undefined {
  return expiryOf(session.cookie);
}

/**
 * For migrate and import, which carry the text as it is: `undefined` when it is not a session, else `{ expiry }`
 * (`expiry` undefined for a browser-session cookie).
 *
 * The whole value is parsed, on purpose. Parsing only the cookie (found by a scan, as cookie-splice.ts does) was
 * tried: the cookie is most of what a session's parse builds, so it saved under a quarter of the parse in a
 * micro-benchmark and nothing measurable in a whole migrate, while leaving the rest of the value unchecked.
 */
export function sessionExpiry(value: string): { expiry: number | undefined } | undefined {
  const session = parseSession(value);
  return session === undefined ? undefined : { expiry: cookieExpiry(session) };
}

function isObject(data: unknown): data is Record<string, unknown> {
  return data !== null && typeof data === 'object' && !Array.isArray(data);
}

/** `Date.parse` of toISOString's strings without its cost (json/iso-date.ts), for 100k cookies in a row. */
function expiryOf(cookie: Record<string, unknown>): number | undefined {
  const expires = cookie.expires;
  let at: number;
  if (typeof expires === 'string') at = parseDate(expires);
  else if (typeof expires === 'number') at = new Date(expires).getTime();
  else return undefined;
  return Number.isNaN(at) ? undefined : at;
}
