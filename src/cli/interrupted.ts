/**
 * What a command leaves on disk if a signal ends it (Ctrl-C, SIGTERM, SIGHUP): the temp file of an atomic write, a
 * copy of sessions (credentials) that nothing else would ever remove beside an `export --out` file, and the lock of the
 * session file `import` and `migrate` hold. bin.ts removes them, then lets the signal end the process.
 */
import { unlinkSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import type { FileLock } from '../files/file-lock.js';
import type { FsPromises } from '../option-types.js';

const temps = new Set<string>();
const locks = new Set<FileLock>();

/** fs/promises for writeFileAtomic that remembers the temp file it created ('wx') until it is renamed or removed. */
export const trackedFs: FsPromises = {
  open: async (path, flags, mode) => {
    // Remembered before the file exists: a signal handled between its creation and this promise's settling found no
    // temp file to remove (1 run in 4 of test/cli-interrupted left one).
    const temp = flags === 'wx' ? String(path) : undefined;
    if (temp !== undefined) temps.add(temp);
    try {
      return await open(path, flags, mode);
    } catch (err) {
      if (temp !== undefined) temps.delete(temp);
      throw err;
    }
  },
  rename: async (from, to) => {
    await rename(from, to);
    temps.delete(String(from));
  },
  unlink: async (path) => {
    try {
      await unlink(path);
    } finally {
      temps.delete(String(path));
    }
  },
};

/** Remembers a lock the command holds (released twice is harmless: a lock removes only its own file). */
export function holdLock(lock: FileLock): FileLock {
  locks.add(lock);
  return lock;
}

/** Removes the temp files being written and releases the locks held. Synchronous: it runs in a signal handler. */
export function cleanUpAfterSignal(): void {
  for (const temp of temps) {
    try {
      unlinkSync(temp);
    } catch {
      // Renamed into place or removed between the write's last step and the signal: nothing to clean.
    }
  }
  temps.clear();
  for (const lock of locks) lock.release();
  locks.clear();
}
