/** What the CLI needs to know of a stored session value: is it an express-session session, and its cookie expiry. */

export interface SessionObject {
  cookie: Record<string, unknown>;
  [key: string]: unknown;
}

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
  const cookie = (data as { cookie?: unknown }).cookie;
  return cookie !== null && typeof cookie === 'object' && !Array.isArray(cookie);
}

/** `cookie.expires` in ms since the epoch, `undefined` for a browser-session cookie (or one that does not parse). */
export function cookieExpiry(session: SessionObject): number | undefined {
  const expires = session.cookie.expires;
  if (typeof expires !== 'string' && typeof expires !== 'number') return undefined;
  const at = new Date(expires).getTime();
  return Number.isNaN(at) ? undefined : at;
}
