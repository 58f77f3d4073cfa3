/**
 * An exclusive lock on a snapshot file, so two stores (in this process or another) never overwrite each
 * other's snapshots. The lock is a file `<saveFile>.lock` created exclusively, holding the owner's pid
 * and host (and on Linux its boot and start time, so a pid reused by another process, as after a reboot, is not
 * taken for the owner), then its thread. A lock whose process is gone (kill -9, OOM) is taken over, so it never blocks a
 * restart.
 *
 * The lines, each ended by a newline: pid, host, wall-clock time of the start, `<boot id> <start time>`, namespaces
 * (those two empty where /proc cannot tell), thread (see `ownThread()`). Versions before the thread line read the first
 * five lines alone, so the lines keep their places: each version refuses the other's live lock.
 *
 * Hand-written rather than proper-lockfile: its staleness is an mtime timeout (a restart within it is
 * refused), it needs a timer refreshing the lock forever, and its default on a compromised lock is to throw.
 * A pid check answers "is the owner alive?" directly on this host. A lock written on another host (a
 * container recreated with a new hostname, sharing the volume) cannot be checked that way: the owner
 * refreshes the lock's mtime every {@link HEARTBEAT_MS}, and a foreign lock not refreshed for
 * {@link FOREIGN_STALE_MS} is taken over. Two processes starting at the same instant after a crash could
 * both take over one stale lock; OS locks (flock) would close that window but Node has no API for them.
 */
