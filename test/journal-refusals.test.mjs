// A journal that cannot be replayed is refused at start with a reason that says which file and what is wrong with
// it: a header that is not a journal's, cut short, of another format version or generation, and a journal that
// holds changes but continues nothing here (with no snapshot, or beside another snapshot). Journals are crafted
// with the package's own encoder (dist/files/journal-format.js), so only the one thing named is wrong. Also: the
// CRC-32 used on Node versions without zlib.crc32, the record parser's answer for a record cut by a read chunk, and
// the name a moved-aside file gets when earlier ones of the same instant exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { MemFileStore } from 'express-memfilestore';
import { call, captureWarnings, HOUR, sha256, tempDir, track } from './fixtures/persist/helpers.mjs';

const require = createRequire(import.meta.url);
const { crc32, encodeJournalHeader, encodeJournalRecord, parseJournalRecord, recordBound, saltOf, tableCrc32 } = require('../dist/files/journal-format.js');

const NOW = Date.UTC(2030, 0, 1);
const TOKEN = '0123456789abcdef';
const VALUE = '{"cookie":{}}';

/** A snapshot holding session `a`; version 2 handing over to journal `gen` with `TOKEN`, or version 1. */
function snapshot({ journalGen } = {}) {
  const header = journalGen === undefined
    ? 'express-memfilestore-snapshot 1 2030-01-01T00:00:00.000Z\n'
    : `express-memfilestore-snapshot 2 2030-01-01T00:00:00.000Z journal ${journalGen} ${TOKEN}\n`;
  const body = Buffer.from(`${header}r ${NOW + HOUR} 1 ${VALUE.length}\na\n${VALUE}\n`);
  return Buffer.concat([body, Buffer.from(`end 1 ${sha256(body)}\n`)]);
}

/** A journal: its header line (as given, or encoded) then one record setting session `j`. */
function journal({ gen = 1, token = TOKEN, after = 's:-', header } = {}) {
  const head = Buffer.from(header ?? encodeJournalHeader(gen, token, after, NOW), 'latin1');
  const out = Buffer.alloc(recordBound('j', VALUE));
  const record = out.subarray(0, encodeJournalRecord(out, 0, saltOf(token), 1, 's', 'j', NOW + HOUR, VALUE));
  return Buffer.concat([head, record]);
}

async function refusal(t, files) {
  const dir = tempDir(t);
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  const saveFile = join(dir, 'sessions.db');
  const store = track(t, new MemFileStore({ saveFile, savePeriod: 0, clock: () => NOW }));
  const err = await store.ready.then(() => assert.fail('the files were accepted'), (e) => e);
  assert.equal(err.code, 'ERR_SNAPSHOT_DAMAGED');
  return { saveFile, err, dir };
}

const reasonOf = (err, path) => {
  const prefix = `express-memfilestore: cannot load "${path}": `;
  assert.ok(err.message.startsWith(prefix), err.message);
  return err.message.slice(prefix.length, err.message.indexOf('. The file was left untouched'));
};

test('the journal a snapshot names is refused when its first line is no journal header, or is cut short', async (t) => {
  const cases = [
    ['300 bytes without a newline', Buffer.alloc(300, 'x'), 'it is not an express-memfilestore journal (unknown header)'],
    ['a line of another program', Buffer.from('hello journal\n'), 'it is not an express-memfilestore journal (unknown header)'],
    ['a header cut before its newline', Buffer.from(encodeJournalHeader(1, TOKEN, 's:-', NOW).slice(0, 50)), 'its header is incomplete'],
  ];
  for (const [what, bytes, reason] of cases) {
    const { saveFile, err } = await refusal(t, { 'sessions.db': snapshot({ journalGen: 1 }), 'sessions.db.journal.1': bytes });
    assert.equal(reasonOf(err, `${saveFile}.journal.1`), reason, what);
  }
});

test('a journal header of another format version, or naming another generation than its file name, is refused', async (t) => {
  const line = `express-memfilestore-journal 2 1 ${TOKEN} s:- 2030-01-01T00:00:00.000Z`;
  const v2 = `${line} ${crc32(Buffer.from(line, 'latin1'), 0).toString(16).padStart(8, '0')}\n`;
  const version = await refusal(t, { 'sessions.db': snapshot({ journalGen: 1 }), 'sessions.db.journal.1': journal({ header: v2 }) });
  assert.equal(reasonOf(version.err, `${version.saveFile}.journal.1`), 'it has journal format version 2, and this version reads 1');

  const gen = await refusal(t, { 'sessions.db': snapshot({ journalGen: 3 }), 'sessions.db.journal.3': journal({ gen: 4 }) });
  assert.equal(reasonOf(gen.err, `${gen.saveFile}.journal.3`), 'its header says generation 4');
});

