// A journal whose length someone set far past its records (`truncate -s`, a sparse file: zeros that take no disk,
// as a restored backup or anyone with write access to the directory can leave): the zeros after the last record
// are read as the space set aside, in a bounded buffer. The start read everything after the last record into one
// buffer of that size: gigabytes allocated for a file that holds a few hundred bytes, and past 2 GiB a start refused
// with "The value of "length" is out of range" (or "Array buffer allocation failed" where memory is limited).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, session, tempDir, track } from './fixtures/persist/helpers.mjs';
import { runNode } from './fixtures/faults/lib.mjs';

const LOAD = `
import { MemFileStore } from 'express-memfilestore';
const store = new MemFileStore({ saveFile: process.argv[1], savePeriod: 0 });
const load = new Promise((resolve) => store.once('load', resolve));
try {
  await store.ready;
  const { journalRecords, tornBytes } = await load;
  const ids = await new Promise((resolve, reject) => store.ids((err, ids) => (err ? reject(err) : resolve(ids))));
  console.log(JSON.stringify({ ids, journalRecords, tornBytes }));
} catch (err) {
  console.log(JSON.stringify({ error: err.message }));
}
await store.close().catch(() => undefined);
console.log(JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS }));
`;

/**
 * Runs LOAD on `file` in a child, which also prints its peak resident memory (maxRSS, KiB): the bound is checked
 * there rather than with `ulimit -v`, under which Node 24 cannot even reserve its code space.
 */
const loadLimited = (file) => runNode(['--input-type=module', '-e', LOAD, file], { timeout: 60_000 });

test('a journal stretched to 2.5 GiB of zeros past its records loads its records in bounded memory', async (t) => {
  const source = join(tempDir(t), 'sessions.db');
  const store = track(t, new MemFileStore({ saveFile: source, savePeriod: 0, journal: 'always' }));
  await store.ready;
  await call(store, 'set', 'sid', session({ user: 'a' }));
  // A copy of the journal as it is on disk while the store runs (no snapshot yet: it continues "no snapshot").
  const file = join(tempDir(t), 'sessions.db');
  writeFileSync(`${file}.journal.1`, readFileSync(`${source}.journal.1`), { mode: 0o600 });
  await store.close();
  truncateSync(`${file}.journal.1`, 2.5 * 2 ** 30);
  const { code, stdout, stderr } = await loadLimited(file);
  assert.equal(code, 0, stderr);
  const [result, { maxRssKb }] = stdout.trim().split('\n').slice(-2).map((line) => JSON.parse(line));
  assert.deepEqual(result, { ids: ['sid'], journalRecords: 1, tornBytes: 0 });
  assert.ok(maxRssKb < 400 * 1024, `peak memory ${Math.round(maxRssKb / 1024)} MiB for a journal of one record`);
});
