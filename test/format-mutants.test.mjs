// The edges of the two file formats that the broader tests do not reach (found by mutation testing, issue 12):
// the longest line each reader accepts (200 bytes) and what it says one byte either side of it, a journal header
// whose checksum starts with a zero digit, and what the journal record parser answers at the end of a read chunk.
// Snapshots go through the public API (a store loading a crafted file, the refusal's exact reason); journal headers
// and records through the format module in dist/, as test/journal-record-parse.test.mjs does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, HOUR, sha256, tempDir, track } from './fixtures/persist/helpers.mjs';

const require = createRequire(import.meta.url);
const { crc32, encodeJournalHeader, encodeJournalRecord, parseJournalHeader, parseJournalRecord, recordBound, saltOf } =
  require('../dist/files/journal-format.js');

const NOW = Date.UTC(2030, 0, 1);
const HEADER = 'express-memfilestore-snapshot 1 2030-01-01T00:00:00.000Z\n';
const VALUE = '{"cookie":{}}';
const TOKEN = '0123456789abcdef';
const rec = (id, line) => `${line ?? `r ${NOW + HOUR} ${Buffer.byteLength(id)} ${VALUE.length}`}\n${id}\n${VALUE}\n`;
/** Header and body as given, then a trailer with the right checksum and count. */
function file(body, { header = HEADER, count = body.length } = {}) {
  const bytes = Buffer.from(header + body.join(''));
  return Buffer.concat([bytes, Buffer.from(`end ${count} ${sha256(bytes)}\n`)]);
}
const AT2 = HEADER.length + rec('a').length;

/** The reason a store gives for refusing `bytes` as its snapshot. */
async function refusal(t, bytes) {
  const saveFile = join(tempDir(t), 'sessions.db');
  writeFileSync(saveFile, bytes);
  const store = track(t, new MemFileStore({ saveFile, savePeriod: 0, clock: () => NOW }));
  const err = await store.ready.then(() => assert.fail('the file was accepted'), (e) => e);
  assert.equal(err.code, 'ERR_SNAPSHOT_DAMAGED');
  const prefix = `express-memfilestore: cannot load "${saveFile}": `;
  assert.ok(err.message.startsWith(prefix), err.message);
  return err.message.slice(prefix.length, err.message.indexOf('. The file was left untouched'));
}

test('snapshot: a line of exactly 200 bytes is read as a line (and refused for what it says); 201 bytes is no line', async (t) => {
  // Record lines: 200 bytes is parsed (and its 198-digit number refused), 201 is not a record at all.
  const line200 = `r ${'1'.repeat(198)}`;
  assert.equal(await refusal(t, file([rec('a'), rec('b', line200)])), `record 2 has a malformed header at byte ${AT2}`);
  assert.equal(await refusal(t, file([rec('a'), rec('b', `${line200}1`)])), `unexpected data at byte ${AT2} (expected a record or the trailer)`);
  // The same for the header: 200 bytes is a malformed header of this format, 201 bytes no header of it.
  const head200 = `express-memfilestore-snapshot 1 ${'x'.repeat(200 - 32)}`;
  assert.equal(head200.length, 200);
  assert.equal(await refusal(t, file([rec('a')], { header: `${head200}\n` })), 'the header is malformed');
  assert.equal(await refusal(t, file([rec('a')], { header: `${head200}x\n` })), 'it is not an express-memfilestore snapshot (unknown header)');
});

test('snapshot: 200 bytes without a newline at the end of the file are a truncated file, 201 bytes are no record', async (t) => {
  const base = HEADER + rec('a');
  const tail200 = `r ${'1'.repeat(198)}`;
  assert.equal(await refusal(t, Buffer.from(base + tail200)), `the file is truncated at byte ${AT2 + 200} (no trailer after 1 records)`);
  assert.equal(await refusal(t, Buffer.from(`${base + tail200}1`)), `unexpected data at byte ${AT2} (expected a record or the trailer)`);
});

