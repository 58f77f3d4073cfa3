// The edges of the two file formats that the broader tests do not reach (found by mutation testing, issue 12):
// the longest line each reader accepts (200 bytes) and what it says one byte either side of it, a journal header
// whose checksum starts with a zero digit, and what the journal record parser answers at the end of a read chunk.
// Snapshots go through the public API (a store loading a crafted file, the refusal's exact reason); journal headers
// and records through the format module in dist/, as test/journal-record-parse.test.mjs does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, HOUR, sha256, tempDir, track } from './fixtures/persist/helpers.mjs';
import { isJournal, journalFs } from './fixtures/journal/helpers.mjs';

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
    'sessions.db.journal.12345678901234567', 'xsessions.db.journal.1', 'sessions.db.journals.1',
    // As long as the prefix, and ending in a decimal where a generation would be: the prefix itself must match.
    'sessions.db.JOURNAL.1', 'sessions-db.journal.1', 'sessions.db.journal_1'];
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

/** A journal header line as given, with its own valid checksum appended. */
const signedHeader = (line) => Buffer.from(`${line} ${crc32(Buffer.from(line, 'latin1'), 0).toString(16).padStart(8, '0')}\n`, 'latin1');

test('journal header: the name must start the line, and a version of several digits is named in the refusal', () => {
  const rest = `1 7 ${TOKEN} s:- 2030-01-01T00:00:00.000Z`;
  assert.deepEqual(parseJournalHeader(signedHeader(`express-memfilestore-journal ${rest}`)), { gen: 7, token: TOKEN, after: 's:-', bytes: 88 });
  assert.equal(parseJournalHeader(signedHeader(`x express-memfilestore-journal ${rest}`)), 'it is not an express-memfilestore journal (unknown header)');
  assert.equal(parseJournalHeader(signedHeader(`express-memfilestore-journal 10 ${rest.slice(2)}`)), 'it has journal format version 10, and this version reads 1');
  assert.equal(parseJournalHeader(signedHeader(`express-memfilestore-journal 123456 ${rest.slice(2)}`)), 'it has journal format version 123456, and this version reads 1');
  assert.equal(parseJournalHeader(signedHeader(`express-memfilestore-journal 1234567 ${rest.slice(2)}`)), 'it is not an express-memfilestore journal (unknown header)');
});

/** Loads `bytes` as the snapshot: the load info, or the refusal's reason. */
async function load(t, bytes) {
  const saveFile = join(tempDir(t), 'sessions.db');
  writeFileSync(saveFile, bytes);
  const store = track(t, new MemFileStore({ saveFile, savePeriod: 0, clock: () => NOW }));
  try {
    await store.ready;
  } catch (err) {
    return err.message.slice(err.message.indexOf('": ') + 3, err.message.indexOf('. The file was left untouched'));
  }
  const { format, writtenAt, absorbed, records } = store.stats.persistence.load;
  return { format, writtenAt, absorbed, records };
}

test('snapshot header: exactly the versions, dates and journal fields the format allows', async (t) => {
  const head = (rest) => `express-memfilestore-snapshot ${rest}\n`;
  const ok = (format, writtenAt, absorbed) => ({ format, writtenAt, absorbed, records: 1 });
  const cases = [
    ['1 2030-01-01T00:00:00.000Z', ok('v1', '2030-01-01T00:00:00.000Z', undefined)],
    ['1 2030-01-01T00:00:00Z', ok('v1', '2030-01-01T00:00:00Z', undefined)],
    ['1 2030-01-01T00:00:00.5Z', ok('v1', '2030-01-01T00:00:00.5Z', undefined)],
    ['2 2030-01-01T00:00:00.12Z nojournal', ok('v2', '2030-01-01T00:00:00.12Z', undefined)],
    ['2 2030-01-01T00:00:00.000Z nojournal 9', ok('v2', '2030-01-01T00:00:00.000Z', 9)],
    ['2 2030-01-01T00:00:00.000Z nojournal 1234567890123456', ok('v2', '2030-01-01T00:00:00.000Z', 1234567890123456)],
    ['2 2030-01-01T00:00:00.000Z journal 0 0123456789abcdef', 'it is missing: the snapshot'],
    ['2 2030-01-01T00:00:00.000Z journal 1234567890123456 0123456789abcdef', 'it is missing: the snapshot'],
    ['10 2030-01-01T00:00:00.000Z', 'it has format version 10, and this version of express-memfilestore reads versions 1 and 2'],
    ['123456 2030-01-01T00:00:00.000Z', 'it has format version 123456, and this version of express-memfilestore reads versions 1 and 2'],
    ['0 2030-01-01T00:00:00.000Z', 'it has format version 0, and this version of express-memfilestore reads versions 1 and 2'],
    // A later version is refused by its number whatever its journal field, which it may define differently.
    ['3 2030-01-01T00:00:00.000Z nojournal', 'it has format version 3, and this version of express-memfilestore reads versions 1 and 2'],
    ['3 2030-01-01T00:00:00.000Z journal 1 0123456789abcdef', 'it has format version 3, and this version of express-memfilestore reads versions 1 and 2'],
    ['1234567 2030-01-01T00:00:00.000Z', 'the header is malformed'],
    ['1 2030-01-01T00:00:00.0000Z', 'the header is malformed'],
    ['1 2030-01-01T00:00:00.Z', 'the header is malformed'],
    ['1 2030-01-01T00:00:00.000', 'the header is malformed'],
    ['1 2030-01-01 00:00:00.000Z', 'the header is malformed'],
    ['1 2030-1-01T00:00:00.000Z', 'the header is malformed'],
    ['1 02030-01-01T00:00:00.000Z', 'the header is malformed'],
    ['1 2030-01-01T00:00:00.000Z ', 'the header is malformed'],
    ['1  2030-01-01T00:00:00.000Z', 'the header is malformed'],
    [' 1 2030-01-01T00:00:00.000Z', 'the header is malformed'],
    ['2 2030-01-01T00:00:00.000Z nojournal 12345678901234567', 'the header is malformed'],
    ['2 2030-01-01T00:00:00.000Z nojournal 01', 'the header is malformed'],
    ['2 2030-01-01T00:00:00.000Z nojournal x', 'the header is malformed'],
    ['2 2030-01-01T00:00:00.000Z nojournal9', 'the header is malformed'],
    ['2 2030-01-01T00:00:00.000Z journal 01 0123456789abcdef', 'the header is malformed'],
    ['2 2030-01-01T00:00:00.000Z journal 12345678901234567 0123456789abcdef', 'the header is malformed'],
    ['2 2030-01-01T00:00:00.000Z journal 1 0123456789abcde', 'the header is malformed'],
    ['2 2030-01-01T00:00:00.000Z journal 1 0123456789abcdeF', 'the header is malformed'],
    ['2 2030-01-01T00:00:00.000Z journal 1 0123456789abcdef0', 'the header is malformed'],
    ['2 2030-01-01T00:00:00.000Z journal 1', 'the header is malformed'],
    ['2 2030-01-01T00:00:00.000Z journal  0123456789abcdef', 'the header is malformed'],
    ['2 2030-01-01T00:00:00.000Z journal', 'the header is malformed'],
    ['2 2030-01-01T00:00:00.000Z nojournal journal 1 0123456789abcdef', 'the header is malformed'],
    ['1 2030-01-01T00:00:00.000Z journal 1 0123456789abcdef', 'the header is malformed'],
    ['2 2030-01-01T00:00:00.000Z', 'the header is malformed'],
  ];
  for (const [rest, expected] of cases) {
    const got = await load(t, file([rec('a')], { header: head(rest) }));
    if (typeof expected === 'string' && expected.startsWith('it is missing')) assert.ok(typeof got === 'string' && got.startsWith(expected), `${rest}: ${got}`);
    else assert.deepEqual(got, expected, rest);
  }
});

