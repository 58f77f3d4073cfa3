import { existsSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const HINTS: Record<string, (file: string) => string> = {
  ENOENT: (file) => `its directory "${dirname(file)}" does not exist (create it first)`,
  ENOTDIR: (file) => `a parent of "${file}" is a file, not a directory`,
  EISDIR: () => 'it is a directory, not a file',
  EACCES: () => 'permission denied',
  EPERM: () => 'operation not permitted',
  EROFS: () => 'the file system is read-only',
  ENOSPC: () => 'no space left on its file system',
  EDQUOT: () => 'the disk quota is exhausted',
  EMFILE: () => 'this process has too many open files',
  ENFILE: () => 'the system has too many open files',
  EIO: () => 'an I/O error from the disk',
};

/**
 * Turns an fs error about the snapshot file, or a file beside it (its journal, its lock), into one that names the
 * saveFile and the file at fault and says what is wrong, keeping `code` and the original as `cause`. Errors that
 * already say so pass through.
 */
export function describeFileError(file: string, err: unknown): Error {
  if (!(err instanceof Error)) return new Error(`express-memfilestore: cannot use saveFile "${file}": ${String(err)}`);
  // Ours already names the file and says what to do (placement.ts).
  if (err.message.startsWith('express-memfilestore: ')) return err;
  const { code, path } = err as NodeJS.ErrnoException;
  const hint = code !== undefined && Object.hasOwn(HINTS, code) ? HINTS[code] : undefined;
  if (hint === undefined) return err;
  // The journal or the lock at fault, not the snapshot: name it, or the user looks at the wrong file. Not the
  // directory itself (a missing one is the ENOENT of its realpath): the hint names it from the saveFile.
  const beside = typeof path === 'string' && path !== file && isBeside(file, path) ? `"${path}" beside it: ` : '';
  // A file beside it that could not be created: the directory is at fault. 1.x wrote only the file itself, so an app
  // may write the file but not its directory, and "permission denied" on a lock that does not exist sent users to it.
  const denied = (code === 'EACCES' || code === 'EPERM') && beside !== '' && !existsSync(path as string)
    ? `: this process needs write access to the directory "${dirname(path as string)}", where the store creates its lock, its ` +
      'journal and a save\'s temp file beside the file (express-memfilestore 1.x wrote only the file itself)' : '';
  return wrapFsError(`express-memfilestore: cannot use saveFile "${file}": ${beside}${hint(beside === '' ? file : path as string)}${denied} (${code})`, err);
}

/**
 * Whether `path` is in the saveFile's directory: as given, or as the lock resolved it (absolute, links resolved), which
 * a relative saveFile, as the README's own example, never matched.
 */
function isBeside(file: string, path: string): boolean {
  if (dirname(path) === dirname(file)) return true;
  try {
    return dirname(path) === realpathSync(dirname(resolve(file)));
  } catch {
    return false;
  }
}

/** An error with our message that keeps the fs error's `code` (callers test it) and the error itself as `cause`. */
export function wrapFsError(message: string, cause: unknown): Error {
  const error = new Error(message, { cause });
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined) (error as NodeJS.ErrnoException).code = code;
  return error;
}
