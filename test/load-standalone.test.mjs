// The journal-first load of a snapshot that stands alone (`nojournal`, or version 1: no journal pointer), whose journal
// names it by its checksum (src/files/recover.ts, snapshot-loader.ts peekSnapshot, journal-reader.ts holdsUpTo):
// - a leftover journal of exactly the generation the snapshot says it absorbed (`nojournal <gen>`) is removed as held
//   by it, not refused as foreign, even beside the journal continuing it (`f.gen > holdsUpTo`, not `>=`);
// - a snapshot of ten records or more is still read journal first (the trailer's count has several digits), so a
//   smaller `max` evicts nothing the journal goes on to keep;
// - a standalone snapshot replaced while its journal is read is refused (its checksum differs), as one with a
//   pointer is (test/recover-mutants.test.mjs): recoverFiles is called directly with a replay sink that rewrites it.
// Found by mutation testing (npm run mutate -- src/files/recover.ts:72-83 src/files/snapshot-loader.ts:38-38
// src/files/journal-reader.ts:114-117). Journals are crafted with the package's own encoder, real files in temp dirs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, HOUR, sha256, tempDir, track } from './fixtures/persist/helpers.mjs';

const require = createRequire(import.meta.url);
const { encodeJournalHeader, encodeJournalRecord, recordBound, saltOf } = require('../dist/files/journal-format.js');
const { recoverFiles } = require('../dist/files/recover.js');

const NOW = Date.UTC(2030, 0, 1);
const VALUE = '{"cookie":{}}';

/** Record `seq` of the journal with `token`, setting `id` (op 's') or destroying it (op 'd'). */
function record(token, seq, id, op = 's') {
  const value = op === 'd' ? '' : VALUE;
  const out = Buffer.alloc(recordBound(id, value));
  return out.subarray(0, encodeJournalRecord(out, 0, saltOf(token), seq, op, id, op === 'd' ? 0 : NOW + HOUR, value));
}

/** A standalone snapshot holding `ids` (least recently used first), `next` its header's end; and its checksum. */
function standalone(ids, { version = 2, next = ' nojournal' } = {}) {
  const header = `express-memfilestore-snapshot ${version} 2030-01-01T00:00:00.000Z${version === 1 ? '' : next}\n`;
  const records = ids.map((id) => `r ${NOW + HOUR} ${id.length} ${VALUE.length}\n${id}\n${VALUE}\n`).join('');
  const body = Buffer.from(`${header}${records}`);
  const sha = sha256(body);
  return { bytes: Buffer.concat([body, Buffer.from(`end ${ids.length} ${sha}\n`)]), sha };
}

test('a leftover journal of the generation a standalone snapshot absorbed is removed, not refused, beside the journal continuing it', async (t) => {
  const dir = tempDir(t);
  const saveFile = join(dir, 'sessions.db');
  const [t1, t2] = ['1111111111111111', '2222222222222222'];
  // Journal 1 set `a`; the snapshot holds `a` and says it absorbed journal 1; journal 2 continues it by its checksum.
  const { bytes, sha } = standalone(['a'], { next: ' nojournal 1' });
  writeFileSync(saveFile, bytes);
  writeFileSync(`${saveFile}.journal.1`, Buffer.concat([Buffer.from(encodeJournalHeader(1, t1, 's:-', NOW)), record(t1, 1, 'a')]));
  writeFileSync(`${saveFile}.journal.2`, Buffer.concat([Buffer.from(encodeJournalHeader(2, t2, `s:${sha}`, NOW)), record(t2, 1, 'j')]));
  const store = track(t, new MemFileStore({ saveFile, savePeriod: 0, clock: () => NOW }));
  await store.ready;
  const load = store.stats.persistence.load;
  assert.equal(load.journalFiles, 1);
  assert.equal(load.journalRecords, 1);
  assert.deepEqual((await call(store, 'ids')).sort(), ['a', 'j']);
  assert.equal(existsSync(`${saveFile}.journal.1`), false, 'the absorbed leftover is removed');
  assert.ok(existsSync(`${saveFile}.journal.2`));
});

test('a standalone snapshot of ten or more records is read journal first: a smaller max evicts nothing the journal keeps', async (t) => {
  const dir = tempDir(t);
  const saveFile = join(dir, 'sessions.db');
  const token = '3333333333333333';
  // Eleven sessions (a trailer count of two digits), then the newest destroyed: ten live, which fit a max of 10. Read
  // snapshot first, the eleventh would evict s00 before the journal's destroy made room.
  const ids = Array.from({ length: 11 }, (_, i) => `s${String(i).padStart(2, '0')}`);
  const { bytes, sha } = standalone(ids);
  writeFileSync(saveFile, bytes);
  writeFileSync(`${saveFile}.journal.1`, Buffer.concat([Buffer.from(encodeJournalHeader(1, token, `s:${sha}`, NOW)), record(token, 1, 's10', 'd')]));
  const store = track(t, new MemFileStore({ saveFile, savePeriod: 0, max: 10, clock: () => NOW }));
  await store.ready;
  assert.equal(store.stats.persistence.load.journalRecords, 1);
  assert.deepEqual((await call(store, 'ids')).sort(), ids.slice(0, 10));
});

/** Sinks that load into a map, with the journal read first, and `during` run at the first journal record. */
function sinks(during = () => {}) {
  const sessions = new Map();
  let first = true;
  return {
    sessions,
    insert: (r) => { sessions.set(r.id, r.value); return true; },
    fromLegacy: () => undefined,
    replay: (r) => {
      if (first) during();
      first = false;
      sessions.set(r.id, r.value);
    },
    replayed: () => {},
    reset: () => { sessions.clear(); },
    journalFirst: () => () => false,
  };
}

test('a standalone snapshot replaced while its journal is read is refused; left alone it loads', (t) => {
  const dir = tempDir(t);
  const saveFile = join(dir, 'sessions.db');
  const token = '4444444444444444';
  const options = { repair: false, onDamaged: 'error', now: NOW };
  for (const version of [1, 2]) {
    const original = standalone(['a'], { version });
    // Another standalone snapshot of the same version and the same (absent) absorbed generation: only its checksum differs.
    const replacement = standalone(['b'], { version }).bytes;
    writeFileSync(saveFile, original.bytes);
    writeFileSync(`${saveFile}.journal.1`, Buffer.concat([Buffer.from(encodeJournalHeader(1, token, `s:${original.sha}`, NOW)), record(token, 1, 'j')]));
    assert.throws(() => recoverFiles(saveFile, sinks(() => { writeFileSync(saveFile, replacement); }), options), (err) => {
      assert.equal(err.code, 'ERR_SNAPSHOT_DAMAGED', `version ${version}: ${err.stack}`);
      assert.ok(err.message.includes(`"${saveFile}": it changed while it was read (is another process writing it?)`), err.message);
      return true;
    }, `version ${version}`);
    writeFileSync(saveFile, original.bytes);
    const loaded = sinks();
    const { snapshot, journal } = recoverFiles(saveFile, loaded, options);
    assert.equal(snapshot.format, version === 1 ? 'v1' : 'v2');
    assert.equal(journal.records, 1);
    assert.deepEqual([...loaded.sessions.keys()].sort(), ['a', 'j']);
  }
});