test('snapshot trailer: exactly "end <count> <64 hex digits>"; counts of several digits read', async (t) => {
  const body = Buffer.from(HEADER + rec('a'));
  const trailer = (text) => Buffer.concat([body, Buffer.from(`${text}\n`)]);
  const at = body.length;
  const sum = sha256(body);
  assert.deepEqual(await load(t, trailer(`end 1 ${sum}`)), { format: 'v1', writtenAt: '2030-01-01T00:00:00.000Z', absorbed: undefined, records: 1 });
  for (const bad of [`end 1 ${sum} `, `end 1 ${sum}0`, `end 1 ${sum.slice(1)}`, `end 1  ${sum}`, `end  1 ${sum}`, `end 1${sum}`, `end 01 ${sum}`,
    `end -1 ${sum}`, `end 12345678901234567 ${sum}`, `end 1 ${sum.slice(0, 63)}g`]) {
    assert.equal(await load(t, trailer(bad)), `the trailer at byte ${at} is malformed`, bad);
  }
  // Well-formed counts of 2 and 16 digits are read, and compared with the records held.
  assert.equal(await load(t, trailer(`end 12 ${sum}`)), 'the trailer counts 12 records, the file holds 1');
  assert.equal(await load(t, trailer(`end 1234567890123456 ${sum}`)), 'the trailer counts 1234567890123456 records, the file holds 1');
  assert.equal(await load(t, trailer(`end 0 ${sum}`)), 'the trailer counts 0 records, the file holds 1');
  // Twelve records: a two-digit count that matches.
  const many = file(Array.from({ length: 12 }, (_, i) => rec(`id${i}`)));
  assert.equal((await load(t, many)).records, 12);
});

test('snapshot: an empty file, and a file that ends inside the header or is no snapshot, each say which', async (t) => {
  assert.equal(await load(t, Buffer.alloc(0)), 'the file is empty');
  for (const cut of ['e', 'express-memfilestore-snap', 'express-memfilestore-snapshot', 'express-memfilestore-snapshot ', 'express-memfilestore-snapshot 1 2030-01-01']) {
    assert.equal(await load(t, Buffer.from(cut)), 'the file ends inside the header', cut);
  }
  for (const other of ['x', 'express-memfilestore-snapshoT', 'express-memfilestore-snapshotter 1']) {
    assert.equal(await load(t, Buffer.from(other)), 'it is not an express-memfilestore snapshot (unknown header)', other);
  }
});

test('journal record: the checksum is seeded with the token\'s CRC-32, so a record of another journal never checks out', () => {
  // The format (journal-format.ts): seeded with the CRC32 of the token's 16 hex digits.
  assert.equal(saltOf(TOKEN), crc32(Buffer.from(TOKEN, 'latin1'), 0));
  const other = 'fedcba9876543210';
  const out = Buffer.alloc(recordBound('id', VALUE));
  const record = out.subarray(0, encodeJournalRecord(out, 0, saltOf(other), 1, 's', 'id', NOW, VALUE));
  assert.equal(parseJournalRecord(record, 0, saltOf(other), 1, true).kind, 'record');
  assert.deepEqual(parseJournalRecord(record, 0, saltOf(TOKEN), 1, true), { kind: 'bad', reason: 'checksum mismatch' });
  // The checksum digits are the seeded CRC of everything after them.
  assert.equal(record.toString('latin1', 0, 9), `${crc32(record.subarray(9), saltOf(other)).toString(16).padStart(8, '0')} `);
});

/** A record of journal TOKEN with its first line rewritten by `edit` and its checksum recomputed: only the line is off. */
function recordWithLine(edit, { op = 's', id = 'id', value = VALUE } = {}) {
  const salt = saltOf(TOKEN);
  const out = Buffer.alloc(recordBound(id, value));
  const good = out.subarray(0, encodeJournalRecord(out, 0, salt, 3, op, id, 5, value));
  const eol = good.indexOf(0x0a);
  const body = Buffer.concat([Buffer.from(edit(good.toString('latin1', 9, eol)), 'latin1'), good.subarray(eol)]);
  return Buffer.concat([Buffer.from(`${crc32(body, salt).toString(16).padStart(8, '0')} `), body]);
}

