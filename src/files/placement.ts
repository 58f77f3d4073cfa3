/**
 * Placements of `saveFile` that a start can see will never save, refused before anything is created beside the file.
 * 1.x wrote its file in place; 2.x writes a temp file beside it and renames it over, and keeps its journal and lock
 * beside it too, so setups that worked for 1.x can fail every save of 2.x: those are caught here, with what to do.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { wrapFsError } from './file-errors.js';

/**
 * Refuses a `saveFile` that is a mount point.
 * @throws an Error with the code 'EBUSY' (what the save's rename would get) naming the file and what to do.
 */
export function refuseMountPoint(file: string): void {
  let dir: string;
  try {
    dir = realpathSync(dirname(resolve(file)));
  } catch {
    return; // a missing directory is refused by the lock, with its own message
  }
  const path = join(dir, basename(file));
  if (!isMountPoint(path)) return;
  // One file mounted into place (Docker's `-v ./sessions.json:/app/sessions.json`, a Kubernetes subPath): 1.x wrote it in
  // place, but a rename over a mount point fails (EBUSY), so every save failed, every savePeriod, while the journals
  // grew beside a snapshot never written, outside the mount, lost with the container.
  throw wrapFsError(`express-memfilestore: cannot use saveFile "${file}": it is a mount point (a single file mounted ` +
    'into place, as docker run -v ./sessions.json:/app/sessions.json or a Kubernetes subPath mount does). A save ' +
    'replaces the file by renaming a new one over it, which the system refuses on a mount point, and the journal and ' +
    'lock kept beside it would be outside the mount. Mount the directory that holds the file instead, and point ' +
    'saveFile into it (EBUSY)', Object.assign(new Error(`EBUSY: mount point, rename '${path}'`), { code: 'EBUSY', path }));
}

/**
 * Whether `path`, a regular file, is a mount point: only the mount table tells (Linux; elsewhere no container mounts
 * single files). Not a device other than its directory's: a bind mount from the same file system keeps the device, and
 * an overlay whose layers are on other file systems gives its files theirs (without xino), as a live system's does.
 */
function isMountPoint(path: string): boolean {
  if (process.platform !== 'linux') return false;
  try {
    // A missing file is created by the first save; a directory, a FIFO... are refused with their own messages.
    if (!statSync(path).isFile()) return false;
  } catch {
    return false;
  }
  return mountTable()?.some((mount) => mount.point === path) === true;
}

/** The mounts this process sees, from /proc/self/mountinfo (Linux): `undefined` where it cannot be read. */
function mountTable(): { id: string; point: string }[] | undefined {
  let table: string;
  try {
    table = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return undefined;
  }
  const mounts: { id: string; point: string }[] = [];
  for (const line of table.split('\n')) {
    const [id, , , , point] = line.split(' ');
    // The mount point, with space, tab, newline and backslash written as octal escapes.
    if (id !== undefined && point !== undefined) {
      mounts.push({ id, point: point.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))) });
    }
  }
  return mounts;
}

/**
 * Which directory `dir` (a real path) is, to tell when the same path comes to name another one: on Linux the mounts on
 * it and its parents (a volume mounted over it after the start adds one; inode numbers would not do, an overlay whose
 * layers are on other file systems changes a directory's when its inode leaves the cache), elsewhere its device and
 * inode. `undefined` when it cannot be told.
 */
