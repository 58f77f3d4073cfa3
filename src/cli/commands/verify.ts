import { isExpired } from '../../store/lru-entries.js';
import { FileLock } from '../../files/file-lock.js';
import type { Command } from '../command.js';
import { readStoreFile } from '../read-store-file.js';

/** Reads the file as a start would, without the lock and without changing anything: exit 0 whole, 1 damaged. */
export const verify: Command = {
  name: 'verify',
  summary: 'check that a session file is whole (read-only; works while the app runs)',
  usage: 'verify <file>',
  help: '',
  options: {},
  positionals: ['file'],
  run({ out, args, now }) {
    const file = args.positionals[0] as string;
    const read = readStoreFile(file, now);
    let expired = read.droppedExpired;
    for (const session of read.sessions.values()) if (isExpired(session.expires, now)) expired++;
    const live = read.sessions.size + read.droppedExpired - expired;
    const heldBy = FileLock.holder(file);
    out.result(`ok: "${file}" is whole (${read.load.format === '1.x' ? 'express-memfilestore 1.x file' : 'snapshot format 1'}, ` +
      `${read.load.records} records, ${read.size} bytes; ${live} live, ${expired} expired)` +
      (heldBy === undefined ? '' : `; in use by ${heldBy}`),
    { file, format: read.load.format, records: read.load.records, sessions: live, expired, bytes: read.size,
      journalRecords: read.journalRecords, heldBy: heldBy ?? null });
    return Promise.resolve(0);
  },
};