test('journal record: lengths that disagree with the content, or run past the bytes there are, are told apart', () => {
  const salt = saltOf(TOKEN);
  const parse = (bytes, eof = true) => parseJournalRecord(bytes, 0, salt, 3, eof);
  const mismatch = { kind: 'bad', reason: 'the record\'s lengths do not match its content' };
  // "s 3 5 2 13": id "id" (2 bytes), value VALUE (13 bytes).
  assert.deepEqual(parse(recordWithLine((l) => l.replace(' 2 13', ' 1 13'))), mismatch, 'id one short');
  assert.deepEqual(parse(recordWithLine((l) => l.replace(' 2 13', ' 2 12'))), mismatch, 'value one short');
  // The id one long and the value one short: the total fits, the id's newline is not where the length says.
  assert.deepEqual(parse(recordWithLine((l) => l.replace(' 2 13', ' 3 12'))), mismatch, 'id long, value short');
  assert.deepEqual(parse(recordWithLine((l) => l.replace(' 2 13', ' 1 14'))), mismatch, 'id short, value long');
  // Lengths past the end of the bytes: at the file's end it is cut inside the record, before it more is needed.
  const long = recordWithLine((l) => l.replace(' 2 13', ' 2 14'));
  assert.deepEqual(parse(long), { kind: 'bad', reason: 'it ends inside a record' });
  assert.deepEqual(parse(long, false), { kind: 'short' });
  // Exactly the bytes of the record, then one more: both whole.
  const good = recordWithLine((l) => l);
  assert.equal(parse(good).end, good.length);
  assert.equal(parse(Buffer.concat([good, Buffer.from('x')]), false).end, good.length);
});

test('journal record: the checksum field is exactly 8 hex digits, and an unknown operation is quoted to 8 characters', () => {
  const salt = saltOf(TOKEN);
  const good = recordWithLine((l) => l);
  const withCrc = (crc, rest = good.subarray(8)) => Buffer.concat([Buffer.from(crc, 'latin1'), rest]);
  const crc = good.toString('latin1', 0, 8);
  for (const field of [`x${crc}`, `${crc}0`, `${crc}x`, crc.slice(1), `0${crc}`]) {
    assert.deepEqual(parseJournalRecord(withCrc(field), 0, salt, 3, true), { kind: 'bad', reason: 'malformed record line' }, field);
  }
  assert.deepEqual(parseJournalRecord(recordWithLine((l) => l.replace('s ', 'abcdefghij ')), 0, salt, 3, true), { kind: 'bad', reason: 'unknown operation "abcdefgh"' });
  assert.deepEqual(parseJournalRecord(recordWithLine((l) => l.replace('s ', 'S ')), 0, salt, 3, true), { kind: 'bad', reason: 'unknown operation "S"' });
});

test('snapshot: what follows a record or the trailer must be exactly a record or the trailer', async (t) => {
  // Lengths that add up to the record's size but split it at the wrong byte.
  const VL = VALUE.length;
  assert.equal(await load(t, file([rec('a'), rec('bb', `r ${NOW + HOUR} 1 ${VL + 1}`)])), `record 2 at byte ${AT2} is malformed (length does not match its content)`);
  assert.equal(await load(t, file([rec('a'), rec('bb', `r ${NOW + HOUR} 3 ${VL - 1}`)])), `record 2 at byte ${AT2} is malformed (length does not match its content)`);
  // A line shaped like a record but not starting with "r ".
  assert.equal(await load(t, file([rec('a'), `x ${NOW + HOUR} 1 ${VL}\nb\n${VALUE}\n`])), `unexpected data at byte ${AT2} (expected a record or the trailer)`);
  assert.equal(await load(t, file([rec('a'), `R ${NOW + HOUR} 1 ${VL}\nb\n${VALUE}\n`])), `unexpected data at byte ${AT2} (expected a record or the trailer)`);
  // Whole lines after the trailer: a stray line, or a record that would have been valid before it.
  const whole = file([rec('a')]);
  assert.equal(await load(t, Buffer.concat([whole, Buffer.from('x\n')])), `unexpected data after the trailer at byte ${whole.length}`);
  assert.equal(await load(t, Buffer.concat([whole, Buffer.from(rec('b'))])), `unexpected data after the trailer at byte ${whole.length}`);
  assert.equal(await load(t, Buffer.concat([whole, Buffer.from(`end 1 ${sha256(Buffer.from(HEADER + rec('a')))}\n`)])), `unexpected data after the trailer at byte ${whole.length}`);
});

/** A journal file: header (gen, token, after) then records [op, id] setting VALUE, numbered from 1; `damage` flips a header byte. */
function journalBytes({ gen, token = TOKEN, after = 's:-', records = [], damage = false }) {
  const head = Buffer.from(encodeJournalHeader(gen, token, after, NOW), 'latin1');
  if (damage) head[40] ^= 0x01; // inside the token: the header fails its checksum
  const parts = [head];
  for (const [i, [op, id]] of records.entries()) {
    const out = Buffer.alloc(recordBound(id, VALUE));
    parts.push(out.subarray(0, encodeJournalRecord(out, 0, saltOf(token), i + 1, op, id, op === 's' ? NOW + HOUR : 0, op === 's' ? VALUE : '')));
  }
  return Buffer.concat(parts);
}

/** `bytes` followed by zeros to 1 MiB: a journal as the writer leaves it, with the space it set aside (journal-file.ts). */
const withSpace = (bytes) => Buffer.concat([bytes, Buffer.alloc((1 << 20) - bytes.length)]);

/** Starts a store on `files` (name -> bytes) in a fresh directory: its ids, or the refusal's reason and file. */
async function start(t, files) {
  const dir = tempDir(t);
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  const saveFile = join(dir, 'sessions.db');
  const store = track(t, new MemFileStore({ saveFile, savePeriod: 0, clock: () => NOW }));
  try {
    await store.ready;
  } catch (err) {
    const m = /^express-memfilestore: cannot load "([^"]*)": (.*)\. The file was left untouched/s.exec(err.message);
    assert.ok(m, err.message);
    return { file: m[1].slice(dir.length + 1), reason: m[2].replaceAll(saveFile, '<saveFile>') };
  }
  return (await call(store, 'ids')).sort();
}

