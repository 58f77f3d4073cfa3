/**
 * What a start reads: the snapshot, then the journals that continue it (journal-reader.ts). Used by the store
 * (which holds the lock and repairs a torn journal tail) and by every command of the command line that reads a
 * session file (read-store-file.ts: it reads only). A damaged file is refused, or with `onDamagedFile: 'move-aside'`
 * every file involved is renamed.
 */
import { closeSync, existsSync, lstatSync, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { JournalRecord } from './journal-format.js';
import { cutTornTail, listJournals, replayJournals, type ReplayResult } from './journal-reader.js';
import type { LegacyConverter } from './legacy-file.js';
import { NAME_MAX } from './placement.js';
import { SnapshotError, type RecordSink } from './snapshot-format.js';
import { loadSnapshotFile, NO_SNAPSHOT, openSnapshot, peekSnapshot, type LoadResult, type SnapshotHead } from './snapshot-loader.js';

/** Where the records read go. */
export interface RecoverySinks {
  /** A snapshot record; false for an id already loaded. */
  insert: RecordSink;
  fromLegacy: LegacyConverter;
  /** A journal record, in order. */
  replay(record: JournalRecord): void;
  /** After the last journal record. */
  replayed(): void;
  /** Forget everything loaded (before moving damaged files aside). */
  reset(): void;
  /**
   * Optional: the journal may be replayed before the snapshot. Called before the first `replay`; returns whether
   * the journal replaces the session with this id, whose snapshot record is then skipped.
   */
  journalFirst?(): (id: string) => boolean;
}

export interface Recovered {
  snapshot: LoadResult;
  journal: ReplayResult;
  /** Names the damaged files were moved to. */
  movedAside: string[];
}

const NO_JOURNAL: ReplayResult = { files: 0, records: 0, bytes: 0, tornBytes: 0, torn: undefined, tail: undefined, stale: [], maxGen: 0 };

/**
 * Loads `file` and replays its journals.
 * @param options - `repair`: cut a torn journal tail (a start holding the lock); false reads only.
 * @throws SnapshotError naming the damaged file (unless moved aside), an fs error when a file cannot be read.
 */
export function recoverFiles(file: string, sinks: RecoverySinks, options: { repair: boolean; onDamaged: 'error' | 'move-aside'; now: number }): Recovered {
  try {
    const fd = sinks.journalFirst !== undefined ? openSnapshot(file) : undefined;
    if (fd !== undefined && sinks.journalFirst !== undefined) {
      try {
        const head = peekSnapshot(file, fd);
        if (head !== undefined) return journalFirst({ file, fd }, head, sinks.journalFirst(), sinks, options.repair);
      } finally {
        closeSync(fd);
      }
    }
    const snapshot = loadSnapshotFile(file, sinks.insert, sinks.fromLegacy);
    const journal = replayJournals(file, snapshot, (record) => { sinks.replay(record); }, options.repair);
    sinks.replayed();
    return { snapshot, journal, movedAside: [] };
  } catch (err) {
    sinks.reset();
    if (!(err instanceof SnapshotError) || options.onDamaged !== 'move-aside' || !options.repair) throw err;
    const moves = moveAside(file, options.now);
    const movedAside = moves.map((m) => m.to);
    // "it" only for the file refused: a missing journal is not what was moved, the snapshot naming it is.
    const what = moves.length !== 1 ? `${moves.length} files` : moves[0]?.from === err.file ? 'it' : `"${moves[0]?.from}"`;
    // Not err.message: its advice (left untouched, set move-aside) is for a refusal, and this is not one.
    process.emitWarning(`express-memfilestore: cannot load "${err.file}": ${err.reason}. onDamagedFile is "move-aside": moved ${what} ` +
      `to "${movedAside.join('", "')}" and started empty`, 'MemFileStoreWarning');
    return { snapshot: { ...NO_SNAPSHOT }, journal: NO_JOURNAL, movedAside };
  }
}

/**
 * The journals that continue a version 1 or 2 snapshot are read first, so the sessions they replace are skipped in
 * the snapshot rather than loaded twice, and `max`/`maxSize` never evict at load a session the journal goes on to keep
 * (a session it destroys makes room). Nothing is repaired until both files have read whole, and a damaged snapshot is
 * named before its journal, as when the snapshot is read first.
 */
function journalFirst({ file, fd }: { file: string; fd: number }, head: SnapshotHead, superseded: (id: string) => boolean, sinks: RecoverySinks, repair: boolean): Recovered {
  let journal: ReplayResult;
  try {
    const expected = { ...NO_SNAPSHOT, format: head.version === 1 ? 'v1' as const : 'v2' as const, journal: head.journal, absorbed: head.absorbed, sha256: head.sha256 };
    journal = replayJournals(file, expected, (record) => { sinks.replay(record); }, false);
  } catch (err) {
    loadSnapshotFile(file, () => true, sinks.fromLegacy, undefined, fd);
    throw err;
  }
  // The snapshot peeked, through its descriptor: a save completing while the journals were read (the command line
  // beside a live store) renamed a new one in, but the journals read continue this one.
  const snapshot = loadSnapshotFile(file, sinks.insert, sinks.fromLegacy, superseded, fd);
  // The trailer's checksum covers the header: a pointer or checksum that differs means the file changed between the reads.
  const pointer = head.journal;
  if (snapshot.journal?.gen !== pointer?.gen || snapshot.journal?.token !== pointer?.token ||
      (pointer === undefined && (snapshot.sha256 !== head.sha256 || snapshot.absorbed !== head.absorbed))) {
    throw new SnapshotError(file, 'it changed while it was read (is another process writing it?)');
  }
  if (repair) cutTornTail(journal);
  sinks.replayed();
  return { snapshot, journal, movedAside: [] };
}

/**
 * Renames the snapshot and every journal beside it to `<name>.corrupt-<timestamp>`: they only make sense together. A
 * name too long for that has its saveFile's part cut short (asideStem).
 */
function moveAside(file: string, now: number): { from: string; to: string }[] {
  const moved: { from: string; to: string }[] = [];
  const names = [file];
  try {
    names.push(...listJournals(file).filter((f) => !f.foreign).map((f) => f.path));
  } catch {
    // The directory cannot be listed: the snapshot alone is moved.
  }
  const ending = `.corrupt-${new Date(now).toISOString().replace(/[:.]/g, '-')}`;
  const own = basename(file);
  const stem = asideStem(own, names.map((name) => basename(name).slice(own.length)), ending);
  for (const name of names) {
    if (!existsSync(name)) continue;
    const aside = asideName(join(dirname(file), `${stem}${basename(name).slice(own.length)}${ending}`));
    renameSync(name, aside);
    moved.push({ from: name, to: aside });
  }
  return moved;
}

/**
 * The saveFile's name for the names of its files moved aside: cut short when the longest of them would be longer than
 * a file name may be. The store takes names up to 230 bytes (placement.ts), and `.journal.<n>.corrupt-<timestamp>`
 * adds more than 25: the rename failed (ENAMETOOLONG), so the start meant to go on without the damaged files failed,
 * at every restart, and from the snapshot moved and its journal not.
 */
function asideStem(own: string, suffixes: string[], ending: string): string {
  // The `-<n>` a second damaged file in the same ms gets (asideName), up to 999.
  const room = NAME_MAX - Math.max(...suffixes.map((suffix) => Buffer.byteLength(suffix))) - Buffer.byteLength(ending) - 4;
  if (Buffer.byteLength(own) <= room) return own;
  const chars = Array.from(own);
  while (Buffer.byteLength(chars.join('')) > room) chars.pop();
  return chars.join('');
}

/** `base`, never an existing file: a second damaged file in the same ms gets `-2`. */
function asideName(base: string): string {
  let name = base;
  for (let n = 2; existsSync(name); n++) name = `${base}-${n}`;
  return name;
}

/**
 * A symlink as saveFile would be replaced by a regular file at the first save (rename does not follow it),
 * and could point us at a file we must not overwrite: refuse it plainly.
 */
export function refuseSymlink(file: string): void {
  try {
    if (lstatSync(file).isSymbolicLink()) {
      // ELOOP: what open() with O_NOFOLLOW gives for a symbolic link, so handlers that switch on errno codes see one.
      throw Object.assign(new Error(`express-memfilestore: saveFile "${file}" is a symbolic link; point saveFile at the real file`), { code: 'ELOOP' });
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
