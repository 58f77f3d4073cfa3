// A start that finds the last journal record torn (the process was killed while a large session was being appended:
// Linux ends a write of many pages early on SIGKILL; or a power cut) drops that record and starts (README, "Start").
// Before calling it torn, the reader looks for a whole record after the damage, at every offset where one could begin
// (8 hex digits, a space). A record's line ends within 200 bytes, but each try searched for the next newline to the
// end of the tail, and a session stored as JSON holds no raw newline: ordinary text (a letter of a-f or a digit, 8
// bytes before a space) made that a search per few bytes through the rest of the record, the square of its length.
// A 4 MB session of prose held the start, synchronous in the constructor, for 9 s; 16 MB for minutes.
//
// Not a timing test in the usual sense: the same files are loaded whole and with the record torn, in this process,
// and only a ratio of 10 fails it (plus 300 ms). The linear search measures about 1-3x; the quadratic one 100x here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { tempDir } from './fixtures/persist/helpers.mjs';

const TEXT_BYTES = 3_000_000;
const RATIO = 10;

// Sets a small session, then a large one of prose, with journal 'always', and dies without closing (SIGKILL).
const CHILD = `
const { MemFileStore } = await import(${JSON.stringify(import.meta.resolve('express-memfilestore'))});
const store = new MemFileStore({ saveFile: process.argv[1], journal: 'always', savePeriod: 0 });
const set = (sid, session) => new Promise((resolve, reject) => store.set(sid, session, (err) => (err ? reject(err) : resolve())));
await set('small', { cookie: { maxAge: 3_600_000 }, user: 'ada' });
const line = 'Dear customer, your order 4521 has been shipped and will arrive by Friday. ';
await set('letter', { cookie: { maxAge: 3_600_000 }, draft: line.repeat(Math.ceil(${TEXT_BYTES} / line.length)) });
process.kill(process.pid, 'SIGKILL');
`;

/** The journal's bytes up to the last one that is not a zero of the space set aside. */
function usedBytes(path) {
  const bytes = readFileSync(path);
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return end;
}

function timedStart(file) {
  const started = performance.now();
  const store = new MemFileStore({ saveFile: file, savePeriod: 0 });
  const ms = performance.now() - started;
  return { store, ms };
}

test('a start that drops a torn record of a 3 MB session of prose takes about as long as one that replays it whole', { timeout: 300_000 }, async (t) => {
  const dir = tempDir(t);
  const whole = join(dir, 'whole');
  const torn = join(dir, 'torn');
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  mkdirSync(whole);
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, join(whole, 'sessions.db')], { env, encoding: 'utf8' });
  assert.equal(run.signal, 'SIGKILL', run.stderr);
  cpSync(whole, torn, { recursive: true });
  cpSync(whole, join(dir, 'warm'), { recursive: true });
  const journal = readdirSync(torn).find((name) => name.startsWith('sessions.db.journal.'));
  assert.ok(journal, 'the child left a journal');
  // The large record loses its last kilobyte, as a write cut short by the kill would leave it.
  truncateSync(join(torn, journal), usedBytes(join(torn, journal)) - 1000);

  // Started once before: the first MemFileStore in a process pays for loading code.
  await timedStart(join(dir, 'warm', 'sessions.db')).store.close();
  const a = timedStart(join(whole, 'sessions.db'));
  const b = timedStart(join(torn, 'sessions.db'));
  await a.store.ready;
  await b.store.ready;
  // Closed before the directory is removed (tempDir's own t.after runs first).
  await Promise.all([a.store.close(), b.store.close()]);
  assert.equal(a.store.stats.sessions, 2);
  assert.equal(b.store.stats.sessions, 1, 'the torn record is dropped, the small session kept');
  assert.ok(b.store.stats.persistence.load.tornBytes > TEXT_BYTES - 1000);
  assert.ok(b.ms < RATIO * a.ms + 300,
    `the start with the torn record took ${b.ms.toFixed(0)} ms, with it whole ${a.ms.toFixed(0)} ms: the search for a record after the damage is not linear`);
});