test('a journal with changes that continues nothing here is refused: without a snapshot, beside another one, or with a damaged header', async (t) => {
  const other = `s:${'e'.repeat(64)}`;
  const empty = await refusal(t, { 'sessions.db.journal.1': journal({ after: other }) });
  assert.equal(reasonOf(empty.err, `${empty.saveFile}.journal.1`), 'it does not belong to an empty start (its snapshot is missing)');

  const beside = await refusal(t, { 'sessions.db': snapshot(), 'sessions.db.journal.1': journal({ after: other }) });
  assert.equal(reasonOf(beside.err, `${beside.saveFile}.journal.1`), `it does not belong to the snapshot "${beside.saveFile}" beside it`);

  // Beside a 1.x file: 1.x wrote it after 2.x ran (a 1.x app still running in a deploy), and the reason says so.
  const legacy = JSON.stringify({ a: { cookie: { expires: new Date(NOW + HOUR).toISOString() } } });
  const overwritten = await refusal(t, { 'sessions.db': Buffer.from(legacy), 'sessions.db.journal.1': journal({ after: other }) });
  assert.match(reasonOf(overwritten.err, `${overwritten.saveFile}.journal.1`),
    /^it holds changes made by express-memfilestore 2\.x, but the snapshot ".*" beside it is an express-memfilestore 1\.x file written since .*Stop every 1\.x app/);

  // A flipped token: the header fails its own checksum, and the record after it shows changes were written.
  const damaged = journal({ after: `s:${sha256(snapshot().subarray(0, snapshot().lastIndexOf('end ')))}` });
  damaged[40] ^= 0x01;
  const header = await refusal(t, { 'sessions.db': snapshot(), 'sessions.db.journal.1': damaged });
  assert.equal(reasonOf(header.err, `${header.saveFile}.journal.1`), 'its header is damaged (checksum mismatch)');
});

test('a journal continuing the snapshot by its checksum replays (the refusals above are for what they name only)', async (t) => {
  const dir = tempDir(t);
  const saveFile = join(dir, 'sessions.db');
  const snap = snapshot();
  writeFileSync(saveFile, snap);
  writeFileSync(`${saveFile}.journal.1`, journal({ after: `s:${sha256(snap.subarray(0, snap.lastIndexOf('end ')))}` }));
  const store = track(t, new MemFileStore({ saveFile, savePeriod: 0, clock: () => NOW }));
  await store.ready;
  assert.deepEqual((await call(store, 'ids')).sort(), ['a', 'j']);
});

test('move-aside never overwrites an earlier damaged file of the same instant: the next free -<n> suffix', async (t) => {
  const dir = tempDir(t);
  const saveFile = join(dir, 'sessions.db');
  captureWarnings(t);
  const stamp = `${saveFile}.corrupt-2030-01-01T00-00-00-000Z`;
  writeFileSync(stamp, 'first');
  writeFileSync(`${stamp}-2`, 'second');
  writeFileSync(saveFile, 'not a snapshot\n');
  const store = track(t, new MemFileStore({ saveFile, savePeriod: 0, onDamagedFile: 'move-aside', clock: () => NOW }));
  await store.ready;
  assert.equal(store.stats.persistence.load.movedAside, `${stamp}-3`);
  assert.deepEqual(readdirSync(dir).filter((name) => name.includes('.corrupt-')).sort(),
    ['sessions.db.corrupt-2030-01-01T00-00-00-000Z', 'sessions.db.corrupt-2030-01-01T00-00-00-000Z-2', 'sessions.db.corrupt-2030-01-01T00-00-00-000Z-3']);
  assert.equal(existsSync(saveFile), false);
});

test('the table CRC-32 (Node versions without zlib.crc32) equals zlib\'s, seeded or not', () => {
  // The standard check values, then zlib's own answers where this Node has zlib.crc32 (20.15 and 22.2 on).
  assert.equal(tableCrc32(Buffer.from('123456789'), 0), 0xcbf43926);
  assert.equal(tableCrc32(Buffer.from('a'), 0), 0xe8b7be43);
  if (typeof zlib.crc32 !== 'function') return;
  const inputs = [Buffer.alloc(0), Buffer.from('a'), Buffer.from('express-memfilestore-journal'), Buffer.from(Array.from({ length: 256 }, (_, i) => i))];
  for (const data of inputs) {
    for (const seed of [0, 1, 0xdeadbeef, saltOf(TOKEN)]) assert.equal(tableCrc32(data, seed), zlib.crc32(data, seed), `${data.length} bytes, seed ${seed}`);
  }
});

test('a record line cut by the end of a read chunk asks for more bytes; at the end of the file it is a torn record', () => {
  const out = Buffer.alloc(recordBound('id', VALUE));
  const record = out.subarray(0, encodeJournalRecord(out, 0, saltOf(TOKEN), 1, 's', 'id', 0, VALUE));
  const cut = record.subarray(0, 12); // inside the first line, no newline yet
  assert.deepEqual(parseJournalRecord(cut, 0, saltOf(TOKEN), 1, false), { kind: 'short' });
  assert.deepEqual(parseJournalRecord(cut, 0, saltOf(TOKEN), 1, true), { kind: 'bad', reason: 'it ends inside a record' });
  assert.deepEqual(parseJournalRecord(Buffer.alloc(300, 'x'), 0, saltOf(TOKEN), 1, false), { kind: 'bad', reason: 'malformed record line' });
});
