/**
 * Who wrote a lock, beyond its pid (file-lock.ts): on Linux the boot and start time of the process, its namespaces, and
 * the thread it ran on; elsewhere the thread alone. Read from /proc, where it shows this process's own pid namespace.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { threadId } from 'node:worker_threads';

let ownIdentityCache: string | null | undefined;

/** `<boot id> <start time>\n<namespaces>`: the namespaces on a line of their own, which a lock without them lacks. */
export function ownIdentity(): string | undefined {
  if (ownIdentityCache === undefined) {
    const identity = processIdentity('self');
    const space = namespaces();
    ownIdentityCache = identity === undefined || space === undefined ? null : `${identity}\n${space}`;
  }
  return ownIdentityCache ?? undefined;
}

/**
 * The thread a lock is written on: `<threadId>` (node's, 0 for the main thread, never reused in a process) and, where
 * /proc tells, ` <OS thread id> <its start time>`, so that a lock left by a worker that has ended is known for one.
 * Computed on each call: the module may be shared by threads of a bundle, and a worker is one OS thread for its life.
 */
export function ownThread(): string {
  if (ownIdentity() === undefined) return String(threadId);
  try {
    // '<pid>/task/<tid>', the calling thread's (Linux 3.17 and later).
    const tid = /^\d+\/task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'))?.[1];
    const start = tid === undefined ? undefined : startTime(`/proc/self/task/${tid}/stat`);
    return start === undefined ? String(threadId) : `${threadId} ${tid} ${start}`;
  } catch {
    return String(threadId);
  }
}

/**
 * Whether the thread a lock names by `<threadId> <tid> <start>` (see {@link ownThread}) still runs in this process:
 * `undefined` when the lock does not say or /proc cannot tell.
 */
export function threadRuns(tid: string | undefined, start: string | undefined): boolean | undefined {
  if (tid === undefined || start === undefined || ownIdentity() === undefined) return undefined;
  return startTime(`/proc/self/task/${tid}/stat`) === start;
}

/**
 * This process's pid and time namespaces (the time one shifts the start times /proc shows), as /proc names them, or
 * `undefined` where /proc cannot tell, or shows another pid namespace than ours (mounted by a parent namespace): there
 * `/proc/<pid>` is not the process that `<pid>` names here.
 */
export function namespaces(): string | undefined {
  try {
    if (readlinkSync('/proc/self') !== String(process.pid)) return undefined;
    let time = '';
    try {
      time = ` ${readlinkSync('/proc/self/ns/time')}`;
    } catch {
      // Linux before 5.6 has no time namespaces.
    }
    return `${readlinkSync('/proc/self/ns/pid')}${time}`;
  } catch {
    return undefined;
  }
}

/**
 * `<boot id> <start time>` of a process on Linux: the start time (clock ticks since boot) tells two processes with the
 * same pid apart, and the boot id two boots; no wall clock is involved, so a clock stepped at boot cannot confuse it.
 * `undefined` where /proc cannot tell.
 */
export function processIdentity(pid: string): string | undefined {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const start = startTime(`/proc/${pid}/stat`);
    return boot === '' || start === undefined ? undefined : `${boot} ${start}`;
  } catch {
    return undefined;
  }
}

/** The start time in a /proc `stat` file (a process's or a thread's), or `undefined` when it is gone or unreadable. */
function startTime(path: string): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  // Field 2, the command name, is in parentheses and may hold spaces or ')': the fields after the last ')' start at
  // field 3, so the start time, field 22, is the 20th of them.
  const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  return start !== undefined && /^\d+$/.test(start) ? start : undefined;
}