test('journal chain: a later journal with a damaged header is refused when records follow it, a leftover when none do', async (t) => {
  const snapshot = file([rec('a')], { header: `express-memfilestore-snapshot 2 2030-01-01T00:00:00.000Z journal 1 ${TOKEN}\n` });
  const first = journalBytes({ gen: 1, records: [['s', 'j']] });
  const second = { gen: 2, token: 'fedcba9876543210', after: `j:${TOKEN}`, damage: true };
  assert.deepEqual(await start(t, { 'sessions.db': snapshot, 'sessions.db.journal.1': first, 'sessions.db.journal.2': journalBytes({ ...second, records: [['s', 'k']] }) }),
    { file: 'sessions.db.journal.2', reason: 'its header is damaged (checksum mismatch), and records follow it' });
  // An intact header continuing something else, with records: another copy's journal.
  assert.deepEqual(await start(t, { 'sessions.db': snapshot, 'sessions.db.journal.1': first,
    'sessions.db.journal.2': journalBytes({ ...second, damage: false, after: 'j:fedcba9876543210', records: [['s', 'k']] }) }),
  { file: 'sessions.db.journal.2', reason: 'it holds changes but continues no journal here (a journal from another copy of these files?)' });
  // Its creation cut short by a crash (header only): a leftover, the chain before it replays.
  assert.deepEqual(await start(t, { 'sessions.db': snapshot, 'sessions.db.journal.1': first, 'sessions.db.journal.2': journalBytes(second) }), ['a', 'j']);
  // Every operation makes a record line that counts: a deletion after a damaged header is refused as well.
  for (const op of ['t', 'd', 'c']) {
    const records = op === 't' ? [['t', 'k']] : [[op, op === 'd' ? 'k' : '']];
    assert.deepEqual(await start(t, { 'sessions.db': snapshot, 'sessions.db.journal.1': first, 'sessions.db.journal.2': journalBytes({ ...second, records }) }),
      { file: 'sessions.db.journal.2', reason: 'its header is damaged (checksum mismatch), and records follow it' }, op);
  }
});

test('journal chain: a standalone snapshot\'s own journals (up to the generation it names) are leftovers, later ones are refused', async (t) => {
  const snapshot = file([rec('a')], { header: 'express-memfilestore-snapshot 2 2030-01-01T00:00:00.000Z nojournal 3\n' });
  const other = `s:${'e'.repeat(64)}`;
  assert.deepEqual(await start(t, { 'sessions.db': snapshot, 'sessions.db.journal.3': journalBytes({ gen: 3, after: other, records: [['s', 'j']] }) }), ['a']);
  assert.deepEqual(await start(t, { 'sessions.db': snapshot, 'sessions.db.journal.4': journalBytes({ gen: 4, after: other, records: [['s', 'j']] }) }),
    { file: 'sessions.db.journal.4', reason: 'it does not belong to the snapshot "<saveFile>" beside it' });
  // A journal of another snapshot holding no record is a leftover too, whatever its generation.
  assert.deepEqual(await start(t, { 'sessions.db': snapshot, 'sessions.db.journal.4': journalBytes({ gen: 4, after: other }) }), ['a']);
  // A damaged header: refused when records follow, a leftover when only the header is there.
  assert.deepEqual(await start(t, { 'sessions.db': snapshot, 'sessions.db.journal.4': journalBytes({ gen: 4, after: other, damage: true, records: [['s', 'j']] }) }),
    { file: 'sessions.db.journal.4', reason: 'its header is damaged (checksum mismatch)' });
  assert.deepEqual(await start(t, { 'sessions.db': snapshot, 'sessions.db.journal.4': journalBytes({ gen: 4, after: other, damage: true }) }), ['a']);
});

test('journal: after a damaged header, only a whole record line counts as records (its checksum unchecked), near misses do not', async (t) => {
  const snapshot = file([rec('a')], { header: 'express-memfilestore-snapshot 2 2030-01-01T00:00:00.000Z nojournal 3\n' });
  const header = journalBytes({ gen: 4, after: `s:${'e'.repeat(64)}`, damage: true });
  const files = (text) => ({ 'sessions.db': snapshot, 'sessions.db.journal.4': Buffer.concat([header, Buffer.from(text, 'latin1')]) });
  const refused = { file: 'sessions.db.journal.4', reason: 'its header is damaged (checksum mismatch)' };
  assert.deepEqual(await start(t, files('00000000 s 1 2 3 4\n')), refused);
  assert.deepEqual(await start(t, files('garbage\nabcdef09 c 1234567890123456 0 0 0\nmore')), refused);
  // Numbers of several digits in every field (a 32-character id, as session ids are).
  assert.deepEqual(await start(t, files('00000000 s 12 1893459600000 32 1234\n')), refused);
  const nearMisses = ['0000000 s 1 2 3 4\n', '0000000g s 1 2 3 4\n', 'x00000000 s 1 2 3 4\n', '00000000 x 1 2 3 4\n', '00000000 s 1 2 3\n',
    '00000000 s 1 2 3 4 \n', '00000000 s 1 2 3 4', '00000000 s  1 2 3 4\n', '00000000 s 12345678901234567 2 3 4\n', '00000000 s 1 2 3 12345678901234567\n',
    '00000000 ss 1 2 3 4\n', '00000000s 1 2 3 4\n', '00000000 s 1 2 3 x\n'];
  for (const text of nearMisses) assert.deepEqual(await start(t, files(text)), ['a'], JSON.stringify(text));
});

test('journal record: a first line of up to 200 bytes is read field by field, a longer one is malformed whatever it holds', () => {
  const salt = saltOf(TOKEN);
  const line = (length) => {
    const op = 'x'.repeat(length - '00000000  1 2 3 4'.length);
    return Buffer.from(`00000000 ${op} 1 2 3 4\nid\n\n`, 'latin1');
  };
  assert.equal(line(200).indexOf(0x0a), 200);
  assert.deepEqual(parseJournalRecord(line(200), 0, salt, 1, true), { kind: 'bad', reason: 'unknown operation "xxxxxxxx"' });
  assert.deepEqual(parseJournalRecord(line(201), 0, salt, 1, true), { kind: 'bad', reason: 'malformed record line' });
  assert.deepEqual(parseJournalRecord(line(201), 0, salt, 1, false), { kind: 'bad', reason: 'malformed record line' });
});

test('journal record: a line whose every number is malformed is malformed, not checked against its checksum', () => {
  const salt = saltOf(TOKEN);
  for (const numbers of ['01 02 03 04', '3 5 2 1x', '3 5 2x 13', '01 5 2 13', '3 05 2 13', '3 5 02 13', '3 5 2 013', 'x y z w']) {
    const bytes = recordWithLine((l) => l.replace('3 5 2 13', numbers));
    assert.deepEqual(parseJournalRecord(bytes, 0, salt, 3, true), { kind: 'bad', reason: 'malformed record line' }, numbers);
  }
});

