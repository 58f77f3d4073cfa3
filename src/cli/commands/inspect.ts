import { fileReport } from './file-report.js';

const HOUR = 3_600_000;
const LARGEST = 5;
const VERSIONS = { 'none': null, 'v1': 1, 'v2': 2, '1.x': null } as const;

/** Counts and sizes of a session file, never an id or a value. Read-only, like verify. */
export const inspect = fileReport({
  name: 'inspect',
  summary: 'show format, counts, sizes and expiries of a session file (read-only)',
  report({ file, read, live, expired, heldBy, now }, out) {
    const expiries = { hour: 0, day: 0, week: 0, later: 0, never: 0 };
    let valueBytes = 0;
    const sizes: number[] = [];
    for (const { expires, value } of live) {
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
    // 'none': a store that never saved a snapshot (killed in its first savePeriod) left only its journal.
    const { format } = read.load;
    const version = VERSIONS[format];
    const writtenAt = read.load.writtenAt ?? null;
    // The keys verify and the store's 'load' event use for the same facts, so one script can read all three.
    const data = {
      file, format, version, writtenAt, sessions: sizes.length, expired, bytes: read.size, sessionBytes: valueBytes,
      largest, expiries, journalFiles: read.journal.files, journalRecords: read.journalRecords, tornBytes: read.journal.tornBytes,
      heldBy: heldBy ?? null,
    };
    out.result([
      `file:        ${file}`,
      `format:      ${format === '1.x' ? 'express-memfilestore 1.x JSON' : format === 'none' ? 'no snapshot yet (journal only)'
        : `snapshot, version ${version}`}`,
      `written at:  ${writtenAt ?? 'unknown'}`,
      `sessions:    ${sizes.length} live, ${expired} expired`,
      `bytes:       ${read.size} (sessions ${valueBytes})`,
      `largest:     ${largest.length === 0 ? '-' : largest.map((n) => `${n} B`).join(', ')}`,
      `expire:      ${expiries.hour} within an hour, ${expiries.day} within a day, ${expiries.week} within a week, ` +
        `${expiries.later} later, ${expiries.never} never`,
      `journal:     ${read.journalRecords} records in ${read.journal.files} files` +
        (read.journal.tornBytes === 0 ? '' : `, a torn last record of ${read.journal.tornBytes} bytes (dropped at the next start)`),
      `in use by:   ${heldBy ?? 'no running store'}`,
    ].join('\n'), data);
  },
});
