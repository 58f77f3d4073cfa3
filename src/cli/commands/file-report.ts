/**
 * The shape verify and inspect share: one positional `<file>`, no flags of their own, read-only. The file is read
 * as a start would (read-store-file.ts), without the lock, and split into live and expired sessions with the
 * run's single `now`; each command then only words what it reports.
 */
import { isExpired } from '../../store/lru-entries.js';
import type { Command } from '../command.js';
import type { Output } from '../output.js';
import { holderOf, readStoreFile, type SavedSession, type StoreFile } from '../read-store-file.js';

/** What a read-only look at a session file found. */
export interface FileFacts {
  file: string;
  read: StoreFile;
  /** Live sessions, least recently used first. */
  live: SavedSession[];
  /** Expired sessions, those a 1.x loader dropped included. */
  expired: number;
  /** The running store holding the file's lock, if any. */
  heldBy: string | undefined;
  now: number;
}

/** A read-only command on one session file that reports what {@link FileFacts} found. */
export function fileReport(spec: Pick<Command, 'name' | 'summary'> & { report(facts: FileFacts, out: Output): void }): Command {
  return {
    name: spec.name,
    summary: spec.summary,
    usage: `${spec.name} <file>`,
    help: '',
    options: {},
    positionals: ['file'],
    run({ out, args, now }) {
      const file = args.positionals[0] as string;
      const read = readStoreFile(file, now);
      const live: SavedSession[] = [];
      let expired = read.droppedExpired;
      for (const session of read.sessions.values()) {
        if (isExpired(session.expires, now)) expired++;
        else live.push(session);
      }
      spec.report({ file, read, live, expired, heldBy: holderOf(file), now }, out);
      return Promise.resolve(0);
    },
  };
}