test('journal record: checksum digits are exactly 0-9 and a-f, wherever they stand', () => {
  const salt = saltOf(TOKEN);
  // Checksums of letters only and of digits only (ids found by search, so the cases are fixed) read back as records.
  for (const shape of [/^[a-f]{8}$/, /^[0-9]{8}$/]) {
    let n = 0;
    let bytes;
    do {
      const out = Buffer.alloc(recordBound(`id${n}`, VALUE));
      bytes = out.subarray(0, encodeJournalRecord(out, 0, salt, 1, 's', `id${n++}`, NOW, VALUE));
    } while (!shape.test(bytes.toString('latin1', 0, 8)));
    assert.equal(parseJournalRecord(bytes, 0, salt, 1, true).kind, 'record', bytes.toString('latin1', 0, 8));
  }
  // Characters next to the hex ranges, alone or among hex digits, make the line malformed (not a checksum mismatch).
  const good = recordWithLine((l) => l);
  for (const field of ['ZZZZZZZZ', 'zzzzzzzz', '////////', '::::::::', '1234567Z', '1234567g', '`0000000', 'Z0000000', '_abcdef0', 'abcdefg0', 'G0000000']) {
    const bytes = Buffer.concat([Buffer.from(field, 'latin1'), good.subarray(8)]);
    assert.deepEqual(parseJournalRecord(bytes, 0, salt, 3, true), { kind: 'bad', reason: 'malformed record line' }, field);
  }
});

test('journal record: every separator of the first line must be one space, and no number may be empty', () => {
  const salt = saltOf(TOKEN);
  const malformed = { kind: 'bad', reason: 'malformed record line' };
  // The line is "s 3 5 2 13" (op, seq, expiry, id and value lengths); each edit keeps the checksum right.
  const edits = [['s33 5 2 13', 'no space after the operation'], ['s  5 2 13', 'empty sequence number'], ['s  2 13', 'empty sequence number, three fields'],
    ['s 3  2 13', 'empty expiry'], ['s 3  13', 'empty expiry, three fields'], ['s 3 5  13', 'empty id length'], ['s 3 5 2 ', 'empty value length']];
  // At the start of the bytes, and after 10 spaces (what precedes a record must not matter).
  for (const pad of [0, 10]) {
    for (const [line, what] of edits) {
      const bytes = Buffer.concat([Buffer.alloc(pad, ' '), recordWithLine((l) => l.replace('s 3 5 2 13', line))]);
      assert.deepEqual(parseJournalRecord(bytes, pad, salt, 3, true), malformed, `${what}, at ${pad}`);
    }
    // No space after the checksum: a ninth character there, then an operation letter.
    const good = recordWithLine((l) => l);
    const noSpace = Buffer.concat([Buffer.alloc(pad, ' '), good.subarray(0, 8), Buffer.from('x'), good.subarray(9)]);
    assert.deepEqual(parseJournalRecord(noSpace, pad, salt, 3, true), malformed, `no space after the checksum, at ${pad}`);
    const good2 = Buffer.concat([Buffer.alloc(pad, ' '), good]);
    assert.equal(parseJournalRecord(good2, pad, salt, 3, true).kind, 'record');
  }
});

test('snapshot header as written: the journal it hands over to, the generation it absorbed at close, or nothing to absorb', async (t) => {
  const dir = tempDir(t);
  const firstLine = (path) => readFileSync(path, 'latin1').split('\n', 1)[0];
  const iso = new Date(NOW).toISOString();
  const set = (store, id) => call(store, 'set', id, { cookie: { expires: new Date(NOW + HOUR).toISOString() } });

  const saveFile = join(dir, 'sessions.db');
  const store = track(t, new MemFileStore({ saveFile, savePeriod: 0, clock: () => NOW }));
  await store.ready;
  await set(store, 'a');
  await store.flush();
  // Running with a journal: the snapshot names the journal that continues it.
  const running = /^express-memfilestore-snapshot 2 (\S+) journal ([1-9]\d*) ([0-9a-f]{16})$/.exec(firstLine(saveFile));
  assert.ok(running, firstLine(saveFile));
  assert.equal(running[1], iso);
  assert.equal(readFileSync(`${saveFile}.journal.${running[2]}`, 'latin1').split(' ')[3], running[3]);
  await set(store, 'b');
  await store.close();
  // At close: a snapshot that stands alone and names the last journal generation it holds.
  assert.equal(firstLine(saveFile), `express-memfilestore-snapshot 2 ${iso} nojournal ${running[2]}`);

  // Without a journal, and none ever beside it: nothing absorbed.
  const plain = join(dir, 'plain.db');
  const without = track(t, new MemFileStore({ saveFile: plain, savePeriod: 0, journal: false, clock: () => NOW }));
  await without.ready;
  await set(without, 'a');
  await without.close();
  assert.equal(firstLine(plain), `express-memfilestore-snapshot 2 ${iso} nojournal`);
});

test('a refused snapshot throws a SnapshotError carrying the file and the bare reason', async (t) => {
  const saveFile = join(tempDir(t), 'sessions.db');
  writeFileSync(saveFile, 'not a snapshot\n');
  const store = track(t, new MemFileStore({ saveFile, savePeriod: 0, clock: () => NOW }));
  const err = await store.ready.then(() => assert.fail('accepted'), (e) => e);
  assert.equal(err.name, 'SnapshotError');
  assert.equal(err.code, 'ERR_SNAPSHOT_DAMAGED');
  assert.equal(err.file, saveFile);
  assert.equal(err.reason, 'it is not an express-memfilestore snapshot (unknown header)');
});

test('snapshot: a file whose checksum does not match its content is refused as altered or damaged', async (t) => {
  const body = Buffer.from(HEADER + rec('a'));
  assert.equal(await load(t, Buffer.concat([body, Buffer.from(`end 1 ${'0'.repeat(64)}\n`)])), 'checksum mismatch (the content was altered or damaged)');
  const flipped = file([rec('a')]);
  flipped[HEADER.length + 3] ^= 0x01; // a digit of the expiry: still a well-formed record
  assert.equal(await load(t, flipped), 'checksum mismatch (the content was altered or damaged)');
});

test('snapshot record line: no number may be empty, and a value of 0 bytes is a record', async (t) => {
  const AT1 = HEADER.length;
  const VL = VALUE.length;
  for (const line of [`r  ${VL}`, `r  1 ${VL}`, `r ${NOW + HOUR}  ${VL}`, `r ${NOW + HOUR} 1 `, `r ${NOW + HOUR} 1`]) {
    assert.equal(await load(t, file([rec('b', line)])), `record 1 has a malformed header at byte ${AT1}`, line);
  }
  assert.deepEqual(await load(t, file([`r ${NOW + HOUR} 1 0\nb\n\n`])), { format: 'v1', writtenAt: '2030-01-01T00:00:00.000Z', absorbed: undefined, records: 1 });
});