import { closeSync, constants, fstatSync, openSync, readdirSync, readSync, realpathSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { threadId } from 'node:worker_threads';
import { basename, dirname, join, resolve } from 'node:path';
import { FILE_MODE } from './atomic-writer.js';
import { directoryIdentity } from './placement.js';
import { namespaces, ownIdentity, ownThread, processIdentity, threadRuns } from './process-identity.js';
import { READ_FLAGS } from './read-chunks.js';

/**
 * Locks held by this thread, shared by every copy of this module it may load (module state is per thread: other threads
 * are told apart by the lock's thread line).
 */
const held: Set<string> = ((globalThis as Record<symbol, unknown>)[Symbol.for('express-memfilestore.locks')] ??= new Set<string>()) as Set<string>;

/** A lock file being written is empty for microseconds; one empty for this long was left by a crash. */
const EMPTY_LOCK_GRACE_MS = 5_000;
/** How often the owner refreshes its lock's mtime. */
const HEARTBEAT_MS = 10_000;
/** A lock from another host that was not refreshed for this long belongs to a dead owner. */
const FOREIGN_STALE_MS = 3 * HEARTBEAT_MS;

/** Error when another store holds the file. */
export class FileLockedError extends Error {
  readonly code = 'ERR_SNAPSHOT_LOCKED';
  constructor(file: string, holder: string) {
    // Most often met in a restart or deploy that starts the new process before the old one has exited (a
    // zero-downtime reload): advice for several processes alone sent operators to Redis for what waiting fixes.
    const thread = holder.startsWith(THREAD_HOLDER);
    const restart = holder === 'another store in this process' || thread ? ''
      : '. In a restart or deploy, start the new process once the old one has exited: its close() saves and releases the file';
    super(`express-memfilestore: "${file}" is in use by ${holder}. Each saveFile can belong to one store at a time ` +
      `(use a different file per process${thread ? ' or thread' : ''}, or a shared store such as Redis for several processes)${restart}`);
    this.name = 'FileLockedError';
  }
}

export class FileLock {
  readonly path: string;
  readonly #token: string;
  /** Which directory was locked (placement.ts): the same path may come to name another one. */
  readonly #dir: string | undefined;
  #released = false;
  readonly #heartbeat: NodeJS.Timeout;

  private constructor(path: string, token: string) {
    this.path = path;
    this.#token = token;
    this.#dir = directoryIdentity(dirname(path));
    this.#heartbeat = setInterval(() => {
      try {
        const now = new Date();
        utimesSync(path, now, now);
      } catch {
        // The next beat tries again; a lost lock shows up at the next start, not here.
      }
    }, HEARTBEAT_MS).unref();
  }

  /**
   * The saveFile in the directory the lock was taken in, symbolic links resolved: the files must be written there, not
   * through a link that may be re-pointed at another store's directory (a deploy swapping `current`) while we run.
   */
  get file(): string {
    return this.path.slice(0, -'.lock'.length);
  }

  /** @throws FileLockedError when a live owner holds it; an fs error (ENOENT, ENOTDIR...) when it cannot be created. */
  static acquire(file: string): FileLock {
    // The real directory: the same file reached through a symlinked directory must be the same lock.
    const path = join(realpathSync(dirname(resolve(file))), `${basename(file)}.lock`);
    if (held.has(path)) throw new FileLockedError(file, 'another store in this process');
    const identity = ownIdentity();
    const token = `${process.pid}\n${hostname()}\n${Date.now()}\n${identity ?? '\n'}\n${ownThread()}\n`;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        writeLockFile(path, token);
        held.add(path);
        return new FileLock(path, token);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      refuseForeign(file, path);
      const holder = liveHolder(path);
      if (holder !== undefined) throw new FileLockedError(file, holder);
      try {
        unlinkSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    throw new FileLockedError(file, 'a process that keeps re-creating the lock');
  }

  /**
   * Who holds the lock on `file`, without taking it or changing anything: a description of the live owner,
   * or `undefined` when no live store holds it (no lock file, or a stale one). For tools that only read.
   */
  static holder(file: string): string | undefined {
    let dir: string;
    try {
      dir = realpathSync(dirname(resolve(file)));
    } catch {
      return undefined;
    }
    const path = join(dir, `${basename(file)}.lock`);
    return held.has(path) ? 'another store in this process' : liveHolder(path);
  }

  /**
   * Checks, before a save, that the lock file still holds our token, and puts it back if it is gone (its
   * directory was removed and re-created, say): two stores must never both write the file.
   * @throws FileLockedError when another store has taken it.
   */
  verify(file: string): void {
    let content: string;
    try {
      content = readLock(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.#refuseOtherDirectory(file);
      writeLockFile(this.path, this.#token);
      return;
    }
    if (content !== this.#token) throw new FileLockedError(file, `another store (pid ${content.split('\n')[0] ?? '?'}) that took its lock`);
  }

  /**
   * Without its lock, the directory may be another one by the same path holding another run's files: a volume mounted
   * over it after the start (the app started before its volume was mounted). Putting the lock back there and saving
   * replaced that snapshot with the sessions made since the start, and removed its journals. A directory re-created
   * empty holds nothing to lose, and takes the saves.
   */
  #refuseOtherDirectory(file: string): void {
    const dir = dirname(this.path);
    const now = directoryIdentity(dir);
    if (now === undefined || now === this.#dir) return;
    const name = basename(this.file);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return; // the write of the lock says what is wrong
    }
    if (!names.some((n) => n === name || n.startsWith(`${name}.journal.`))) return;
    const error = new Error(`express-memfilestore: "${file}" is not the file this store started on: its directory is ` +
      'another one now, holding a snapshot or journals this store did not write (a volume mounted on it after the ' +
      'start?). They are left untouched, and saves refused: sessions stay in memory until the app is restarted, which ' +
      'loads that snapshot (the sessions made since the start are lost then). Start the app once its volume is mounted');
    throw Object.assign(error, { code: 'ERR_SNAPSHOT_LOCKED' });
  }

  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    clearInterval(this.#heartbeat);
    held.delete(this.path);
    try {
      if (readLock(this.path) === this.#token) unlinkSync(this.path);
    } catch {
      // Already gone: nothing to release.
    }
  }
}

/**
 * Refuses to take over a file by the lock's name that holds sessions: 1.x made no lock, so a 1.x app could use
 * `<saveFile>.lock` as its own saveFile, and taking it for a stale lock removed that app's sessions. Anything else a
 * lock of ours could not hold is still taken for a damaged lock.
 */
function refuseForeign(file: string, path: string): void {
  let content: string;
  try {
    content = readLock(path);
  } catch {
    return; // gone, or not readable: liveHolder says what it is
  }
  if (!content.startsWith('express-memfilestore-') && !content.trimStart().startsWith('{')) return;
  const error = new Error(`express-memfilestore: cannot use saveFile "${file}": "${path}" beside it, where the store keeps ` +
    'its lock, is not a lock but a session file (another app\'s saveFile, as express-memfilestore 1.x, which made no ' +
    'lock, allowed?); it was left untouched. Move it elsewhere (and that app\'s saveFile with it), or give this ' +
    'saveFile another name (EEXIST)');
  throw Object.assign(error, { code: 'EEXIST', path });
}

/** Not followed, never waited on: a FIFO by the lock's name would otherwise hold the start for ever. */
const LOCK_READ_FLAGS = READ_FLAGS | (constants.O_NOFOLLOW ?? 0);
/** More than a lock holds (pid, a host name of at most 255 bytes, times, namespaces), and all that is read of one. */
const LOCK_MAX_BYTES = 4096;

/**
 * A lock file's content, as far as a lock goes; empty for what no store writes (a symbolic link, a FIFO, a device),
 * which is then judged as a lock left empty by a crash. Anyone who can write the directory can put one there: read
 * whole and through links, a link to /dev/zero never ended (the process died of memory), and one to a large file was
 * read all (ERR_STRING_TOO_LONG).
 */
function readLock(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, LOCK_READ_FLAGS);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') return '';
    throw err;
  }
  try {
    // A directory is left to the read, which fails with EISDIR: no lock can be made there.
    const stat = fstatSync(fd);
    if (!stat.isFile() && !stat.isDirectory()) return '';
    const bytes = Buffer.allocUnsafe(LOCK_MAX_BYTES);
    let filled = 0;
    while (filled < bytes.length) {
      const n = readSync(fd, bytes, filled, bytes.length - filled, filled);
      if (n === 0) break;
      filled += n;
    }
    return bytes.toString('utf8', 0, filled);
  } finally {
    closeSync(fd);
  }
}

/** Creates the lock file exclusively with `token`; a lock file that could not be written whole is removed. */
function writeLockFile(path: string, token: string): void {
  const fd = openSync(path, 'wx', FILE_MODE);
  try {
    writeSync(fd, token);
  } catch (err) {
    closeSync(fd);
    unlinkSync(path);
    // A write's error names no file (ENOSPC on a full disk): name the lock, or the start's error cannot say which.
    if (err instanceof Error) (err as NodeJS.ErrnoException).path ??= path;
    throw err;
  }
  closeSync(fd);
}

/** Age of a lock file in ms; a file gone meanwhile is infinitely old (stale). */
function ageOf(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return Infinity;
    throw err;
  }
}

