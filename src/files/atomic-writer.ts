/**
 * Replaces a file atomically, the way Redis writes its snapshots: write a temp file with a unique name in
 * the same directory, fsync it, rename it over the target, fsync the directory. A crash at any instant
 * leaves either the old or the new complete file under the target's name.
 *
 * Hand-written rather than write-file-atomic: that takes the whole content as one buffer (we stream
 * chunks and yield between them) and does not fsync the directory, so a power loss can lose the rename.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { FileHandle } from 'node:fs/promises';
import type { FsPromises } from '../option-types.js';

/** Owner read/write only: sessions are credentials. */
export const FILE_MODE = 0o600;
const RENAME_RETRIES = 8;

function tempPrefix(file: string): string {
  return `${basename(file)}.tmp-`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Sink the producer writes its chunks into. */
export type WriteChunk = (chunk: Buffer) => Promise<void>;

/**
 * Writes what `produce` gives to a temp file and atomically puts it in place of `file`.
 * On any failure the temp file is removed and `file` is left as it was.
 * @returns the number of bytes written.
 */
export async function writeFileAtomic(fs: FsPromises, file: string, produce: (write: WriteChunk) => Promise<void>): Promise<number> {
  const temp = join(dirname(file), `${tempPrefix(file)}${process.pid}-${randomBytes(6).toString('hex')}`);
  const handle = await fs.open(temp, 'wx', FILE_MODE);
  let bytes = 0;
  try {
    await produce(async (chunk) => {
      bytes += await writeAll(handle, chunk);
    });
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await fs.unlink(temp).catch(() => undefined);
    throw err;
  }
  try {
    await handle.close();
    await renameWithRetry(fs, temp, file);
  } catch (err) {
    await fs.unlink(temp).catch(() => undefined);
    throw err;
  }
  try {
    await syncDirectory(fs, dirname(file));
  } catch (err) {
    throw new DirectorySyncError(err);
  }
  return bytes;
}

/** The file was renamed into place, but the directory fsync that makes the rename durable failed. */
export class DirectorySyncError extends Error {
  readonly code: string | undefined;
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'DirectorySyncError';
    this.code = (cause as NodeJS.ErrnoException | undefined)?.code;
  }
}

async function writeAll(handle: FileHandle, chunk: Buffer): Promise<number> {
  let done = 0;
  while (done < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, done, chunk.length - done);
    if (bytesWritten <= 0) throw new Error('express-memfilestore: write made no progress');
    done += bytesWritten;
  }
  return done;
}

/** On Windows a rename over a file someone holds open fails for a moment with EPERM/EBUSY: retry, bounded. */
async function renameWithRetry(fs: FsPromises, from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await fs.rename(from, to);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const transient = code === 'EPERM' || code === 'EBUSY' || code === 'EACCES';
      if (!transient || process.platform !== 'win32' || attempt >= RENAME_RETRIES) throw err;
      await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt));
    }
  }
}

/** Makes the rename itself durable. Windows cannot open a directory for fsync; it needs no such step. */
export async function syncDirectory(fs: FsPromises, dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } catch (err) {
    if (!cannotSyncDirectories(err)) throw err;
  } finally {
    await handle.close();
  }
}

/**
 * Whether a directory's fsync failed because its file system does not do it (some network and FUSE ones: EINVAL,
 * ENOTSUP). The rename or the creation is done, and nothing more can make it durable there: as Redis and PostgreSQL
 * do, it is not an error. Taken for one, every save and every journal failed on such a file system, for good.
 */
export function cannotSyncDirectories(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EINVAL' || code === 'ENOTSUP' || code === 'EOPNOTSUPP';
}

/**
 * Removes temp files a killed process left next to `file`. Only safe while holding the file's lock.
 * @returns how many were removed.
 */
export function removeStaleTempFiles(file: string): number {
  // Exactly the names writeFileAtomic makes: never another file that merely starts the same way.
  const ours = new RegExp(`^${escapeRegExp(tempPrefix(file))}\\d+-[0-9a-f]{12}$`);
  let removed = 0;
  for (const name of readdirSync(dirname(file))) {
    if (!ours.test(name)) continue;
    try {
      unlinkSync(join(dirname(file), name));
      removed++;
    } catch {
      // Gone already, or not ours to remove: the next start tries again.
    }
  }
  return removed;
}
