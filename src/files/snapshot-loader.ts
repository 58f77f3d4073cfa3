/**
 * Reads a snapshot file at start, synchronously and in chunks (never as one string), so no request can see
 * a false "missing" for a session that is in the file. An express-memfilestore 1.x file goes to legacy-file.ts.
 */
import { Buffer } from 'node:buffer';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { isLegacy, loadLegacy, type LegacyConverter } from './legacy-file.js';
import { readChunks } from './read-chunks.js';
import { SnapshotParser, type JournalPointer, type RecordSink, type SupersededCheck } from './snapshot-format.js';

/** What was found at start. */
export interface LoadResult {
  /** `none`: no file (a fresh start); `v1`/`v2`: our format; `1.x`: an express-memfilestore 1.x JSON file. */
  format: 'none' | 'v1' | 'v2' | '1.x';
  records: number;
  bytes: number;
  writtenAt: string | undefined;
  /** SHA-256 of the snapshot (its trailer's, or of the whole 1.x file); `-` without a file. */
  sha256: string;
  /** The journal a version 2 snapshot hands over to. */
  journal: JournalPointer | undefined;
  /** A snapshot that stands alone: journals up to this generation are in it, leftovers if still on disk. */
  absorbed: number | undefined;
}

export const NO_SNAPSHOT: LoadResult = { format: 'none', records: 0, bytes: 0, writtenAt: undefined, sha256: '-', journal: undefined, absorbed: undefined };

/**
 * The journal a version 2 snapshot's header names, read without loading the rest. `undefined` for any other
 * file, or a header that does not parse: the full load then says what is wrong.
 */
export function peekJournalPointer(file: string): JournalPointer | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const head = Buffer.alloc(256);
    const n = readSync(fd, head, 0, head.length, 0);
    const eol = head.subarray(0, n).indexOf(0x0a);
    if (eol < 0) return undefined;
    const parser = new SnapshotParser(file, Number.MAX_SAFE_INTEGER, () => true);
    try {
      parser.consume(head.subarray(0, eol + 1));
    } catch {
      return undefined;
    }
    return parser.journal;
  } finally {
    closeSync(fd);
  }
}

/**
 * Calls `onRecord` for every record, in the file's order (least recently used first), except those `superseded`
 * says a later change replaces (a format 1.x file has none: its records all go to `onRecord`).
 * @throws SnapshotError when the file is damaged; an fs error when it cannot be read.
 */
export function loadSnapshotFile(file: string, onRecord: RecordSink, fromLegacy: LegacyConverter, superseded?: SupersededCheck): LoadResult {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ...NO_SNAPSHOT };
    throw err;
  }
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(64, size));
    const headBytes = readSync(fd, head, 0, head.length, 0);
    if (isLegacy(head.subarray(0, headBytes))) return loadLegacy(file, fd, size, onRecord, fromLegacy);
    const parser = new SnapshotParser(file, size, onRecord, superseded);
    const bytes = readChunks(fd, 0, size, (chunk) => parser.consume(chunk));
    parser.finish();
    return {
      format: parser.version === 1 ? 'v1' : 'v2',
      records: parser.records,
      bytes,
      writtenAt: parser.writtenAt,
      sha256: parser.sha256,
      journal: parser.journal,
      absorbed: parser.absorbed,
    };
  } finally {
    closeSync(fd);
  }
}
