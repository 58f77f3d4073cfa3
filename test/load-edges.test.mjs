// Load and recovery edge cases (found in review; each test failed on the code before its fix): refusals that must leave
// every file as it was, a foreign journal beside a chain, and limits applied after the journal's deletions.
// Journals are crafted with the package's own encoder (dist/files/journal-format.js), real files in temp dirs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, encodeSnapshot, HOUR, sha256, tempDir, track } from './fixtures/persist/helpers.mjs';

const require = createRequire(import.meta.url);
const { encodeJournalHeader, encodeJournalRecord, recordBound, saltOf } = require('../dist/files/journal-format.js');

const NOW = Date.UTC(2030, 0, 1);
const VALUE = '{"cookie":{}}';

/** One record setting `id`, as record `seq` of the journal with `token`. */
function record(token, seq, id) {
  const out = Buffer.alloc(recordBound(id, VALUE));
  return out.subarray(0, encodeJournalRecord(out, 0, saltOf(token), seq, 's', id, NOW + HOUR, VALUE));
}

test('a torn tail in one journal is not cut when a later journal of the chain is refused', async (t) => {
  const dir = tempDir(t);
  const saveFile = join(dir, 'sessions.db');
  const [t1, t2] = ['1111111111111111', '2222222222222222'];
  // Journal 1 (an empty start) ends in a torn record; journal 2 continues it, and its first record begins with zeros
  // (pages a crash did not write) before a whole record: damage with records after it, refused.
  const j1 = Buffer.concat([Buffer.from(encodeJournalHeader(1, t1, 's:-', NOW)), record(t1, 1, 'a'), record(t1, 2, 'b').subarray(0, 10)]);
  const j2 = Buffer.concat([Buffer.from(encodeJournalHeader(2, t2, `j:${t1}`, NOW)), Buffer.alloc(4), record(t2, 1, 'c')]);
  writeFileSync(`${saveFile}.journal.1`, j1);
  writeFileSync(`${saveFile}.journal.2`, j2);
  const store = track(t, new MemFileStore({ saveFile, savePeriod: 0, clock: () => NOW }));
  const err = await store.ready.then(() => assert.fail('the journals were accepted'), (e) => e);
  assert.equal(err.code, 'ERR_SNAPSHOT_DAMAGED');
  assert.match(err.message, /journal\.2": record 1 at byte \d+ is damaged/);
  // "The file was left untouched": journal 1 keeps its torn tail, for whoever repairs the files.
  assert.deepEqual(readFileSync(`${saveFile}.journal.1`), j1);
  assert.deepEqual(readFileSync(`${saveFile}.journal.2`), j2);
});

test('a refused start leaves the temp files of an interrupted save in place; a good start removes them', async (t) => {
  const dir = tempDir(t);
  const saveFile = join(dir, 'sessions.db');
  // A save killed between its fsync and its rename leaves a whole snapshot in its temp file: with the snapshot
  // damaged, that may be the best copy there is, and a refusal promises to touch nothing.
  const temp = join(dir, 'sessions.db.tmp-12345-0123456789ab');
  writeFileSync(temp, 'a whole snapshot, maybe');
  writeFileSync(saveFile, 'express-memfilestore-snapshot 2 2030-01-01T00:00:00.000Z nojournal\nr 0 1 2\na\n{}\n');
  const store = track(t, new MemFileStore({ saveFile, savePeriod: 0, clock: () => NOW }));
  const err = await store.ready.then(() => assert.fail('the damaged snapshot was accepted'), (e) => e);
  assert.equal(err.code, 'ERR_SNAPSHOT_DAMAGED');
  assert.deepEqual(readdirSync(dir).sort(), ['sessions.db', 'sessions.db.tmp-12345-0123456789ab']);

  rmSync(saveFile);
  const good = track(t, new MemFileStore({ saveFile, savePeriod: 0, clock: () => NOW }));
  await good.ready;
  assert.equal(existsSync(temp), false);
});

test('a journal holding changes that continues nothing here is refused also when another journal continues the snapshot', async (t) => {
  const dir = tempDir(t);
  const saveFile = join(dir, 'sessions.db');
  const snap = encodeSnapshot([{ id: 'a', expires: NOW + HOUR, value: VALUE }]);
  const sha = sha256(snap.subarray(0, snap.lastIndexOf('end ')));
  const [t1, t2] = ['1111111111111111', '2222222222222222'];
  // Journal 1 continues another snapshot (a copy from elsewhere): alone beside this snapshot it is refused. Journal 2
  // continuing this snapshot by its checksum must not turn that refusal into a silent removal of journal 1's changes.
  const foreign = Buffer.concat([Buffer.from(encodeJournalHeader(1, t1, `s:${'e'.repeat(64)}`, NOW)), record(t1, 1, 'x')]);
  writeFileSync(saveFile, snap);
  writeFileSync(`${saveFile}.journal.1`, foreign);
  writeFileSync(`${saveFile}.journal.2`, Buffer.concat([Buffer.from(encodeJournalHeader(2, t2, `s:${sha}`, NOW)), record(t2, 1, 'j')]));
  const store = track(t, new MemFileStore({ saveFile, savePeriod: 0, clock: () => NOW }));
  const err = await store.ready.then(() => assert.fail('the foreign journal was accepted'), (e) => e);
  assert.equal(err.code, 'ERR_SNAPSHOT_DAMAGED');
  assert.match(err.message, /journal\.1": it /);
  assert.deepEqual(readFileSync(`${saveFile}.journal.1`), foreign);
});

/** A version 2 snapshot that stands alone (`nojournal`, as close() writes it) holding `ids`, least recently used first. */
function standaloneSnapshot(ids) {
  const records = ids.map((id) => `r ${NOW + HOUR} ${id.length} ${VALUE.length}\n${id}\n${VALUE}\n`).join('');
  const body = Buffer.from(`express-memfilestore-snapshot 2 2030-01-01T00:00:00.000Z nojournal\n${records}`);
  return { bytes: Buffer.concat([body, Buffer.from(`end ${ids.length} ${sha256(body)}\n`)]), sha: sha256(body) };
}

test('a restart with a smaller max keeps what was live when it fits, whether or not the snapshot names its journal', async (t) => {
  const dir = tempDir(t);
  const saveFile = join(dir, 'sessions.db');
  const token = '3333333333333333';
  // Written with max 3 (or none): a, b, c, then c destroyed after the snapshot. Live: a and b, which fit a max of 2.
  // With a snapshot naming its journal, the journal is read first and a and b load; one that stands alone (the
  // snapshot close() writes, continued by the journal naming its checksum) loaded first, evicting a, then deleted c.
  const snap = standaloneSnapshot(['a', 'b', 'c']);
  const d = Buffer.alloc(recordBound('c', ''));
  const destroyC = d.subarray(0, encodeJournalRecord(d, 0, saltOf(token), 1, 'd', 'c', 0, ''));
  writeFileSync(saveFile, snap.bytes);
  writeFileSync(`${saveFile}.journal.1`, Buffer.concat([Buffer.from(encodeJournalHeader(1, token, `s:${snap.sha}`, NOW)), destroyC]));
  const store = track(t, new MemFileStore({ saveFile, savePeriod: 0, max: 2, clock: () => NOW }));
  await store.ready;
  assert.equal(store.stats.persistence.load.journalRecords, 1);
  assert.deepEqual(await call(store, 'ids'), ['b', 'a']);
});