test('starting and closing a store leaves no file of its directory open (journals are read and closed)', async (t) => {
  if (!existsSync('/proc/self/fd')) return t.skip('needs /proc/self/fd (Linux)');
  const dir = tempDir(t);
  const saveFile = join(dir, 'sessions.db');
  writeFileSync(saveFile, snapshotBeforeJournal());
  writeFileSync(`${saveFile}.journal.1`, journalFile([['s', 'j1', VALUE]]));
  // Leftovers and look-alikes too: every file the start reads.
  writeFileSync(`${saveFile}.journal.0`, journalBytes({ gen: 0, after: `s:${'e'.repeat(64)}` }));
  writeFileSync(`${saveFile}.journal.7`, journalBytes({ gen: 7, after: `s:${'e'.repeat(64)}`, damage: true }));
  const openInDir = () => readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target.startsWith(dir) ? [target] : [];
    } catch {
      return []; // closed meanwhile (the fd of the directory listing itself)
    }
  });
  const store = track(t, new MemFileStore({ saveFile, savePeriod: 0, journal: false, clock: () => NOW }));
  await store.ready;
  assert.deepEqual(openInDir(), [], 'after the start (no journal kept open with journal: false)');
  assert.deepEqual((await call(store, 'ids')).sort(), ['a', 'j1']);
  await store.close();
  assert.deepEqual(openInDir(), [], 'after close');
});

test('journals are taken in order of generation, not of name: of two foreign journals, 9 is named before 10', async (t) => {
  const other = `s:${'e'.repeat(64)}`;
  const files = {
    'sessions.db': file([rec('a')]),
    'sessions.db.journal.10': journalBytes({ gen: 10, after: other, records: [['s', 'k']] }),
    'sessions.db.journal.9': journalBytes({ gen: 9, after: other, records: [['s', 'j']] }),
  };
  assert.deepEqual(await start(t, files), { file: 'sessions.db.journal.9', reason: 'it does not belong to the snapshot "<saveFile>" beside it' });
});

test('the next journal takes a generation above every one seen: the snapshot\'s pointer, its absorbed one, and the files', async (t) => {
  const firstLine = (path) => readFileSync(path, 'latin1').split('\n', 1)[0];
  const next = async (files) => {
    const dir = tempDir(t);
    for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
    const saveFile = join(dir, 'sessions.db');
    const store = track(t, new MemFileStore({ saveFile, savePeriod: 0, clock: () => NOW }));
    await store.ready;
    await call(store, 'set', 'n', { cookie: { expires: new Date(NOW + HOUR).toISOString() } });
    await store.flush();
    return Number(/ journal (\d+) [0-9a-f]{16}$/.exec(firstLine(saveFile))?.[1]);
  };
  const v2 = (rest) => file([rec('a')], { header: `express-memfilestore-snapshot 2 2030-01-01T00:00:00.000Z ${rest}\n` });
  // The chain's last journal is 3: the next is 4.
  assert.equal(await next({ 'sessions.db': v2(`journal 3 ${TOKEN}`), 'sessions.db.journal.3': journalBytes({ gen: 3, records: [['s', 'j']] }) }), 4);
  // A standalone snapshot that absorbed 12, no journal left: the first change opens 13, the snapshot hands over to 14.
  assert.equal(await next({ 'sessions.db': v2('nojournal 12') }), 14);
  // A leftover journal 20 (no records, another snapshot's) beside it: the first change opens 21, the snapshot names 22.
  assert.equal(await next({ 'sessions.db': v2('nojournal 12'), 'sessions.db.journal.20': journalBytes({ gen: 20, after: `s:${'e'.repeat(64)}` }) }), 22);
});

test('journals older than the chain are leftovers of a finished snapshot, even holding records', async (t) => {
  const snapshot = file([rec('a')], { header: `express-memfilestore-snapshot 2 2030-01-01T00:00:00.000Z journal 5 ${TOKEN}\n` });
  const files = {
    'sessions.db': snapshot,
    'sessions.db.journal.5': journalBytes({ gen: 5, records: [['s', 'j']] }),
    'sessions.db.journal.3': journalBytes({ gen: 3, token: 'fedcba9876543210', after: `s:${'e'.repeat(64)}`, records: [['s', 'old']] }),
  };
  assert.deepEqual(await start(t, files), ['a', 'j']);
});

test('a replayed journal with a torn tail: what the load reports, what the journal counts on from, and the file cut back', async (t) => {
  const dir = tempDir(t);
  const saveFile = join(dir, 'sessions.db');
  writeFileSync(saveFile, snapshotBeforeJournal());
  const whole = journalFile([['s', 'j1', VALUE], ['s', 'j2', VALUE]]);
  const withThird = journalFile([['s', 'j1', VALUE], ['s', 'j2', VALUE], ['s', 'j3', VALUE]]);
  const torn = withThird.subarray(0, whole.length + 20); // the third record cut after 20 bytes
  writeFileSync(`${saveFile}.journal.1`, torn);
  const headerBytes = Buffer.byteLength(encodeJournalHeader(1, TOKEN, 's:-', NOW));
  const store = track(t, new MemFileStore({ saveFile, savePeriod: 0, clock: () => NOW }));
  await store.ready;
  const { load, journal } = store.stats.persistence;
  assert.deepEqual({ files: load.journalFiles, records: load.journalRecords, tornBytes: load.tornBytes }, { files: 1, records: 2, tornBytes: 20 });
  assert.equal(journal.bytes, whole.length - headerBytes, 'the records replayed, not the header');
  assert.equal(journal.generation, 1);
  assert.deepEqual(readFileSync(`${saveFile}.journal.1`), whole, 'cut back to the last whole record');
  assert.deepEqual((await call(store, 'ids')).sort(), ['a', 'j1', 'j2']);
});

