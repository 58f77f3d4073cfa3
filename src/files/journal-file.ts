/**
 * One journal file: creating it (header written, then synced by the caller), and the fs calls the journal makes,
 * behind a seam for crash-consistency tests. The policy (when to write, sync, rotate) is in journal-writer.ts.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import type * as nodeFs from 'node:fs';
import type { AnyCallback } from '../store/callback.js';
import { FILE_MODE } from './atomic-writer.js';
import { encodeJournalHeader, saltOf } from './journal-format.js';
import { journalPath } from './journal-reader.js';

/** The synchronous and callback fs calls the journal makes; a seam for crash-consistency tests. */
export type JournalIo = Pick<typeof nodeFs, 'openSync' | 'writeSync' | 'fdatasync' | 'fdatasyncSync' | 'fsyncSync' | 'ftruncateSync' | 'closeSync' | 'unlinkSync'>;

/** The error given to changes the journal could not make durable, and in 'always' mode to later ones until recovery. */
export class JournalError extends Error {
  readonly code = 'ERR_JOURNAL_FAILED';
  constructor(path: string, cause: unknown) {
    super(`express-memfilestore: could not write the journal "${path}" (${cause instanceof Error ? cause.message : String(cause)}); ` +
      'sessions stay in memory and a snapshot with a fresh journal is retried every second', { cause });
    this.name = 'JournalError';
  }
}

/** A journal file open for appending. */
export interface JournalFile {
  fd: number;
  gen: number;
  token: string;
  salt: number;
  path: string;
  /** Bytes of the file known good: header and whole records. */
  size: number;
  seq: number;
  /** Written since the last sync began. */
  unsynced: boolean;
  syncing: boolean;
  /** Callbacks of written records, for the next sync to begin ('always'). */
  waiters: AnyCallback[];
  /** Being replaced after a switch: synced until nothing is unsynced, then closed. */
  retiring: boolean;
  /** Its header and directory entry are synced: records may go in. */
  ready: boolean;
}

export function newFile(fd: number, gen: number, token: string, path: string, size: number, seq: number): JournalFile {
  return { fd, gen, token, salt: saltOf(token), path, size, seq, unsynced: false, syncing: false, waiters: [], retiring: false, ready: fd >= 0 };
}

export function closeQuietly(io: JournalIo, fd: number): void {
  try {
    io.closeSync(fd);
  } catch {
    // Closed already.
  }
}

export function removeQuietly(io: JournalIo, path: string): void {
  try {
    io.unlinkSync(path);
  } catch {
    // Ignored at the next start: a journal without records that continues nothing is removed then.
  }
}

/** A new journal with its header written (not yet synced). */
export function createJournal(io: JournalIo, saveFile: string, gen: number, after: string, now: number,
  token = randomBytes(8).toString('hex')): JournalFile {
  const path = journalPath(saveFile, gen);
  const header = Buffer.from(encodeJournalHeader(gen, token, after, now), 'latin1');
  const fd = io.openSync(path, 'wx', FILE_MODE);
  try {
    for (let done = 0; done < header.length;) done += io.writeSync(fd, header, done, header.length - done);
  } catch (err) {
    closeQuietly(io, fd);
    removeQuietly(io, path);
    throw err;
  }
  return newFile(fd, gen, token, path, header.length, 1);
}

/** Makes a new file's name durable. Windows cannot open a directory to sync it, and needs no such step. */
export function syncDirectorySync(io: JournalIo, dir: string): void {
  if (process.platform === 'win32') return;
  const fd = io.openSync(dir, 'r');
  try {
    io.fsyncSync(fd);
  } finally {
    io.closeSync(fd);
  }
}

