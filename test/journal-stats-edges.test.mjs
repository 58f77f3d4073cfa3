// Stats the journal reports while it rotates, and after a restart: README, `stats.persistence.journal`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { call, session, tempDir } from './fixtures/persist/helpers.mjs';
import {
  crashCopy, gatedStore, journalFs, journals, journalSize, open, tracked, trackedPair, turn, until,
} from './fixtures/journal/helpers.mjs';

const headerBytes = (path) => readFileSync(path).indexOf(0x0a) + 1;

test("always: pending counts a change written to the journal a snapshot is replacing, while the next one is created", { timeout: 20_000 }, async (t) => {
  const { fs, gate, store } = await gatedStore(t, { journal: 'always' });
  const journal = store.stats.persistence.journal.file;
  const held = gate.hold((path) => path === journal);
  const pair = trackedPair(store, 'p', session({})); // their sync is held
  await held.reached;
  assert.equal(store.stats.persistence.journal.pending, 2);
  // A change and a snapshot in one turn: the switch writes the change into the old journal, where it waits for
  // the sync after the held one.
  const third = tracked(store, 'set', 'q', session({}));
  const saving = store.flush();
  assert.equal(third.called, false);
  assert.equal(store.stats.persistence.journal.pending, 3, 'p, p+ in their sync; q written, waiting for the next');
  held.release();
  await saving;
  for (const c of [...pair, third]) assert.equal(await c.done, null);
  await turn();
  assert.equal(store.stats.persistence.journal.pending, 0);
  assert.equal(fs.calls.filter((c) => c.call === 'write').length > 0, true);
});

test('records counts the records replayed at start, as bytes counts their bytes', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const store = await open(t, file);
  for (let i = 0; i < 3; i++) await call(store, 'set', `s${i}`, session({ i }));
  const before = store.stats.persistence.journal;
  assert.equal(before.records, 3);
  const after = await open(t, crashCopy(t, file));
  const stats = after.stats.persistence.journal;
  assert.equal(stats.bytes, before.bytes);
  assert.equal(stats.records, before.records, 'bytes and records describe the same journal');
});

test("always: pending counts changes, not records: a set that evicts another is one change waiting", async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const store = await open(t, file, { journal: 'always', max: 1 });
  await call(store, 'set', 'a', session({}));
  const b = tracked(store, 'set', 'b', session({})); // evicts 'a': two records, 'd a' and 's b'
  assert.equal(store.stats.persistence.journal.pending, 1, 'one change, before the write');
  const missing = tracked(store, 'destroy', 'nobody'); // appends nothing, waits with them
  assert.equal(store.stats.persistence.journal.pending, 2, 'the set and the destroy, before the write');
  await turn(); // written at the end of the turn, waiting for (or past) their sync
  const after = store.stats.persistence.journal.pending;
  assert.ok(after === 2 || after === 0, `the same two changes after the write, or none once synced: ${after}`);
  assert.equal(await b.done, null);
  assert.equal(await missing.done, null);
});

test("everysec: pending counts changes, not records: a set that evicts another is one change not yet written", async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const store = await open(t, file, { max: 1 });
  await call(store, 'set', 'a', session({}));
  const b = tracked(store, 'set', 'b', session({})); // evicts 'a': two records, 'd a' and 's b'
  assert.equal(store.stats.persistence.journal.pending, 1);
  assert.equal(await b.done, null);
  assert.equal(store.stats.persistence.journal.pending, 0);
});

test('bytes and records still count the journals a failed snapshot left, as a restart replays them', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const fs = journalFs();
  const store = await open(t, file, { fs });
  store.on('error', () => undefined);
  await call(store, 'set', 'a', session({}));
  await call(store, 'set', 'b', session({}));
  fs.faults.open = 'ENOSPC'; // the snapshot's temp file
  await assert.rejects(store.flush(), { code: 'ENOSPC' });
  fs.faults.open = null;
  await call(store, 'set', 'c', session({}));
  await until(() => journalSize(journals(file)[1]) > headerBytes(journals(file)[1]), 3000, 'c written');
  const stats = store.stats.persistence.journal;
  assert.equal(journals(file).length, 2, 'the snapshot failed: both journals are beside the old one');
  const after = (await open(t, crashCopy(t, file))).stats.persistence.journal;
  assert.deepEqual([stats.bytes, stats.records], [after.bytes, after.records], 'what a restart replays');
  await store.flush();
  assert.deepEqual([store.stats.persistence.journal.bytes, store.stats.persistence.journal.records], [0, 0]);
});
