/**
 * One journal file: creating it (header written, then synced by the caller), and the fs calls the journal makes,
 * behind a seam for crash-consistency tests. The policy (when to write, sync, rotate) is in journal-writer.ts,
 * journal-sync.ts and journal-rotation.ts.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import * as nodeFs from 'node:fs';
import { dirname } from 'node:path';
import type { AnyCallback } from '../store/callback.js';
import { cannotSyncDirectories, FILE_MODE } from './atomic-writer.js';
import { encodeJournalHeader, saltOf } from './journal-format.js';
import { JOURNAL_WRITE_FLAGS, journalPath, type JournalTail } from './journal-reader.js';

/**
 * Journal space is set aside ahead in steps of this size (ftruncate: a hole, zeros to a reader, no disk blocks until
 * written), and records are written inside the file's length: a sync then need not also commit a new length, which
 * on ext4 costs about 40% more per fdatasync of a record (`bench/sync-cost.mjs`: 141 µs appending, 100 µs inside).
 * A reader takes zeros where a record would begin for the end of the journal (journal-reader.ts).
 */
const JOURNAL_STEP = 1 << 20;

/** The synchronous and callback fs calls the journal makes; a seam for crash-consistency tests. */
export type JournalIo = Pick<typeof nodeFs, 'openSync' | 'writeSync' | 'fdatasync' | 'fdatasyncSync' | 'fsyncSync' | 'ftruncateSync' | 'closeSync' | 'unlinkSync' |
  'fstatSync' | 'fchmodSync'>;

/** A journal file open for appending. */
export interface JournalFile {
  fd: number;
  gen: number;
  token: string;
  salt: number;
  path: string;
  /** Bytes of the file known good: header and whole records. */
  size: number;
  /** The file's length: `size`, then zeros set aside for the next records. */
  allocated: number;
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
  /**
   * Given up while a sync of it was running: closed when that sync completes. A sync queued in the thread pool may
   * reach the kernel after a close, and flush another file that took the descriptor number.
   */
  closeAfterSync: boolean;
}

export function newFile(fd: number, gen: number, token: string, path: string, size: number, seq: number, allocated = size): JournalFile {
  return { fd, gen, token, salt: saltOf(token), path, size, allocated, seq, unsynced: false, syncing: false, waiters: [], retiring: false, ready: fd >= 0, closeAfterSync: false };
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

/**
 * Reopens the last journal a start replayed, to append after its last whole record. Made 0600 first: found with a
 * looser mode (restored from a backup under umask 022), it went on receiving every new session readable by all.
 */
export function reopenJournal(io: JournalIo, tail: JournalTail): JournalFile {
  const fd = io.openSync(tail.path, JOURNAL_WRITE_FLAGS);
  try {
    if (process.platform !== 'win32' && (io.fstatSync(fd).mode & 0o777) !== FILE_MODE) io.fchmodSync(fd, FILE_MODE);
  } catch (err) {
    closeQuietly(io, fd);
    throw err;
  }
  const file = newFile(fd, tail.gen, tail.token, tail.path, tail.size, tail.seq, tail.allocated);
  // A journal left by a killed process may hold records only the page cache has: the first sync must cover them,
  // also when nothing new is written (the 'everysec' timer syncs it within a second; in 'always' mode the next
  // change's sync does, and a change that appends nothing waits for it).
  file.unsynced = true;
  return file;
}

/**
 * Creates the first journal after a start that found none to continue, synced with its directory (about a
 * millisecond, once per start). `created` gets it as soon as it exists: a sync that fails leaves it on disk, and its
 * generation taken.
 * @throws the fs error.
 */
export function createFirstJournal(io: JournalIo, saveFile: string, start: { gen: number; after: string }, now: number,
  created: (file: JournalFile) => void): JournalFile {
  const file = createJournal(io, saveFile, start.gen, start.after, now);
  created(file);
  io.fdatasyncSync(file.fd);
  syncDirectorySync(io, dirname(saveFile));
  return file;
}

/**
 * Writes `bytes` of `out` after the last whole record of `file` with one write (looping on short writes), setting
 * space aside first when they do not fit in the file's length, then counts them as unsynced.
 * @throws the fs error, after cutting a partial record off, as Redis does, so the next start does not find
 * garbage before good records.
 */
export function appendRecords(io: JournalIo, file: JournalFile, out: Buffer, bytes: number): void {
  try {
    const end = file.size + bytes;
    if (end > file.allocated) {
      const allocated = Math.ceil(end / JOURNAL_STEP) * JOURNAL_STEP;
      io.ftruncateSync(file.fd, allocated);
      file.allocated = allocated;
    }
    for (let done = 0; done < bytes;) {
      const n = io.writeSync(file.fd, out, done, bytes - done, file.size + done);
      if (n <= 0) throw new Error('write made no progress');
      done += n;
    }
  } catch (err) {
    try {
      io.ftruncateSync(file.fd, file.size);
      file.allocated = file.size;
    } catch {
      // Left torn: a start drops a torn tail of the last journal.
    }
    throw err;
  }
  file.size += bytes;
  file.unsynced = true;
}

/** Makes a new file's name durable. Windows cannot open a directory to sync it, and needs no such step. */
function syncDirectorySync(io: JournalIo, dir: string): void {
  if (process.platform === 'win32') return;
  const fd = io.openSync(dir, 'r');
  try {
    io.fsyncSync(fd);
  } catch (err) {
    if (!cannotSyncDirectories(err)) throw err;
  } finally {
    io.closeSync(fd);
  }
}

/**
 * The journal's fs calls: node:fs's, or the seam's where it has them. Only these are read: spreading the whole
 * module touches its deprecated constants (fs.F_OK and others warn DEP0176 on Node 24).
 */
export function journalIo(seam: Partial<JournalIo> | undefined): JournalIo {
  return {
    openSync: seam?.openSync ?? nodeFs.openSync,
    writeSync: seam?.writeSync ?? nodeFs.writeSync,
    fdatasync: seam?.fdatasync ?? nodeFs.fdatasync,
    fdatasyncSync: seam?.fdatasyncSync ?? nodeFs.fdatasyncSync,
    fsyncSync: seam?.fsyncSync ?? nodeFs.fsyncSync,
    ftruncateSync: seam?.ftruncateSync ?? nodeFs.ftruncateSync,
    closeSync: seam?.closeSync ?? nodeFs.closeSync,
    unlinkSync: seam?.unlinkSync ?? nodeFs.unlinkSync,
    fstatSync: seam?.fstatSync ?? nodeFs.fstatSync,
    fchmodSync: seam?.fchmodSync ?? nodeFs.fchmodSync,
  };
}