test('journal header: a 200-byte line is read, a longer one or 201 bytes without a newline is no journal header', () => {
  /** A header line with a valid checksum, padded in its free-form date field to `length` bytes before the newline. */
  const header = (length) => {
    const short = `express-memfilestore-journal 1 7 ${TOKEN} s:- `;
    const line = `${short}${'x'.repeat(length - short.length - 9)}`;
    return Buffer.from(`${line} ${crc32(Buffer.from(line, 'latin1'), 0).toString(16).padStart(8, '0')}\n`, 'latin1');
  };
  assert.equal(header(200).length, 201);
  assert.deepEqual(parseJournalHeader(header(200)), { gen: 7, token: TOKEN, after: 's:-', bytes: 201 });
  assert.equal(parseJournalHeader(header(201)), 'it is not an express-memfilestore journal (unknown header)');
  // Without a newline yet: up to 200 bytes may still become a header (a journal cut inside it), 201 cannot.
  assert.equal(parseJournalHeader(Buffer.alloc(200, 'e')), undefined);
  assert.equal(parseJournalHeader(Buffer.alloc(201, 'e')), 'it is not an express-memfilestore journal (unknown header)');
});

test('journal header: a checksum with a leading zero digit is written with all 8 digits and reads back', () => {
  // A generation whose header checksum is below 0x10000000 (found by search, so the case is fixed, not chance).
  let gen = 1;
  const line = (g) => `express-memfilestore-journal 1 ${g} ${TOKEN} s:- ${new Date(NOW).toISOString()}`;
  while (crc32(Buffer.from(line(gen), 'latin1'), 0) >= 0x10000000) gen++;
  const encoded = encodeJournalHeader(gen, TOKEN, 's:-', NOW);
  assert.match(encoded, / 0[0-9a-f]{7}\n$/);
  assert.deepEqual(parseJournalHeader(Buffer.from(encoded, 'latin1')), { gen, token: TOKEN, after: 's:-', bytes: encoded.length });
});

test('journal record: 200 bytes without a newline may still be a record cut by the read chunk, 201 cannot', () => {
  const salt = saltOf(TOKEN);
  assert.deepEqual(parseJournalRecord(Buffer.alloc(200, 'x'), 0, salt, 1, false), { kind: 'short' });
  assert.deepEqual(parseJournalRecord(Buffer.alloc(201, 'x'), 0, salt, 1, false), { kind: 'bad', reason: 'malformed record line' });
  // At the end of the file neither can grow into a record: it ends inside one.
  assert.deepEqual(parseJournalRecord(Buffer.alloc(200, 'x'), 0, salt, 1, true), { kind: 'bad', reason: 'it ends inside a record' });
  // From an offset inside the buffer: what counts is the bytes after it.
  const padded = Buffer.concat([Buffer.alloc(50, '\n'), Buffer.alloc(200, 'x')]);
  assert.deepEqual(parseJournalRecord(padded, 50, salt, 1, false), { kind: 'short' });
});

test('journal record: the slow parser answers for every operation, not only sets', () => {
  const salt = saltOf(TOKEN);
  for (const op of ['s', 't', 'd', 'c']) {
    const out = Buffer.alloc(recordBound('id', VALUE));
    const good = out.subarray(0, encodeJournalRecord(out, 0, salt, 3, op, 'id', 5, VALUE));
    assert.equal(parseJournalRecord(good, 0, salt, 3, true).kind, 'record', op);
    // A leading zero in the sequence number: the fast reader refuses it, the slow one says why (not "unknown operation").
    const eol = good.indexOf(0x0a);
    const body = Buffer.concat([Buffer.from(good.toString('latin1', 9, eol).replace(`${op} 3 `, `${op} 03 `), 'latin1'), good.subarray(eol)]);
    const crc = crc32(body, salt).toString(16).padStart(8, '0');
    assert.deepEqual(parseJournalRecord(Buffer.concat([Buffer.from(`${crc} `), body]), 0, salt, 3, true), { kind: 'bad', reason: 'malformed record line' }, op);
  }
});

