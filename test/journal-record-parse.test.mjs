// The journal's record parser reads the record line straight from the bytes (the replay's hot path) and falls
// back to a slower parser that says what is wrong: both must accept exactly the same lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { encodeJournalRecord, parseJournalRecord, recordBound, saltOf } = require('../dist/files/journal-format.js');

const salt = saltOf('0123456789abcdef');

function encode(op, seq, id, expires, value) {
  const out = Buffer.alloc(recordBound(id, value));
  return out.subarray(0, encodeJournalRecord(out, 0, salt, seq, op, id, expires, value));
}

/** The record with its first line rewritten by `edit` and its checksum recomputed, so only the line is off. */
function withLine(record, edit) {
  const eol = record.indexOf(0x0a);
  const line = edit(record.toString('latin1', 9, eol));
  const body = Buffer.concat([Buffer.from(line, 'latin1'), record.subarray(eol)]);
  const crc = require('node:zlib').crc32(body, salt).toString(16).padStart(8, '0');
  return Buffer.concat([Buffer.from(`${crc} `, 'latin1'), body]);
}

test('records of every kind read back as written, unicode included', () => {
  const cases = [['s', 1, 'abc', 1_900_000_000_000, '{"a":"é ✓ 𝄞"}'], ['t', 12, 'x'.repeat(32), 0, '{}'], ['d', 123456, 'gone', 0, ''], ['c', 7, '', 0, '']];
  for (const [op, seq, id, expires, value] of cases) {
    const bytes = encode(op, seq, id, expires, value);
    const parsed = parseJournalRecord(bytes, 0, salt, seq, true);
    assert.equal(parsed.kind, 'record');
    // bytes: what maxSize counts, measured as the UTF-8 the file holds (é 2, ✓ 3, 𝄞 4 bytes).
    assert.deepEqual(parsed.record, { op, id, expires, value, bytes: Buffer.byteLength(id) + Buffer.byteLength(value) });
    assert.equal(parsed.end, bytes.length);
  }
});

test('a record line that is off in any field is refused, with the reason the careful parser gives', () => {
  const good = encode('s', 3, 'id', 5, 'v');
  assert.equal(parseJournalRecord(good, 0, salt, 3, true).kind, 'record');
  const bad = (edit) => parseJournalRecord(withLine(good, edit), 0, salt, 3, true);
  assert.deepEqual(bad((l) => l.replace('s 3 ', 's 03 ')), { kind: 'bad', reason: 'malformed record line' }, 'leading zero');
  assert.deepEqual(bad((l) => l.replace('s 3 5 ', 's 3 5  ')), { kind: 'bad', reason: 'malformed record line' }, 'two spaces');
  assert.deepEqual(bad((l) => `${l} `), { kind: 'bad', reason: 'malformed record line' }, 'trailing space');
  assert.deepEqual(bad((l) => l.replace('s 3 5 ', 's 3 12345678901234567 ')), { kind: 'bad', reason: 'malformed record line' }, '17 digits');
  assert.deepEqual(bad((l) => l.replace('s ', 'x ')), { kind: 'bad', reason: 'unknown operation "x"' });
  assert.deepEqual(bad((l) => l.replace('s ', 'ss ')), { kind: 'bad', reason: 'unknown operation "ss"' });
  for (const notHex of ['g', 'A', ' ']) {
    const odd = Buffer.from(good);
    odd.write(notHex, 3, 'latin1');
    assert.deepEqual(parseJournalRecord(odd, 0, salt, 3, true), { kind: 'bad', reason: 'malformed record line' }, `checksum with "${notHex}"`);
  }
  assert.deepEqual(parseJournalRecord(good, 0, salt, 4, true), { kind: 'bad', reason: 'record number 3 where 4 was expected' });
  const flipped = Buffer.from(good);
  flipped[flipped.length - 2] ^= 1;
  assert.deepEqual(parseJournalRecord(flipped, 0, salt, 3, true), { kind: 'bad', reason: 'checksum mismatch' });
  assert.deepEqual(parseJournalRecord(good.subarray(0, good.length - 1), 0, salt, 3, false), { kind: 'short' });
});
