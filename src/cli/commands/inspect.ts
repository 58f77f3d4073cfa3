import { FileLock } from '../../files/file-lock.js';
import { isExpired } from '../../store/lru-entries.js';
import type { Command } from '../command.js';
import { readStoreFile } from '../read-store-file.js';

const HOUR = 3_600_000;
const LARGEST = 5;

/** Counts and sizes of a session file, never an id or a value. Read-only, like verify. */
export const inspect: Command = {
  name: 'inspect',
  summary: 'show format, counts, sizes and expiries of a session file (read-only)',
  usage: 'inspect <file> [--json]',
  help: '',
  options: {},
  positionals: ['file'],
  run({ out, args, now }) {
    const file = args.positionals[0] as string;
    const read = readStoreFile(file, now);
    const expiries = { hour: 0, day: 0, week: 0, later: 0, never: 0 };
    let expired = read.droppedExpired;
    let valueBytes = 0;
    const sizes: number[] = [];
    for (const { expires, value } of read.sessions.values()) {
      if (isExpired(expires, now)) {
        expired++;
        continue;
      }
      const size = Buffer.byteLength(value);
      valueBytes += size;
      sizes.push(size);
      const left = expires - now;
      if (expires === 0) expiries.never++;
      else if (left <= HOUR) expiries.hour++;
      else if (left <= 24 * HOUR) expiries.day++;
      else if (left <= 7 * 24 * HOUR) expiries.week++;
      else expiries.later++;
    }
    sizes.sort((a, b) => b - a);
    const largest = sizes.slice(0, LARGEST);
    const heldBy = FileLock.holder(file) ?? null;
    const format = read.load.format === '1.x' ? '1.x' : 'snapshot';
    const version = read.load.format === '1.x' ? null : 1;
    const writtenAt = read.load.writtenAt ?? null;
    const data = {
      file, format, version, writtenAt, sessions: sizes.length, expired, bytes: read.size, sessionBytes: valueBytes,
      largest, expiries, journal: { records: read.journalRecords }, heldBy,
    };
    out.result([
      `file:        ${file}`,
      `format:      ${format === '1.x' ? 'express-memfilestore 1.x JSON' : `snapshot, version ${version}`}`,
      `written at:  ${writtenAt ?? 'unknown'}`,
      `sessions:    ${sizes.length} live, ${expired} expired`,
      `bytes:       ${read.size} (sessions ${valueBytes})`,
      `largest:     ${largest.length === 0 ? '-' : largest.map((n) => `${n} B`).join(', ')}`,
      `expire:      ${expiries.hour} within an hour, ${expiries.day} within a day, ${expiries.week} within a week, ` +
        `${expiries.later} later, ${expiries.never} never`,
      `journal:     ${read.journalRecords} records`,
      `in use by:   ${heldBy ?? 'no running store'}`,
    ].join('\n'), data);
    return Promise.resolve(0);
  },
};