/** Describes the live owner of an existing lock file, or `undefined` when the lock is stale. */
function liveHolder(path: string): string | undefined {
  let content: string;
  try {
    content = readLock(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    // Lock files are 0600: one we cannot read belongs to another user's store.
    if (code === 'EACCES' || code === 'EPERM') return 'a process of another user (its lock file is not readable)';
    throw err;
  }
  const [pidText = '', host = '', , written = '', space = '', thread = ''] = content.split('\n');
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0) {
    return ageOf(path) < EMPTY_LOCK_GRACE_MS ? 'a process that is creating it right now' : undefined;
  }
  if (host !== hostname()) {
    return ageOf(path) < FOREIGN_STALE_MS ? `process ${pid} on host ${host} (a lock not refreshed for ${FOREIGN_STALE_MS / 1000} s is taken over)` : undefined;
  }
  if (pid === process.pid) return ownPidHolder(path, written, space, thread);
  let holder: string;
  try {
    process.kill(pid, 0);
    holder = `running process ${pid}`;
  } catch (err) {
    // EPERM: alive, but owned by another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
    holder = `running process ${pid} (another user)`;
  }
  // A live pid is not yet a live owner: after a reboot the dead owner's pid is often held by a daemon started at boot,
  // and the restart was refused until someone removed the lock by hand. A lock that names its writer's boot and start
  // time belongs to a process that no longer runs when the pid's process differs. Where that cannot be read (not
  // Linux, /proc hiding other users' processes, a lock written before it was recorded or damaged), the pid alone decides.
  if (!/^\S+ \d+$/.test(written)) return holder;
  // A pid and its start time mean something only in the namespaces that wrote them: a store in a container (its own
  // pid namespace) under the host's name wrote pid 1, which here is init, started at another time, and the live
  // store's lock was taken over. Only a lock from our own namespaces is judged by them.
  if (space === '' || space !== namespaces()) return holder;
  const current = processIdentity(String(pid));
  return current !== undefined && current !== written ? undefined : holder;
}

/** How a lock held by another thread of this process is described; such a refusal gives no restart advice. */
const THREAD_HOLDER = 'a store in another thread of this process';

/**
 * Describes the holder of a lock naming our own pid that this thread does not hold, or `undefined` when it is stale: a
 * previous run of this program that had the same pid (as in containers), or a worker thread that has ended. Worker
 * threads share the pid: a lock of another one's was taken for a previous run's, and two stores wrote one file.
 */
function ownPidHolder(path: string, written: string, space: string, thread: string): string | undefined {
  const own = ownIdentity();
  const ours = own !== undefined && `${written}\n${space}` === own;
  // On Linux the boot and start time tell a previous run from this process.
  if (own !== undefined && /^\S+ \d+$/.test(written) && !ours) return undefined;
  const [, id, tid, start] = /^(\d+)(?: (\d+) (\d+))?$/.exec(thread) ?? [];
  // No thread line: a version before it wrote the lock; this process only if the identity is ours (another copy of
  // the store, in another thread), a previous run otherwise, as that version judged it.
  if (id === undefined) return ours ? THREAD_HOLDER : undefined;
  // This thread's lock, not in `held`: a previous run's.
  if (Number(id) === threadId) return undefined;
  // A worker that ended without close() left it, as a crashed process would.
  const runs = threadRuns(tid, start);
  if (runs === false) return undefined;
  // Where /proc cannot tell (not Linux; a pid namespace without its own /proc, where node is pid 1 at every run), the
  // heartbeat does, as for another host's lock: refused until the process ended, a previous run's worker's lock was
  // refused at every restart, for good.
  if (runs === undefined && ageOf(path) >= FOREIGN_STALE_MS) return undefined;
  return `${THREAD_HOLDER} (thread ${id}; a worker thread's store holds it until its close() or the worker's end${
    runs === undefined ? `, or here, where a thread's end cannot be seen, until its lock is not refreshed for ${FOREIGN_STALE_MS / 1000} s` : ''})`;
}