test('appends after a replay continue the journal\'s record numbers', async (t) => {
  const dir = tempDir(t);
  const saveFile = join(dir, 'sessions.db');
  writeFileSync(saveFile, snapshotBeforeJournal());
  writeFileSync(`${saveFile}.journal.1`, journalFile([['s', 'j1', VALUE], ['s', 'j2', VALUE]]));
  const store = track(t, new MemFileStore({ saveFile, savePeriod: 0, journal: 'always', clock: () => NOW }));
  await store.ready;
  await call(store, 'set', 'j3', { cookie: { expires: new Date(NOW + HOUR).toISOString() } }); // 'always': on disk when called back
  const bytes = readFileSync(`${saveFile}.journal.1`);
  let pos = Buffer.byteLength(encodeJournalHeader(1, TOKEN, 's:-', NOW));
  for (const seq of [1, 2, 3]) {
    const parsed = parseJournalRecord(bytes, pos, saltOf(TOKEN), seq, true);
    assert.equal(parsed.kind, 'record', `record ${seq}: ${parsed.reason}`);
    pos = parsed.end;
  }
  assert.equal(bytes.length, 1 << 20, 'the reopened journal sets space aside as a new one does');
  assert.ok(bytes.subarray(pos).every((b) => b === 0), 'nothing after record 3 but that space');
});

test('a start sets space aside again at the first append after cutting a torn tail, and none more in a journal left with its space', async (t) => {
  const whole = journalFile([['s', 'j1', VALUE], ['s', 'j2', VALUE]]);
  const torn = journalFile([['s', 'j1', VALUE], ['s', 'j2', VALUE], ['s', 'j3', VALUE]]).subarray(0, whole.length + 20);
  for (const [name, journal, left, setAside] of [['torn', torn, whole.length, [1 << 20]], ['intact', whole, 1 << 20, []]]) {
    const saveFile = join(tempDir(t), 'sessions.db');
    writeFileSync(saveFile, snapshotBeforeJournal());
    writeFileSync(`${saveFile}.journal.1`, withSpace(journal));
    const fs = journalFs();
    const store = track(t, new MemFileStore({ saveFile, savePeriod: 0, journal: 'always', clock: () => NOW, fs }));
    await store.ready;
    assert.equal(readFileSync(`${saveFile}.journal.1`).length, left, `${name}: the file's length after the start`);
    await call(store, 'set', 'k', { cookie: { expires: new Date(NOW + HOUR).toISOString() } });
    assert.deepEqual(fs.calls.filter((c) => c.call === 'ftruncate' && isJournal(c.path)).map((c) => c.size), setAside, `${name}: space set aside`);
    assert.equal(readFileSync(`${saveFile}.journal.1`).length, 1 << 20, `${name}: the record written inside 1 MiB set aside`);
  }
});

test('zeros after a journal\'s header are the space set aside, not records: such a journal that continues nothing here is a leftover', async (t) => {
  const chained = file([rec('a')], { header: `express-memfilestore-snapshot 2 2030-01-01T00:00:00.000Z journal 1 ${TOKEN}\n` });
  const other = { gen: 2, token: 'fedcba9876543210', after: 'j:fedcba9876543210' };
  const first = journalBytes({ gen: 1, records: [['s', 'j']] });
  assert.deepEqual(await start(t, { 'sessions.db': chained, 'sessions.db.journal.1': first, 'sessions.db.journal.2': withSpace(journalBytes(other)) }), ['a', 'j']);
  // The same journal with a record in that space is another copy's.
  const held = withSpace(journalBytes({ ...other, records: [['s', 'k']] }));
  assert.deepEqual(await start(t, { 'sessions.db': chained, 'sessions.db.journal.1': first, 'sessions.db.journal.2': held }),
    { file: 'sessions.db.journal.2', reason: 'it holds changes but continues no journal here (a journal from another copy of these files?)' });
  // Beside a standalone snapshot, of a later generation than it absorbed.
  const standalone = file([rec('a')], { header: 'express-memfilestore-snapshot 2 2030-01-01T00:00:00.000Z nojournal 3\n' });
  const later = { gen: 4, after: `s:${'e'.repeat(64)}` };
  assert.deepEqual(await start(t, { 'sessions.db': standalone, 'sessions.db.journal.4': withSpace(journalBytes(later)) }), ['a']);
  assert.deepEqual(await start(t, { 'sessions.db': standalone, 'sessions.db.journal.4': withSpace(journalBytes({ ...later, records: [['s', 'j']] })) }),
    { file: 'sessions.db.journal.4', reason: 'it does not belong to the snapshot "<saveFile>" beside it' });
});

test('a journal that continues nothing here, with records after zeros (its first page lost in a crash), holds changes: refused, not removed', async (t) => {
  // Zeros where its first record would begin, whole records further on: what a crash leaves of unsynced pages.
  const firstPageLost = (journal) => {
    const header = journalBytes({ ...journal, records: [] }).length;
    const whole = journalBytes(journal);
    return withSpace(Buffer.concat([whole.subarray(0, header), Buffer.alloc(4096 - header), whole.subarray(header)]));
  };
  const chained = file([rec('a')], { header: `express-memfilestore-snapshot 2 2030-01-01T00:00:00.000Z journal 1 ${TOKEN}\n` });
  const other = { gen: 2, token: 'fedcba9876543210', after: 'j:fedcba9876543210', records: [['s', 'k'], ['s', 'l']] };
  assert.deepEqual(await start(t, { 'sessions.db': chained, 'sessions.db.journal.1': journalBytes({ gen: 1, records: [['s', 'j']] }), 'sessions.db.journal.2': firstPageLost(other) }),
    { file: 'sessions.db.journal.2', reason: 'it holds changes but continues no journal here (a journal from another copy of these files?)' });
  const standalone = file([rec('a')], { header: 'express-memfilestore-snapshot 2 2030-01-01T00:00:00.000Z nojournal 3\n' });
  assert.deepEqual(await start(t, { 'sessions.db': standalone, 'sessions.db.journal.4': firstPageLost({ gen: 4, after: `s:${'e'.repeat(64)}`, records: [['s', 'j']] }) }),
    { file: 'sessions.db.journal.4', reason: 'it does not belong to the snapshot "<saveFile>" beside it' });
});

test('a journal cut inside its header beside a snapshot without a pointer is a leftover of a crashed creation', async (t) => {
  const cut = Buffer.from(encodeJournalHeader(1, TOKEN, 's:-', NOW), 'latin1').subarray(0, 50);
  assert.deepEqual(await start(t, { 'sessions.db': file([rec('a')]), 'sessions.db.journal.1': cut }), ['a']);
  assert.deepEqual(await start(t, { 'sessions.db.journal.1': cut }), []);
});

