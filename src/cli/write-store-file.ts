/**
 * Writes sessions as a store's snapshot, with the store's own writer: temp file, fsync, rename, directory
 * fsync, mode 0600. The file's lock is held meanwhile, so no store can start on it halfway.
 */
import { unlinkSync } from 'node:fs';
import { listJournals } from '../files/journal-reader.js';
import { writeFileAtomic } from '../files/atomic-writer.js';
import { FileLock, FileLockedError } from '../files/file-lock.js';
import { refuseMountPoint, refuseName } from '../files/placement.js';
import { writeSnapshot } from '../files/snapshot-writer.js';
import { CliError } from './errors.js';
import { holdLock, trackedFs } from './interrupted.js';
import { lockedName, type SavedSession } from './read-store-file.js';

/**
 * Takes the lock of `file`, or explains who holds it.
 * @param writing - the file is to be written: refuse one the store would refuse to start on.
 * @throws CliError when a running store holds it, or its directory cannot be used.
 */
export function lockFile(file: string, { writing }: { writing: boolean }): FileLock {
  const locked = lockedName(file);
  if (writing && locked !== file) {
    // The rename that puts the new file in place replaces the link, not its target: the import said it was done, and
    // the file the link names, the one an app loads, kept its sessions.
    throw new CliError(`cannot use "${file}": it is a symbolic link, which a store refuses as its saveFile, and writing ` +
      `would replace the link, not the file it points to: give that file, "${locked}"`);
  }
  try {
    // A file the store would refuse to start on is not written: the import would say it was done. (One read only, for
    // a migration off it, may be anywhere: a 1.x file mounted into a container, say.)
    if (writing) {
      refuseName(file);
      refuseMountPoint(file);
    }
    return holdLock(FileLock.acquire(locked));
  } catch (err) {
    if (err instanceof FileLockedError) {
      throw new CliError(`"${file}" is in use by ${FileLock.holder(locked) ?? 'a running store'}: stop the app first ` +
        '(sessions it changes meanwhile would be lost)');
    }
    const code = (err as NodeJS.ErrnoException).code;
    // The store's refusals (placement.ts) begin as this one does: said once.
    const ours = `express-memfilestore: cannot use saveFile "${file}": `;
    const message = (err as Error).message;
    throw new CliError(`cannot use "${file}": ${code === 'ENOENT' ? 'its directory does not exist' : message.startsWith(ours) ? message.slice(ours.length) : message}`);
  }
}

/**
 * Writes `sessions` (least recently used first) to `file` atomically, as a snapshot that stands alone, then removes
 * the journals beside it: what they held was read into `sessions` (read-store-file.ts), and a journal left beside
 * a snapshot it does not continue would make the next start refuse the file.
 * @returns bytes written.
 */
export async function writeStoreFile(file: string, sessions: Map<string, SavedSession>, now: number): Promise<number> {
  const ids: string[] = [];
  const values: string[] = [];
  const expires: number[] = [];
  for (const [id, session] of sessions) {
    ids.push(id);
    values.push(session.value);
    expires.push(session.expires);
  }
  let bytes: number;
  try {
    bytes = await writeFileAtomic(trackedFs, file, (write) => writeSnapshot({ ids, values, expires }, now, undefined, write));
  } catch (err) {
    throw new CliError(`could not write "${file}" (it is unchanged): ${(err as Error).message}`);
  }
  for (const journal of listJournals(file).filter((f) => !f.foreign)) {
    try {
      unlinkSync(journal.path);
    } catch (err) {
      throw new CliError(`wrote "${file}" but could not remove the old journal "${journal.path}" (remove it before starting the app): ${(err as Error).message}`);
    }
  }
  return bytes;
}
