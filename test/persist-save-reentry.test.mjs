// One snapshot at a time (README: "One save runs at a time; calls made during a save share one more save after
// it"), also when a save is asked for from inside the synchronous start of another one: while a save copies memory
// and switches journals, the write of the turn's records into the old journal can pass the journal's size limit
// (which asks for a compaction snapshot) or fail (the 'error' event, whose listener may call flush()). Before the
// fix, the running save was not yet the store's current save at that point, so a second save started inside the
// first: two rotations interleaved, both snapshots were written, and the one renamed last named a journal the other
// had removed. A restart then refused the files as damaged ("it is missing") and loaded nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { call, session, tempDir } from './fixtures/persist/helpers.mjs';
import { crashCopy, journalFs, open, until } from './fixtures/journal/helpers.mjs';

/** Journal bytes that call for a snapshot while the last snapshot is smaller (JOURNAL_MIN_BYTES, persistence.ts). */
const JOURNAL_MIN_BYTES = 8 * 1024 * 1024;

/** How many snapshots were renamed into place. */
function renames(fs) {
  return fs.events.filter((e) => e[0] === 'rename').length;
}

test('a change whose write at a snapshot\'s switch passes the journal size limit does not start a second snapshot inside it', { timeout: 60_000 }, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const fs = journalFs();
  const store = await open(t, file, { fs });
  const fill = () => session({ fill: 'x'.repeat(1_000_000) });
  for (let i = 0; store.stats.persistence.journal.bytes < JOURNAL_MIN_BYTES - 1_100_000; i++) await call(store, 'set', `f${i}`, fill());
  const errors = [];
  store.on('error', (err) => errors.push(err.message));
  const before = renames(fs);
  store.set('crossing', fill(), () => undefined); // written by the snapshot's switch, into the old journal
  await store.flush();
  assert.equal(store.stats.persistence.compactions, 0, 'no second snapshot started inside the running one');
  await until(() => !store.stats.persistence.saving, 10_000, 'every save done');
  assert.deepEqual(errors, [], 'no save failed');
  // What a kill -9 now leaves loads (before the fix: refused, the snapshot renamed last naming a removed journal).
  const after = await open(t, crashCopy(t, file));
  assert.deepEqual((await call(after, 'ids')).sort(), (await call(store, 'ids')).sort());
  assert.equal(renames(fs) - before, 1, 'one snapshot: the one running absorbs the journal');
});

test("an 'error' listener calling flush() when the journal fails at a snapshot's switch gets a save after it, not one inside it", { timeout: 20_000 }, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const fs = journalFs();
  const store = await open(t, file, { fs });
  await call(store, 'set', 'a', session({}));
  const flushes = [];
  store.on('error', () => {
    fs.faults.journalWrite = null; // one failed write
    flushes.push(store.flush());
  });
  const before = renames(fs);
  fs.faults.journalWrite = 'EIO';
  store.set('b', session({}), () => undefined); // its write at the switch fails the journal
  await store.flush();
  assert.equal(flushes.length, 1, 'the failure was reported');
  await Promise.all(flushes);
  await until(() => !store.stats.persistence.saving, 10_000, 'every save done');
  const after = await open(t, crashCopy(t, file));
  assert.deepEqual((await call(after, 'ids')).sort(), ['a', 'b']);
  assert.equal(store.stats.persistence.journal.failed, false, 'recovered');
  assert.equal(renames(fs) - before, 1, "the save asked for (its copy holds 'b': it ends the failure); the listener's, after it, finds nothing to save");
});

test("an 'error' listener calling close() when the journal fails at a snapshot's switch closes after that save", { timeout: 20_000 }, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const fs = journalFs();
  const store = await open(t, file, { fs });
  await call(store, 'set', 'a', session({}));
  let closing;
  store.on('error', () => {
    fs.faults.journalWrite = null;
    closing ??= store.close();
  });
  fs.faults.journalWrite = 'EIO';
  store.set('b', session({}), () => undefined);
  const saving = store.flush();
  assert.ok(closing !== undefined, 'the failure was reported');
  await saving; // not failed by close() closing the new journal under its creation
  await closing;
  const after = await open(t, file);
  assert.deepEqual((await call(after, 'ids')).sort(), ['a', 'b']);
});
