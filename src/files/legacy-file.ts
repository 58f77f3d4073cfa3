/**
 * Files written by express-memfilestore 1.x: one JSON object `{ "<sid>": <session>, ... }`, sessions parsed
 * back from the serializer, most recently used first, with no expiry of their own. Upgrading users have
 * them on disk; the first save after loading one writes our format.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { toError } from '../store/callback.js';
import { expiryOf, isExpired } from '../store/lru-entries.js';
import { expiresAt } from '../store/ttl.js';
import { parseErrorPosition } from '../json/session-json.js';
import { readAll, readChunks, STOP } from './read-chunks.js';
import { SnapshotError, type SnapshotRecord } from './snapshot-format.js';
import type { LoadResult } from './snapshot-loader.js';

/**
 * Turns a 1.x session into a record, `undefined` when it has expired. `savedAt`: when 1.x wrote the file (its
 * modification time, ms since the epoch). @throws Error when it cannot.
 */
export type LegacyConverter = (id: string, session: { cookie: object }, savedAt: number) => SnapshotRecord | undefined;

/** What converting a 1.x session needs from the store. */
export interface LegacyContext {
  now: number;
  /** For a browser-session cookie (no `expires`): ms, `Infinity` for never. */
  defaultLifetime: number;
  stringify: (session: unknown) => unknown;
}

/**
 * Expiry from `cookie.expires`; a past one is dropped. A browser-session cookie gets the default lifetime from when
 * 1.x wrote the file (never later than now), not from now: the file is converted again at every start until a save
 * replaces it, and a lifetime counted from each start would revive, after a crash, a session that expired while the
 * process was down (1.x's own defect). 1.x's last write is the latest time the session is known to have been live.
 */
export function legacyConverter({ now, defaultLifetime, stringify }: LegacyContext): LegacyConverter {
  return (id, session, savedAt) => {
    // The same reading of `expires` as a live store's (src/store/ttl.ts); a 1.x file has no `maxAge` to prefer.
    const at = expiresAt((session.cookie as { expires?: unknown }).expires);
    // 1970 (a 0 expiry) is as expired as any past date: only a missing expiry means "browser session".
    if (at <= now) return undefined;
    if (!id.isWellFormed()) throw new Error('its id has a lone surrogate, which cannot be saved');
    const value = stringify(session);
    if (typeof value !== 'string') throw new Error(`the serializer returned ${typeof value}, not a string`);
    if (!Number.isNaN(at)) return { id, expires: expiryOf(at, 0), value };
    const expires = expiryOf(Math.min(savedAt, now), defaultLifetime);
    return isExpired(expires, now) ? undefined : { id, expires, value };
  };
}

/** 1.x files start with `{`; ours with the format name. */
export function isLegacy(head: Buffer): boolean {
  for (const byte of head) {
    if (byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09) continue;
    return byte === 0x7b; // '{'
  }
  return false;
}

/**
 * Reads a 1.x file (1.x wrote it as one string, so it fits in one) and hands its live sessions to
 * `onRecord`, least recently used first.
 * @throws SnapshotError when it is not valid JSON, not an object of sessions, or a session cannot be converted.
 */
export function loadLegacy(file: string, fd: number, { size, savedAt }: { size: number; savedAt: number },
  onRecord: (record: SnapshotRecord) => void, convert: LegacyConverter): LoadResult {
  // Before the whole file is allocated and read: a file stretched with zeros (sparse, no disk used) cost as much
  // memory as its length, and failed the start with an allocation error where memory is limited.
  const zero = firstZeroByte(fd, size);
  if (zero >= 0) throw new SnapshotError(file, `it looks like an express-memfilestore 1.x file but is not valid JSON (at byte ${zero})`);
  const bytes = readAll(fd, 0, size);
  const text = bytes.toString('utf8');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    const at = parseErrorPosition(err);
    // V8 counts characters: past names in UTF-8 (or a byte order mark) the byte named was not the fault's.
    const where = at === undefined ? '' : ` (at byte ${Buffer.byteLength(text.slice(0, Number(at)))})`;
    throw new SnapshotError(file, `it looks like an express-memfilestore 1.x file but is not valid JSON${where}`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new SnapshotError(file, 'it looks like an express-memfilestore 1.x file but is not an object of sessions');
  }
  const entries = Object.entries(data);
  const records: SnapshotRecord[] = [];
  for (const [index, [id, session]] of entries.entries()) {
    // express-session always stores a cookie: any other JSON object is not a 1.x file (a wrong saveFile).
    if (!isObject(session) || !isObject((session as { cookie?: unknown }).cookie)) {
      throw new SnapshotError(file, `entry ${index + 1} is not an express-session session (an object with a cookie): ` +
        'this is not an express-memfilestore 1.x file');
    }
    let record: SnapshotRecord | undefined;
    try {
      record = convert(id, session as { cookie: object }, savedAt);
    } catch (err) {
      // toError: a serializer may throw anything, even a value String() cannot convert.
      throw new SnapshotError(file, `session ${index + 1} of the express-memfilestore 1.x file cannot be converted: ${toError(err).message}`);
    }
    if (record !== undefined) records.push(record);
  }
  // 1.x wrote most recently used first; records go in least recently used first.
  for (let i = records.length - 1; i >= 0; i--) onRecord(records[i] as SnapshotRecord);
  // The identity a journal started after this file names (journal-format.ts).
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { format: '1.x', records: entries.length, bytes: bytes.length, writtenAt: undefined, sha256, journal: undefined, absorbed: undefined };
}

function isObject(value: unknown): value is object {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The offset of the first zero byte of the file, which JSON text never holds; -1 when there is none. */
function firstZeroByte(fd: number, size: number): number {
  let zero = -1;
  let at = 0;
  readChunks(fd, 0, size, (bytes) => {
    const i = bytes.indexOf(0);
    if (i >= 0) {
      zero = at + i;
      return STOP;
    }
    at += bytes.length;
    return bytes.length;
  });
  return zero;
}
