/**
 * The store's start, for persistence.ts: refuse a `saveFile` that names a directory, one too long for the names made from it, one named as a
 * store's own files, a symlinked one or one that is a mount point (placement.ts), take the lock, load the snapshot and replay its
 * journals (recover.ts), then remove temp files a killed process left, and describe it all for the 'load' event.
 * Synchronous: it runs in the store's constructor.
 */
import { removeStaleTempFiles } from './atomic-writer.js';
import { log } from '../debug.js';
import { FileLock } from './file-lock.js';
import { refuseMountPoint, refuseName } from './placement.js';
import { recoverFiles, refuseSymlink, type Recovered, type RecoverySinks } from './recover.js';
import type { LoadInfo } from './persistence-stats.js';

export interface Started extends Recovered {
  lock: FileLock;
  /** The 'load' event's content; `sessions` is filled in once the store has applied its limits. */
  load: LoadInfo;
}

/**
 * Takes the lock on `file` and loads it.
 * @param then - more start-up work under the lock (opening the journal), given the path every file must be read and
 * written through from now on (`file` in the directory locked); the lock is released if it throws.
 * @throws on a damaged file (unless moved aside), a held lock, or an unusable path; the files are left untouched.
 */
export function startFiles(file: string, sinks: RecoverySinks, options: { onDamaged: 'error' | 'move-aside'; now: number },
  then: (recovered: Recovered, locked: string) => void): Started {
  const started = performance.now();
  refuseName(file);
  refuseSymlink(file);
  refuseMountPoint(file);
  const lock = FileLock.acquire(file);
  try {
    const locked = lock.file;
    const recovered = recoverFiles(locked, sinks, { repair: true, onDamaged: options.onDamaged, now: options.now });
    // Only after a good start: a refused one touches nothing, and a save killed between its fsync and its rename
    // left a whole snapshot in its temp file, maybe the best copy of a damaged one.
    const removed = removeStaleTempFiles(locked);
    if (removed > 0) log('removed %d temp files left by an interrupted save', removed);
    then(recovered, locked);
    const { snapshot, journal, movedAside } = recovered;
    const load: LoadInfo = {
      ...snapshot, durationMs: performance.now() - started, sessions: 0, movedAside: movedAside[0],
      journalFiles: journal.files, journalRecords: journal.records, tornBytes: journal.tornBytes,
    };
    if (journal.torn !== undefined) log('dropped a torn journal tail of %d bytes (%s)', journal.tornBytes, 'the last record was cut');
    log('loaded %s snapshot: %d records, %d bytes, then %d journal records in %d ms', snapshot.format, snapshot.records,
      snapshot.bytes, journal.records, Math.round(load.durationMs));
    return { ...recovered, lock, load };
  } catch (err) {
    lock.release();
    throw err;
  }
}
