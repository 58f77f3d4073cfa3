/**
 * Reads a snapshot file at start, synchronously and in chunks (never as one string), so no request can see
 * a false "missing" for a session that is in the file. An express-memfilestore 1.x file goes to legacy-file.ts.
 */
import { Buffer } from 'node:buffer';
import { closeSync, fstatSync, readSync } from 'node:fs';
import { isLegacy, loadLegacy, type LegacyConverter } from './legacy-file.js';
import { openToRead, readChunks } from './read-chunks.js';
import { SnapshotParser, type JournalPointer, type RecordSink, type SupersededCheck } from './snapshot-format.js';

/** What was found at start. */
export interface LoadResult {
  /** `none`: no file (a fresh start); `v1`/`v2`: our format; `1.x`: an express-memfilestore 1.x JSON file. */
  format: 'none' | 'v1' | 'v2' | '1.x';
  /** Records (sessions) in the snapshot file, expired ones included. */
  records: number;
  /** Size of the snapshot file. */
  bytes: number;
  /** When the snapshot was written, as its header says (ISO 8601); `undefined` for a 1.x file or none. */
  writtenAt: string | undefined;
  /** SHA-256 of the snapshot (its trailer's, or of the whole 1.x file); `-` without a file. */
  sha256: string;
  /** The journal a version 2 snapshot hands over to. */
  journal: JournalPointer | undefined;
  /** A snapshot that stands alone: journals up to this generation are in it, leftovers if still on disk. */
  absorbed: number | undefined;
}

export const NO_SNAPSHOT: LoadResult = { format: 'none', records: 0, bytes: 0, writtenAt: undefined, sha256: '-', journal: undefined, absorbed: undefined };

/** What a snapshot's header and trailer say, read without loading the rest: enough to find its journals. */
export interface SnapshotHead {
  /** The journal a version 2 snapshot hands over to. */
  journal: JournalPointer | undefined;
  absorbed: number | undefined;
  /** The trailer's checksum, which a journal continuing a snapshot without a pointer names. */
  sha256: string;
  version: number;
}

const TRAILER_AT_END = /(?:^|\n)end (?:0|[1-9]\d{0,15}) ([0-9a-f]{64})\n$/;

/**
 * The snapshot at `file` opened for {@link peekSnapshot} and then {@link loadSnapshotFile}: one descriptor for both,
 * so the records loaded are those of the head peeked even when a running store renames a new snapshot in between (the
 * command line reads beside a live store). `undefined` when it cannot be opened: the full load then says why.
 */
export function openSnapshot(file: string): number | undefined {
  try {
    return openToRead(file);
  } catch {
    return undefined;
  }
}

/**
 * The header (and, for a snapshot without a journal pointer, the trailer's checksum) of a version 1 or 2 snapshot,
 * read without loading the rest. `undefined` for any other file, or one that does not parse: the full load then
 * says what is wrong.
 */
export function peekSnapshot(file: string, fd: number): SnapshotHead | undefined {
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
  if (parser.journal !== undefined) return { journal: parser.journal, absorbed: undefined, sha256: '-', version: parser.version };
  // No pointer: its journal names its checksum, the trailer's (checked against the content by the full load).
  const size = fstatSync(fd).size;
  const tail = Buffer.alloc(Math.min(size, 128));
  const m = TRAILER_AT_END.exec(tail.toString('latin1', 0, readSync(fd, tail, 0, tail.length, size - tail.length)));
  if (m === null) return undefined;
  return { journal: undefined, absorbed: parser.absorbed, sha256: m[1] as string, version: parser.version };
}

/**
 * Calls `onRecord` for every record, in the file's order (least recently used first), except those `superseded`
 * says a later change replaces (a format 1.x file has none: its records all go to `onRecord`).
 * @throws SnapshotError when the file is damaged; an fs error when it cannot be read.
 */
export function loadSnapshotFile(file: string, onRecord: RecordSink, fromLegacy: LegacyConverter, superseded?: SupersededCheck, held?: number): LoadResult {
  let fd: number;
  try {
    fd = held ?? openToRead(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ...NO_SNAPSHOT };
    throw err;
  }
  try {
    const { size, mtimeMs } = fstatSync(fd);
    const head = Buffer.alloc(Math.min(64, size));
    const headBytes = readSync(fd, head, 0, head.length, 0);
    if (isLegacy(head.subarray(0, headBytes))) return loadLegacy(file, fd, { size, savedAt: Math.floor(mtimeMs) }, onRecord, fromLegacy);
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
    if (held === undefined) closeSync(fd);
  }
}
