/**
 * Reads a snapshot file at start, synchronously and in chunks (never as one string), so no request can see
 * a false "missing" for a session that is in the file. An express-memfilestore 1.x file goes to legacy-file.ts.
 */
import { Buffer } from 'node:buffer';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { isLegacy, loadLegacy, type LegacyConverter } from './legacy-file.js';
import { SnapshotParser, type RecordSink } from './snapshot-format.js';

const CHUNK = 1 << 20;

/** What was found at start. */
export interface LoadResult {
  /** `none`: no file (a fresh start); `v1`: our format; `1.x`: an express-memfilestore 1.x JSON file. */
  format: 'none' | 'v1' | '1.x';
  records: number;
  bytes: number;
  writtenAt: string | undefined;
}

/**
 * Calls `onRecord` for every record, in the file's order (least recently used first).
 * @throws SnapshotError when the file is damaged; an fs error when it cannot be read.
 */
export function loadSnapshotFile(file: string, onRecord: RecordSink, fromLegacy: LegacyConverter): LoadResult {
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
    let more = true;
    for (;;) {
      const used = parser.consume(buffer.subarray(0, filled));
      // After the last read, once more so the parser holds the true unparsed rest (for its error message).
      if (!more) break;
      const rest = filled - used;
      // One buffer for the whole file (decoded strings are copies): a fresh one per chunk cost page faults
      // and external-memory GCs, a fifth of the load time at 100k sessions.
      if (rest * 2 > buffer.length) {
        const bigger = Buffer.allocUnsafe(rest * 2);
        buffer.copy(bigger, 0, used, filled);
        buffer = bigger;
      } else {
        buffer.copyWithin(0, used, filled);
      }
      const read = position < size ? readSync(fd, buffer, rest, buffer.length - rest, position) : 0;
      position += read;
      filled = rest + read;
      more = read > 0;
    }
    parser.finish();
    return { format: 'v1', records: parser.records, bytes: position, writtenAt: parser.writtenAt };
  } finally {
    closeSync(fd);
  }
}
