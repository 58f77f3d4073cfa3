/**
 * The one place where the CLI reads the saved sessions of a file exactly as a store's start would: through
 * the store's own loader (snapshot format, 1.x files), without the lock and without changing anything.
 * When the store gains a journal beside its snapshot, its replay belongs here, so every command sees it.
 */
import { statSync } from 'node:fs';
import { legacyConverter } from '../files/legacy-file.js';
import { SnapshotError } from '../files/snapshot-format.js';
import { loadSnapshotFile, type LoadResult } from '../files/snapshot-loader.js';
import { CliError } from './errors.js';

/** A saved session: its stored value and absolute expiry (ms since the epoch, 0 for never). */
export interface SavedSession {
  expires: number;
  value: string;
}

export interface StoreFile {
  load: LoadResult;
  /** File size in bytes. */
  size: number;
  /** Every saved session by id, least recently used first; expired ones included (the 1.x loader drops them). */
  sessions: Map<string, SavedSession>;
  /** Sessions of a 1.x file that had expired, dropped while loading. */
  droppedExpired: number;
  /** Journal records replayed on top of the snapshot (none until the store has a journal). */
  journalRecords: number;
}

/** What a store does with a 1.x browser-session cookie by default: one day. */
const ONE_DAY_MS = 86_400_000;

/**
 * Reads `file` as a start would.
 * @param mustExist a missing file is an error (verify, inspect, export, migrate) rather than an empty store (import target).
 * @throws CliError (exit 1) naming the file when it is missing, unreadable or damaged (with record number or byte offset).
 */
export function readStoreFile(file: string, now: number, mustExist = true): StoreFile {
  let size = 0;
  try {
    const stat = statSync(file);
    if (stat.isDirectory()) throw new CliError(`"${file}" is a directory, not a session file`);
    size = stat.size;
  } catch (err) {
    if (err instanceof CliError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' || mustExist) throw new CliError(`cannot read "${file}": ${describeCode(code, err)}`);
  }
  const sessions = new Map<string, SavedSession>();
  let load: LoadResult;
  try {
    load = loadSnapshotFile(file, (record) => {
      if (sessions.has(record.id)) return false;
      sessions.set(record.id, { expires: record.expires, value: record.value });
      return true;
    }, legacyConverter({ now, defaultLifetime: ONE_DAY_MS, stringify: (v) => JSON.stringify(v) }));
  } catch (err) {
    if (err instanceof SnapshotError) throw new CliError(`"${file}" is damaged: ${err.reason}`);
    throw new CliError(`cannot read "${file}": ${describeCode((err as NodeJS.ErrnoException).code, err)}`);
  }
  const droppedExpired = load.format === '1.x' ? load.records - sessions.size : 0;
  return { load, size, sessions, droppedExpired, journalRecords: 0 };
}

function describeCode(code: string | undefined, err: unknown): string {
  switch (code) {
    case 'ENOENT': return 'no such file';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EISDIR': return 'it is a directory';
    default: return err instanceof Error ? err.message : String(err);
  }
}