test('the journal a snapshot names, but with another token, is refused: a snapshot restored beside a newer journal', async (t) => {
  const files = { 'sessions.db': snapshotBeforeJournal(), 'sessions.db.journal.1': journalBytes({ gen: 1, token: 'fedcba9876543210', records: [['s', 'j']] }) };
  assert.deepEqual(await start(t, files), { file: 'sessions.db.journal.1', reason: 'it does not belong to the snapshot "<saveFile>" beside it (a snapshot restored from a backup?)' });
});

test('a chain of three journals replays in order, each continuing the one before by its token', async (t) => {
  const T2 = 'fedcba9876543210';
  const T3 = '00112233445566ff';
  const files = {
    'sessions.db': snapshotBeforeJournal(),
    'sessions.db.journal.1': journalBytes({ gen: 1, records: [['s', 'j1'], ['s', 'x']] }),
    'sessions.db.journal.2': journalBytes({ gen: 2, token: T2, after: `j:${TOKEN}`, records: [['s', 'j2'], ['d', 'x']] }),
    'sessions.db.journal.3': journalBytes({ gen: 3, token: T3, after: `j:${T2}`, records: [['s', 'j3']] }),
  };
  assert.deepEqual(await start(t, files), ['a', 'j1', 'j2', 'j3']);
  // Its last journal with only a header (a rotation cut short): the chain ends before it, nothing lost.
  assert.deepEqual(await start(t, { ...files, 'sessions.db.journal.3': journalBytes({ gen: 3, token: T3, after: `j:${T2}` }) }), ['a', 'j1', 'j2']);
});

test('a torn tail of a journal continuing a snapshot by its checksum is cut at start too (the snapshot-first load)', async (t) => {
  const dir = tempDir(t);
  const saveFile = join(dir, 'sessions.db');
  const snap = file([rec('a')]);
  writeFileSync(saveFile, snap);
  const after = `s:${sha256(snap.subarray(0, snap.lastIndexOf('end ')))}`;
  const whole = journalBytes({ gen: 1, after, records: [['s', 'j1']] });
  const longer = journalBytes({ gen: 1, after, records: [['s', 'j1'], ['s', 'j2']] });
  writeFileSync(`${saveFile}.journal.1`, longer.subarray(0, whole.length + 15));
  const store = track(t, new MemFileStore({ saveFile, savePeriod: 0, clock: () => NOW }));
  await store.ready;
  assert.equal(store.stats.persistence.load.tornBytes, 15);
  assert.deepEqual(readFileSync(`${saveFile}.journal.1`), whole);
  assert.deepEqual((await call(store, 'ids')).sort(), ['a', 'j1']);
});

test('a journal naming the chain\'s journal but of a lower generation, or cut inside its header, does not join the chain', async (t) => {
  const snapshot = file([rec('a')], { header: `express-memfilestore-snapshot 2 2030-01-01T00:00:00.000Z journal 5 ${TOKEN}\n` });
  const files = {
    'sessions.db': snapshot,
    'sessions.db.journal.5': journalBytes({ gen: 5, records: [['s', 'j']] }),
    'sessions.db.journal.4': journalBytes({ gen: 4, token: 'fedcba9876543210', after: `j:${TOKEN}`, records: [['s', 'old']] }),
    'sessions.db.journal.6': Buffer.from(encodeJournalHeader(6, 'fedcba9876543211', `j:${TOKEN}`, NOW), 'latin1').subarray(0, 40),
  };
  assert.deepEqual(await start(t, files), ['a', 'j']);
});

test('journal chain: a damaged record with a later journal holding changes is refused, naming the record, its byte and that journal', async (t) => {
  const snapshot = file([rec('a')], { header: `express-memfilestore-snapshot 2 2030-01-01T00:00:00.000Z journal 1 ${TOKEN}\n` });
  const first = journalBytes({ gen: 1, records: [['s', 'j1'], ['s', 'j2'], ['s', 'j3']] });
  const secondAt = first.indexOf('\n', first.indexOf('\nj1\n') + 4) + 1; // after record 1's value line
  first[secondAt + 20] ^= 0x01; // inside record 2's header line: its checksum fails
  const later = journalBytes({ gen: 2, token: 'fedcba9876543210', after: `j:${TOKEN}`, records: [['s', 'k']] });
  const refused = await start(t, { 'sessions.db': snapshot, 'sessions.db.journal.1': first, 'sessions.db.journal.2': later });
  assert.equal(refused.file, 'sessions.db.journal.1');
  assert.match(refused.reason, new RegExp(`^record 2 at byte ${secondAt} is damaged \\(.+\\) and a later journal "<saveFile>\\.journal\\.2" holds changes$`));
});

test('a journal larger than one read (1 MiB) replays whole: records that span two reads are read across them', async (t) => {
  const snapshot = file([rec('a')], { header: `express-memfilestore-snapshot 2 2030-01-01T00:00:00.000Z journal 1 ${TOKEN}\n` });
  const ids = Array.from({ length: 40_000 }, (_, i) => `session-${String(i).padStart(6, '0')}`);
  const journal = journalBytes({ gen: 1, records: ids.map((id) => ['s', id]) });
  assert.ok(journal.length > 2 * 1024 * 1024, `${journal.length} bytes: at least three reads`);
  assert.deepEqual(await start(t, { 'sessions.db': snapshot, 'sessions.db.journal.1': journal }), ['a', ...ids].sort());
});

test('cutting a torn journal tail at a start leaves the journal closed', async (t) => {
  if (!existsSync('/proc/self/fd')) return t.skip('needs /proc/self/fd (Linux)');
  const dir = tempDir(t);
  const saveFile = join(dir, 'sessions.db');
  writeFileSync(saveFile, snapshotBeforeJournal());
  const whole = journalFile([['s', 'j1', VALUE], ['s', 'j2', VALUE]]);
  writeFileSync(`${saveFile}.journal.1`, whole.subarray(0, whole.length - 3)); // the last record cut short
  const openInDir = () => readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target.startsWith(dir) ? [target] : [];
    } catch {
      return [];
    }
  });
  const store = track(t, new MemFileStore({ saveFile, savePeriod: 0, journal: false, clock: () => NOW }));
  await store.ready;
  assert.equal(store.stats.persistence.load.tornBytes > 0, true, 'a torn tail was found');
  assert.ok(readFileSync(`${saveFile}.journal.1`).length < whole.length - 3, 'and cut');
  assert.deepEqual(openInDir(), [], 'nothing left open after the cut');
});