export function directoryIdentity(dir: string): string | undefined {
  const mounts = process.platform === 'linux' ? mountTable() : undefined;
  if (mounts !== undefined) {
    const within = (point: string): boolean => dir === point || dir.startsWith(point.endsWith('/') ? point : `${point}/`);
    return mounts.filter((mount) => within(mount.point)).map((mount) => mount.id).join(' ');
  }
  try {
    const st = statSync(dir, { bigint: true });
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/** The longest name a file may have on the file systems in use (ext4, XFS, Btrfs, tmpfs, APFS, NTFS). */
export const NAME_MAX = 255;
/** The longest path Linux takes, its terminating NUL not counted. */
const PATH_MAX = 4095;

/**
 * The most bytes the store's own names add to the saveFile's: a save's temp file `.tmp-<pid>-<12 hex digits>` (pids
 * are at most 7 digits on Linux), and the journal's `.journal.<generation>` (16 digits at most) as long.
 */
function suffixBytes(): number {
  return '.tmp-'.length + Math.max(7, String(process.pid).length) + '-'.length + 12;
}

/**
 * Refuses a `saveFile` whose name, or path, the system takes but not the names of the files beside it: the start
 * went well, then every save failed (ENAMETOOLONG), and close() with it.
 * @throws an Error with the code 'ENAMETOOLONG' naming the file and the length it may have.
 */
export function refuseLongName(file: string): void {
  const room = suffixBytes();
  // NTFS counts a name in UTF-16 units, the others in bytes (UTF-8).
  const name = process.platform === 'win32' ? basename(file).length : Buffer.byteLength(basename(file));
  if (name + room > NAME_MAX) {
    throw tooLong(file, `its name is ${name} bytes, and the names of the files kept beside it (a save's temp file ` +
      `"<name>.tmp-<pid>-<random>", the journal "<name>.journal.<n>") are up to ${room} bytes longer, past the ` +
      `${NAME_MAX} bytes a file name may have: use a name of at most ${NAME_MAX - room} bytes`);
  }
  if (process.platform !== 'linux') return;
  let path: string;
  try {
    path = join(realpathSync(dirname(resolve(file))), basename(file));
  } catch {
    return; // a missing directory is refused by the lock, with its own message
  }
  const bytes = Buffer.byteLength(path);
  if (bytes + room > PATH_MAX) {
    throw tooLong(file, `its path "${path}" is ${bytes} bytes, and the paths of the files kept beside it are up to ` +
      `${room} bytes longer, past the ${PATH_MAX} bytes a path may have: use a path of at most ${PATH_MAX - room} bytes`);
  }
}

function tooLong(file: string, why: string): Error {
  return wrapFsError(`express-memfilestore: cannot use saveFile "${file}": ${why} (ENAMETOOLONG)`,
    Object.assign(new Error(`ENAMETOOLONG: ${why}`), { code: 'ENAMETOOLONG', path: file }));
}

/** The names the store gives the files beside `<saveFile>`; the stem is that saveFile's name. */
const OWN_NAME = /^(.+)(\.lock|\.journal\.(?:0|[1-9]\d{0,15})|\.tmp-\d+-[0-9a-f]{12})$/;

/**
 * Refuses a `saveFile` named as one of the files a store keeps beside another saveFile in the same directory: a store
 * on that one would take it for its lock (and remove it as a stale one), its journal (and remove it once absorbed) or
 * a temp file a killed save left (removed at start). 1.x made no such files, so two 1.x apps could use those names.
 * @throws an Error with the code 'EINVAL' naming the file and the saveFile it collides with.
 */
export function refuseOwnName(file: string): void {
  const match = OWN_NAME.exec(basename(file));
  if (match === null) return;
  const [, stem = '', suffix = ''] = match;
  throw wrapFsError(`express-memfilestore: cannot use saveFile "${file}": its name is that of a file a store keeps beside ` +
    `its saveFile (its ${suffix.startsWith('.lock') ? 'lock' : suffix.startsWith('.journal') ? 'journal' : 'temp file'}), ` +
    `and a store on "${stem}" in the same directory would take it for its own and remove it: give it another name (EINVAL)`,
  Object.assign(new Error(`EINVAL: the name of a store's own file, '${file}'`), { code: 'EINVAL', path: file }));
}

/**
 * Refuses a `saveFile` ending in a path separator: that names a directory (a setting meant for one), and the store
 * wrote `<dir>`, `<dir>.journal.<n>` and `<dir>.lock` beside it, as path.basename drops the separator.
 * @throws an Error with the code 'EISDIR', what the system answers for a file created by such a name.
 */
export function refuseDirectoryName(file: string): void {
  if (!(file.endsWith('/') || (process.platform === 'win32' && file.endsWith('\\')))) return;
  throw wrapFsError(`express-memfilestore: cannot use saveFile "${file}": it ends in a path separator, which names a ` +
    'directory: name the file in it, such as "data/sessions.db" (EISDIR)',
  Object.assign(new Error(`EISDIR: a directory's name, '${file}'`), { code: 'EISDIR', path: file }));
}

/** The refusals that need only the name: a directory's, one too long, one of a store's own files. */
export function refuseName(file: string): void {
  refuseDirectoryName(file);
  refuseLongName(file);
  refuseOwnName(file);
}
