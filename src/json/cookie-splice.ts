import { flatten } from './flatten.js';

const PREFIX = '{"cookie":{';
const QUOTE = 34;
const BACKSLASH = 92;
const OPEN = 123;
const CLOSE = 125;

/**
 * Replaces the cookie of a JSON-serialized session without parsing it: `touch` runs on every request,
 * and this turns its parse + stringify of the whole session into a stringify of the cookie alone.
 *
 * express-session's `Session` serializes `cookie` first, so the stored text starts with `{"cookie":{...}`.
 * The result is byte-for-byte what `JSON.stringify({ ...JSON.parse(stored), cookie })` gives.
 * Returns `undefined` when the text does not have that shape; the caller then takes the slow path.
 */
export function spliceCookie(stored: string, cookieJson: string): string | undefined {
  if (!stored.startsWith(PREFIX)) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = PREFIX.length - 1; i < stored.length; i++) {
    const c = stored.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN) {
      depth++;
    } else if (c === CLOSE && --depth === 0) {
      return flatten('{"cookie":' + cookieJson + stored.slice(i + 1));
    }
  }
  return undefined;
}