test('journal names: only <saveFile>.journal.<decimal> is a journal; look-alikes are never read nor removed', async (t) => {
  const dir = tempDir(t);
  const saveFile = join(dir, 'sessions.db');
  writeFileSync(saveFile, file([rec('a')]));
  // Each holds a valid journal header of generation 1 and a record: read as a journal, it would be refused or removed.
  const out = Buffer.alloc(recordBound('j', VALUE));
  const journal = Buffer.concat([Buffer.from(encodeJournalHeader(1, TOKEN, 's:-', NOW), 'latin1'),
    out.subarray(0, encodeJournalRecord(out, 0, saltOf(TOKEN), 1, 's', 'j', NOW + HOUR, VALUE))]);
  const names = ['sessions.db.journal.01', 'sessions.db.journal.1x', 'sessions.db.journal.x1', 'sessions.db.journal.', 'sessions.db.journal.+1',
    'sessions.db.journal.12345678901234567', 'xsessions.db.journal.1', 'sessions.db.journals.1'];
  for (const name of names) writeFileSync(join(dir, name), journal);
  const store = track(t, new MemFileStore({ saveFile, savePeriod: 0, clock: () => NOW }));
  await store.ready;
  assert.deepEqual(await call(store, 'ids'), ['a']);
  await call(store, 'set', 'b', { cookie: { expires: new Date(NOW + HOUR).toISOString() } });
  await store.close();
  for (const name of names) assert.deepEqual(readFileSync(join(dir, name)), journal, name);
});

/** A version 2 snapshot holding session `a` that continues in journal 1 of TOKEN. */
function snapshotBeforeJournal() {
  return file([rec('a')], { header: `express-memfilestore-snapshot 2 2030-01-01T00:00:00.000Z journal 1 ${TOKEN}\n` });
}

/** Journal 1 of TOKEN holding `records` ([op, id, value]), numbered from 1. */
function journalFile(records) {
  const parts = [Buffer.from(encodeJournalHeader(1, TOKEN, 's:-', NOW), 'latin1')];
  for (const [i, [op, id, value]] of records.entries()) {
    const out = Buffer.alloc(recordBound(id, value));
    parts.push(out.subarray(0, encodeJournalRecord(out, 0, saltOf(TOKEN), i + 1, op, id, op === 's' ? NOW + HOUR : 0, value)));
  }
  return Buffer.concat(parts);
}

test('journal: damage followed by a whole record is refused, whatever hex digit that record\'s checksum starts with', async (t) => {
  for (const digit of ['0', '9', 'a', 'f']) {
    // The third record's id is chosen so its checksum starts with `digit` (the search makes the case fixed).
    let n = 0;
    const third = () => journalFile([['s', 'j1', VALUE], ['s', 'j2', VALUE], ['s', `k${n}`, VALUE]]);
    const thirdAt = journalFile([['s', 'j1', VALUE], ['s', 'j2', VALUE]]).length;
    while (String.fromCharCode(third()[thirdAt]) !== digit) n++;
    const bytes = third();
    const secondAt = journalFile([['s', 'j1', VALUE]]).length;
    bytes[thirdAt - 3] ^= 0x01; // inside the second record's value: its checksum fails
    const dir = tempDir(t);
    const saveFile = join(dir, 'sessions.db');
    writeFileSync(saveFile, snapshotBeforeJournal());
    writeFileSync(`${saveFile}.journal.1`, bytes);
    const store = track(t, new MemFileStore({ saveFile, savePeriod: 0, clock: () => NOW }));
    const err = await store.ready.then(() => assert.fail(`accepted (checksum starting with ${digit})`), (e) => e);
    assert.equal(err.message, `express-memfilestore: cannot load "${saveFile}.journal.1": record 2 at byte ${secondAt} is damaged (checksum mismatch) ` +
      `and whole records follow it at byte ${thirdAt}. The file was left untouched; fix or remove it, or set onDamagedFile: "move-aside" to start empty`, digit);
    assert.deepEqual(readFileSync(`${saveFile}.journal.1`), bytes);
  }
});
