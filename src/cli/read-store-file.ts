/**
 * The one place where the CLI reads the saved sessions of a file exactly as a store's start would: through
 * the store's own loader (snapshot format, 1.x files, and the journals beside the snapshot, read before it as a start
 * reads them), without the lock and without changing anything (a torn journal tail is reported, not cut).
 */
import { lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { FileLock } from '../files/file-lock.js';
import { legacyConverter } from '../files/legacy-file.js';
import { JournalReplay } from '../files/journal-replay.js';
import { listJournals, type ReplayResult } from '../files/journal-reader.js';
import { recoverFiles } from '../files/recover.js';
import { SnapshotError } from '../files/snapshot-format.js';
import type { LoadResult } from '../files/snapshot-loader.js';
import { CliError } from './errors.js';
import type { Output } from './output.js';

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
  /** Journal records replayed on top of the snapshot. */
  journalRecords: number;
  /** The journals read after the snapshot: files, records, bytes, a torn tail. */
  journal: ReplayResult;
}

/** What a store does with a 1.x browser-session cookie by default: one day. */
const ONE_DAY_MS = 86_400_000;

/** Whether journals lie beside `file`: a store that never saved a snapshot (killed in its first `savePeriod`) left them. */
function hasJournals(file: string): boolean {
  try {
    return listJournals(file).length > 0;
  } catch {
    return false;
  }
}

/**
 * Reads `file` as a start would: a missing snapshot with journals beside it is their sessions, as at a start.
 * @param mustExist a missing file (and no journal) is an error (verify, inspect, export, migrate) rather than an
 * empty store (import target).
 * @throws CliError (exit 1) naming the file when it is missing, unreadable or damaged (with record number or byte offset).
 */
export function readStoreFile(file: string, now: number, mustExist = true): StoreFile {
  // A running store may complete a save while the files are read: its new snapshot renamed in and the journals the
  // old one named removed, between reading the snapshot's header and listing its journals, or the snapshot opened after
  // its journals were read no longer the one that named them. That is no damage: read again while saves keep replacing
  // the files; damage that stays put is reported at once. (A journal appended to as it is read is read up to where its
  // records ended then: journal-reader.ts.)
  for (let attempt = 1; ; attempt++) {
    const before = filesState(file);
    try {
      return readOnce(file, now, mustExist);
    } catch (err) {
      if (attempt === READ_ATTEMPTS || filesState(file) === before) throw err;
    }
  }
}

/** Reads while saves replace the files; a save every 60 s by default, so the second read nearly always succeeds. */
const READ_ATTEMPTS = 10;

/** Which snapshot (inode, size, modification time) and which journals lie there now, as one string. */
function filesState(file: string): string {
  const prefix = `${basename(file)}.journal.`;
  try {
    const st = statSync(file, { bigint: true, throwIfNoEntry: false });
    const journals = readdirSync(dirname(file)).filter((name) => name.startsWith(prefix)).sort();
    return [st === undefined ? '-' : `${st.ino} ${st.size} ${st.mtimeNs}`, ...journals].join('\n');
  } catch {
    return '';
  }
}

function readOnce(file: string, now: number, mustExist: boolean): StoreFile {
  let size = 0;
  try {
    const stat = statSync(file);
    if (stat.isDirectory()) throw new CliError(`"${file}" is a directory, not a session file`);
    size = stat.size;
  } catch (err) {
    if (err instanceof CliError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' || mustExist && !hasJournals(file)) throw new CliError(`cannot read "${file}": ${describeCode(code, err)}`);
  }
  const sessions = new Map<string, SavedSession>();
  let load: LoadResult;
  let journal: ReplayResult;
  const replay = new JournalReplay({
    delete: (id) => { sessions.delete(id); },
    clear: () => { sessions.clear(); },
    put: (record) => {
      sessions.delete(record.id);
      sessions.set(record.id, { expires: record.expires, value: record.value });
    },
  }, false);
  /** Sessions the snapshot itself gave, counted before the journal changes them. */
  let fromSnapshot = -1;
  try {
    ({ snapshot: load, journal } = recoverFiles(file, {
      insert: (record) => {
        if (sessions.has(record.id)) return false;
        sessions.set(record.id, { expires: record.expires, value: record.value });
        return true;
      },
      fromLegacy: legacyConverter({ now, defaultLifetime: ONE_DAY_MS, stringify: (v) => JSON.stringify(v) }),
      replay: (record) => {
        if (fromSnapshot < 0) fromSnapshot = sessions.size;
        replay.apply(record);
      },
      replayed: () => {
        if (fromSnapshot < 0) fromSnapshot = sessions.size;
        replay.finish();
      },
      reset: () => { sessions.clear(); },
      // The journals before the snapshot, as a start reads them: a save that completes while they are read (a few ms)
      // renames a new snapshot in, and the one peeked is loaded through its descriptor. Read after it, they had to outlive the whole
      // snapshot's read: a store saving more often than a large snapshot reads (journal size, savePeriod) had removed
      // them every time, and after ten reads verify called a sound file damaged.
      journalFirst: () => replay.collectFirst(),
    }, { repair: false, onDamaged: 'error', now }));
  } catch (err) {
    if (err instanceof SnapshotError) throw new CliError(`"${err.file}" is damaged: ${err.reason}`);
    throw new CliError(`cannot read "${file}": ${describeCode((err as NodeJS.ErrnoException).code, err)}`);
  }
  const droppedExpired = load.format === '1.x' ? load.records - fromSnapshot : 0;
  return { load, size, sessions, droppedExpired, journalRecords: journal.records, journal };
}

function describeCode(code: string | undefined, err: unknown): string {
  switch (code) {
    case 'ENOENT': return 'no such file';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EISDIR': return 'it is a directory';
    default: return err instanceof Error ? err.message : String(err);
  }
}

/**
 * Warns when a running store holds `file`: reading it is allowed (a backup of a running app), but what was read is
 * what was on disk then. @returns the holder, `undefined` for none.
 */
export function warnIfRunning(out: Output, file: string): string | undefined {
  const heldBy = holderOf(file);
  if (heldBy !== undefined) {
    out.warn(`"${file}" is in use by ${heldBy}: its sessions are read as written to disk now; changes after this are not included`);
  }
  return heldBy;
}

/** The running store that holds `file` (through a link, the file it points to), `undefined` for none. */
export function holderOf(file: string): string | undefined {
  return FileLock.holder(lockedName(file));
}

/**
 * The name whose lock guards `file`: the file a symbolic link points to. A store refuses a link as its saveFile, so the
 * one that runs holds `<real file>.lock`; the link's own name showed no store running, and migrate copied a live file.
 */
export function lockedName(file: string): string {
  try {
    return lstatSync(file).isSymbolicLink() ? realpathSync(file) : file;
  } catch {
    return file; // missing, or a link that leads nowhere: the read says what is wrong
  }
}
