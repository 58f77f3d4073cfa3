/**
 * Reads a snapshot file at start, synchronously and in chunks (never as one string), so no request can see
 * a false "missing" for a session that is in the file. Also reads express-memfilestore 1.x files.
 */
import { Buffer } from 'node:buffer';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { SnapshotError, SnapshotParser, type SnapshotRecord } from './snapshot-format.js';

const CHUNK = 1 << 20;

/** What was found at start. */
export interface LoadResult {
  /** `none`: no file (a fresh start); `v1`: our format; `1.x`: an express-memfilestore 1.x JSON file. */
  format: 'none' | 'v1' | '1.x';
  records: number;
  bytes: number;
  writtenAt: string | undefined;
}

/** Turns a 1.x entry (a parsed session object) into a record, or `undefined` to drop it (expired). */
export type LegacyConverter = (id: string, session: object) => SnapshotRecord | undefined;

/**
 * Calls `onRecord` for every record, in the file's order (least recently used first).
 * @throws SnapshotError when the file is damaged; an fs error when it cannot be read.
 */
export function loadSnapshotFile(file: string, onRecord: (record: SnapshotRecord) => void, fromLegacy: LegacyConverter): LoadResult {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { format: 'none', records: 0, bytes: 0, writtenAt: undefined };
    throw err;
  }
  try {
    const size = fstatSync(fd).size;
    let buffer = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(size, 1)));
    let filled = readSync(fd, buffer, 0, buffer.length, 0);
    if (isLegacy(buffer.subarray(0, filled))) return loadLegacy(file, fd, size, onRecord, fromLegacy);
    const parser = new SnapshotParser(file, size, onRecord);
    let position = filled;
    for (;;) {
      const used = parser.consume(buffer.subarray(0, filled));
      const rest = filled - used;
      // A fresh buffer per chunk: decoded strings are copies, so nothing keeps old chunks alive.
      const next = Buffer.allocUnsafe(Math.max(CHUNK, rest * 2));
      buffer.copy(next, 0, used, filled);
      buffer = next;
      const read = position < size ? readSync(fd, buffer, rest, buffer.length - rest, position) : 0;
      if (read === 0) break;
      position += read;
      filled = rest + read;
    }
    parser.finish();
    return { format: 'v1', records: parser.records, bytes: position, writtenAt: parser.writtenAt };
  } finally {
    closeSync(fd);
  }
}

/** 1.x wrote one JSON object `{ "<sid>": <session>, ... }`. */
function isLegacy(head: Buffer): boolean {
  for (const byte of head) {
    if (byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09) continue;
    return byte === 0x7b; // '{'
  }
  return false;
}

function loadLegacy(file: string, fd: number, size: number, onRecord: (record: SnapshotRecord) => void, fromLegacy: LegacyConverter): LoadResult {
  const bytes = Buffer.allocUnsafe(size);
  let filled = 0;
  while (filled < size) {
    const n = readSync(fd, bytes, filled, size - filled, filled);
    if (n === 0) break;
    filled += n;
  }
  let data: unknown;
  try {
    data = JSON.parse(bytes.toString('utf8', 0, filled));
  } catch (err) {
    // JSON.parse's message quotes the text around the damage: session contents, which must not reach logs.
    const at = /position (\d+)/.exec((err as Error).message)?.[1];
    throw new SnapshotError(file, `it looks like an express-memfilestore 1.x file but is not valid JSON${at === undefined ? '' : ` (at byte ${at})`}`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new SnapshotError(file, 'it looks like an express-memfilestore 1.x file but is not an object of sessions');
  }
  const entries = Object.entries(data);
  const records: SnapshotRecord[] = [];
  for (const [index, [id, session]] of entries.entries()) {
    if (session === null || typeof session !== 'object' || Array.isArray(session)) {
      throw new SnapshotError(file, `entry ${index + 1} of the express-memfilestore 1.x file is not a session object`);
    }
    const record = fromLegacy(id, session as object);
    if (record !== undefined) records.push(record);
  }
  // 1.x wrote most recently used first; records go in least recently used first.
  for (let i = records.length - 1; i >= 0; i--) onRecord(records[i] as SnapshotRecord);
  return { format: '1.x', records: entries.length, bytes: filled, writtenAt: undefined };
}
