import { fileReport } from './file-report.js';

const FORMATS = { 'none': 'no snapshot', 'v1': 'snapshot format 1', 'v2': 'snapshot format 2', '1.x': 'express-memfilestore 1.x file' } as const;

/** Reads the file as a start would, without the lock and without changing anything: exit 0 whole, 1 damaged. */
export const verify = fileReport({
  name: 'verify',
  summary: 'check that a session file is whole (read-only; works while the app runs)',
  report({ file, read, live, expired, heldBy }, out) {
    const { journal } = read;
    const journals = journal.files === 0 ? '' : `; ${journal.files} journal${journal.files === 1 ? '' : 's'}, ${journal.records} records` +
      (journal.tornBytes === 0 ? '' : `, a torn last record of ${journal.tornBytes} bytes (${journal.torn ?? ''}), dropped at the next start`);
    out.result(`ok: "${file}" is whole (${FORMATS[read.load.format]}, ` +
      `${read.load.records} records, ${read.size} bytes${journals}; ${live.length} live, ${expired} expired)` +
      (heldBy === undefined ? '' : `; in use by ${heldBy}`),
    { file, format: read.load.format, records: read.load.records, sessions: live.length, expired, bytes: read.size,
      journalFiles: journal.files, journalRecords: read.journalRecords, tornBytes: journal.tornBytes, heldBy: heldBy ?? null });
  },
});
