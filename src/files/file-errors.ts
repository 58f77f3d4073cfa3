import { dirname } from 'node:path';

const HINTS: Record<string, (file: string) => string> = {
  ENOENT: (file) => `its directory "${dirname(file)}" does not exist (create it first)`,
  ENOTDIR: (file) => `a parent of "${file}" is a file, not a directory`,
  EISDIR: () => 'it is a directory, not a file',
  EACCES: () => 'permission denied',
  EPERM: () => 'operation not permitted',
  EROFS: () => 'the file system is read-only',
};

/**
 * Turns an fs error about the snapshot file into one that names the file and says what is wrong,
 * keeping `code` and the original as `cause`. Errors that already say so pass through.
 */
export function describeFileError(file: string, err: unknown): Error {
  if (!(err instanceof Error)) return new Error(`express-memfilestore: cannot use saveFile "${file}": ${String(err)}`);
  const code = (err as NodeJS.ErrnoException).code;
  const hint = code !== undefined && Object.hasOwn(HINTS, code) ? HINTS[code] : undefined;
  if (hint === undefined) return err;
  return wrapFsError(`express-memfilestore: cannot use saveFile "${file}": ${hint(file)} (${code})`, err);
}

/** An error with our message that keeps the fs error's `code` (callers test it) and the error itself as `cause`. */
export function wrapFsError(message: string, cause: unknown): Error {
  const error = new Error(message, { cause });
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined) (error as NodeJS.ErrnoException).code = code;
  return error;
}
