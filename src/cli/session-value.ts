/** What the CLI needs to know of a stored session value: is it an express-session session, and its cookie expiry. */
import { parseDate } from '../json/iso-date.js';

export interface SessionObject {
  cookie: Record<string, unknown>;
  [key: string]: unknown;
}

/** How express-session's JSON of a session starts: `Session` serializes `cookie` first. */
const HEAD = '{"cookie":{';
const QUOTE = 34;
const BACKSLASH = 92;
const OPEN = 123;
const CLOSE = 125;
const COMMA = 44;

/** The session in `value`, or `undefined` when it is not JSON of an object with a cookie (a custom serializer, say). */
export function parseSession(value: string): SessionObject | undefined {
  let data: unknown;
  try {
    data = JSON.parse(value);
  } catch {
    return undefined;
  }
  return isSession(data) ? data : undefined;
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
 * The cookie expiry of a stored value, for migrate and import, which carry the text as it is and need nothing else
 * of it: `undefined` when it is not a session, `{ expiry }` otherwise (`expiry` undefined for a browser-session cookie).
 *
 * Why not `JSON.parse`: building the whole object graph of 100k sessions to read one date was a fifth of
 * migrate's CPU. A value in express-session's shape (`{"cookie":{…}` first, `}` last; what the store and
 * connect-redis write with JSON.stringify) has only its cookie parsed; what follows the cookie is taken on trust
 * (the store's file is checksummed, and connect-redis's values come from JSON.stringify). Anything else (a custom serializer's
 * text, a value reordered by hand) is parsed whole, as before.
 */
export function sessionExpiry(value: string): { expiry: number | undefined } | undefined {
  if (value.startsWith(HEAD) && value.charCodeAt(value.length - 1) === CLOSE) {
    const end = cookieEnd(value);
    const next = value.charCodeAt(end + 1);
    // The cookie is followed by more fields, or closes the session: anything else is left to the whole parse.
    if (end > 0 && (next === COMMA || (next === CLOSE && end + 2 === value.length))) {
      let cookie: unknown;
      try {
        cookie = JSON.parse(value.slice(HEAD.length - 1, end + 1));
      } catch {
        return undefined;
      }
      return isObject(cookie) ? { expiry: expiryOf(cookie) } : undefined;
    }
  }
  const session = parseSession(value);
  return session === undefined ? undefined : { expiry: cookieExpiry(session) };
}

/** The offset of the `}` closing the cookie object that {@link HEAD} opens; -1 when there is none. */
function cookieEnd(value: string): number {
  let depth = 0;
  let inString = false;
  for (let i = HEAD.length - 1; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN) {
      depth++;
    } else if (c === CLOSE && --depth === 0) {
      return i;
    }
  }
  return -1;
}

function isObject(data: unknown): data is Record<string, unknown> {
  return data !== null && typeof data === 'object' && !Array.isArray(data);
}

function expiryOf(cookie: Record<string, unknown>): number | undefined {
  const expires = cookie.expires;
  let at: number;
  if (typeof expires === 'string') at = parseDate(expires);
  else if (typeof expires === 'number') at = new Date(expires).getTime();
  else return undefined;
  return Number.isNaN(at) ? undefined : at;
}
