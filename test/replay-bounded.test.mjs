// A journal replayed after its snapshot into a store with `max` ends as the live store was, not as a replay record
// by record would leave it (src/files/journal-replay.ts): reads reorder the cache but are not journaled, so
// applying the records one by one lets `max` evict a session that was live. And a failed save says in its message
// that the previous snapshot is intact (what the README promises, src/files/snapshot-writer.ts).
// Found by mutation testing (npm run mutate -- src/files/journal-replay.ts src/files/snapshot-writer.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, faultyFs, HOUR, session, tempDir, track } from './fixtures/persist/helpers.mjs';

const require = createRequire(import.meta.url);
const { encodeJournalHeader, encodeJournalRecord, recordBound, saltOf } = require('../dist/files/journal-format.js');

const NOW = Date.UTC(2030, 0, 1);
const TOKEN = '0123456789abcdef';
const VALUE = '{"cookie":{}}';

/** A journal continuing an empty start (no snapshot yet): records `[op, id]`, 's' sets and 'd' deletes. */
function journal(records) {
  const parts = [Buffer.from(encodeJournalHeader(1, TOKEN, 's:-', NOW), 'latin1')];
  for (const [seq, [op, id]] of records.entries()) {
    const value = op === 'd' ? '' : VALUE;
    const out = Buffer.alloc(recordBound(id, value));
    parts.push(out.subarray(0, encodeJournalRecord(out, 0, saltOf(TOKEN), seq + 1, op, id, op === 'd' ? 0 : NOW + HOUR, value)));
  }
  return Buffer.concat(parts);
}

test('with max 2, a session read before the limit was reached survives the replay of the eviction it caused', async (t) => {
  const dir = tempDir(t);
  const saveFile = join(dir, 'sessions.db');
  // What a live store with max 2 journals for: set a, set b, get a (not journaled), set c: b, the least recently
  // used, is evicted. Replayed record by record, setting c would evict a instead, and then b's deletion empty it.
  writeFileSync(`${saveFile}.journal.1`, journal([['s', 'a'], ['s', 'b'], ['s', 'c'], ['d', 'b']]));
  const store = track(t, new MemFileStore({ saveFile, savePeriod: 0, max: 2, clock: () => NOW }));
  await store.ready;
  assert.equal(store.stats.persistence.load.journalRecords, 4);
  assert.deepEqual((await call(store, 'ids')).sort(), ['a', 'c']);
});

test('without max the same journal replays to the same sessions', async (t) => {
  const dir = tempDir(t);
  const saveFile = join(dir, 'sessions.db');
  writeFileSync(`${saveFile}.journal.1`, journal([['s', 'a'], ['s', 'b'], ['s', 'c'], ['d', 'b']]));
  const store = track(t, new MemFileStore({ saveFile, savePeriod: 0, clock: () => NOW }));
  await store.ready;
  assert.deepEqual((await call(store, 'ids')).sort(), ['a', 'c']);
});

test('a failed save says the previous snapshot is intact', async (t) => {
  const dir = tempDir(t);
  const saveFile = join(dir, 'sessions.db');
  const fs = faultyFs();
  const store = track(t, new MemFileStore({ saveFile, savePeriod: 0, fs, journal: false }));
  await store.ready;
  await call(store, 'set', 'a', session({ user: 'a' }));
  fs.faults.write = 'ENOSPC';
  await assert.rejects(store.flush(), (err) => {
    assert.equal(err.code, 'ENOSPC');
    assert.ok(err.message.startsWith(`express-memfilestore: could not save "${saveFile}" (the previous snapshot is intact): `), err.message);
    return true;
  });
  fs.faults.write = null;
});
