// The snapshot reader is strict, and says exactly where: a file whose checksum checks out but breaks a rule of the
// format (a number with a leading zero or a sign, a 17-digit number, a field too many, a version and journal field
// that disagree) is refused, and every refusal names the record and the byte offset of the damage, so a person
// can open the file at that byte. The checksums here are valid: only the parser's own rules stand in the way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, HOUR, sha256, tempDir, track } from './fixtures/persist/helpers.mjs';

const NOW = Date.UTC(2030, 0, 1);
const HEADER = 'express-memfilestore-snapshot 1 2030-01-01T00:00:00.000Z\n';
const VALUE = '{"cookie":{}}';
/** A record written by hand, so its fields can break the rules; lengths are right unless given. */
const rec = (id, { expires = String(NOW + HOUR), idBytes = Buffer.byteLength(id), valueBytes = Buffer.byteLength(VALUE), line } = {}) =>
  `${line ?? `r ${expires} ${idBytes} ${valueBytes}`}\n${id}\n${VALUE}\n`;
/** Header and records as given, then a trailer with the right checksum (and the count given, or the right one). */
function file(body, { header = HEADER, count, trailer } = {}) {
  const bytes = Buffer.from(header + body.join(''));
  return Buffer.concat([bytes, Buffer.from(trailer?.(sha256(bytes)) ?? `end ${count ?? body.length} ${sha256(bytes)}\n`)]);
}
const AT1 = HEADER.length;
const AT2 = AT1 + rec('a').length;

// [name, file bytes, the exact reason the refusal gives]
const CASES = [
  ['an expiry with a leading zero', file([rec('a', { expires: '0123' })]), `record 1 has a malformed header at byte ${AT1}`],
  ['a 17-digit expiry', file([rec('a', { expires: '10000000000000000' })]), `record 1 has a malformed header at byte ${AT1}`],
  ['an empty expiry', file([rec('a', { expires: '' })]), `record 1 has a malformed header at byte ${AT1}`],
  ['an expiry with a sign', file([rec('a', { expires: '+5' })]), `record 1 has a malformed header at byte ${AT1}`],
  ['an expiry with a letter', file([rec('a', { expires: '12a' })]), `record 1 has a malformed header at byte ${AT1}`],
  ['an id length with a leading zero', file([rec('a', { idBytes: '01' })]), `record 1 has a malformed header at byte ${AT1}`],
  ['a value length with a leading zero (second record)', file([rec('a'), rec('b', { valueBytes: `0${VALUE.length}` })]),
    `record 2 has a malformed header at byte ${AT2}`],
  ['a record line with a fifth field', file([rec('a', { line: `r ${NOW} 1 ${VALUE.length} 7` })]), `record 1 has a malformed header at byte ${AT1}`],
  ['a record line with a trailing space', file([rec('a', { line: `r ${NOW} 1 ${VALUE.length} ` })]), `record 1 has a malformed header at byte ${AT1}`],
  ['a record line missing a field', file([rec('a', { line: `r ${NOW} 1` })]), `record 1 has a malformed header at byte ${AT1}`],
  ['a record line with two spaces', file([rec('a', { line: `r  ${NOW} 1 ${VALUE.length}` })]), `record 1 has a malformed header at byte ${AT1}`],
  ['an id length one short (second record)', file([rec('a'), rec('bb', { idBytes: 1 })]),
    `record 2 at byte ${AT2} is malformed (length does not match its content)`],
  ['a value length one short', file([rec('a', { valueBytes: VALUE.length - 1 })]),
    `record 1 at byte ${AT1} is malformed (length does not match its content)`],
  ['a record claiming more bytes than the file has', file([rec('a'), rec('b', { valueBytes: 5000 })]),
    `record 2 at byte ${AT2} claims ${1 + 5000} bytes, past the end of the file`],
  ['a line that is neither a record nor the trailer', file([rec('a'), 'rx 1 2 3\n']), `unexpected data at byte ${AT2} (expected a record or the trailer)`],
  ['a record line longer than any real one', file([rec('a'), `r ${'1'.repeat(300)}`]), `unexpected data at byte ${AT2} (expected a record or the trailer)`],
  ['a trailer count with a leading zero', file([rec('a')], { count: '01' }), `the trailer at byte ${AT2} is malformed`],
  ['a trailer with an upper-case checksum', file([rec('a')], { trailer: (sum) => `end 1 ${sum.toUpperCase()}\n` }), `the trailer at byte ${AT2} is malformed`],
  ['a trailer counting one record too many', file([rec('a')], { count: 2 }), 'the trailer counts 2 records, the file holds 1'],
  ['a repeated id', file([rec('a'), rec('b'), rec('a')]), 'record 3 repeats the id of an earlier record'],
  ['version 1 with a journal field', file([rec('a')], { header: `${HEADER.trimEnd()} nojournal\n` }), 'the header is malformed'],
  ['version 2 without a journal field', file([rec('a')], { header: HEADER.replace(' 1 ', ' 2 ') }), 'the header is malformed'],
  ['version 2 absorbing journal 0', file([rec('a')], { header: `${HEADER.replace(' 1 ', ' 2 ').trimEnd()} nojournal 0\n` }), 'the header is malformed'],
  ['a version with a leading zero', file([rec('a')], { header: HEADER.replace(' 1 ', ' 01 ') }), 'the header is malformed'],
  ['format version 7', file([rec('a')], { header: HEADER.replace(' 1 ', ' 7 ') }),
    'it has format version 7, and this version of express-memfilestore reads versions 1 and 2'],
  ['a header of another program', Buffer.from('express-memfilestore-snapshotter 1\n'), 'it is not an express-memfilestore snapshot (unknown header)'],
  ['a short file of another program without a newline', Buffer.from('hello'), 'it is not an express-memfilestore snapshot (unknown header)'],
  ['a file cut after its first record', Buffer.from(HEADER + rec('a')), `the file is truncated at byte ${AT2} (no trailer after 1 records)`],
  ['a file cut inside its second record line', Buffer.from(HEADER + rec('a') + 'r 12'), `the file is truncated at byte ${AT2 + 4} (no trailer after 1 records)`],
  ['a byte after the trailer', Buffer.concat([file([rec('a')]), Buffer.from('x')]), `unexpected data after the trailer at byte ${file([rec('a')]).length}`],
];

for (const [name, bytes, reason] of CASES) {
  test(`refuses ${name}, naming where`, async (t) => {
    const saveFile = join(tempDir(t), 'sessions.db');
    writeFileSync(saveFile, bytes);
    const store = track(t, new MemFileStore({ saveFile, savePeriod: 0, clock: () => NOW }));
    const err = await store.ready.then(() => assert.fail('the file was accepted'), (e) => e);
    assert.equal(err.code, 'ERR_SNAPSHOT_DAMAGED');
    assert.equal(err.message, `express-memfilestore: cannot load "${saveFile}": ${reason}. The file was left untouched; ` +
      'fix or remove it, or set onDamagedFile: "move-aside" to start empty');
  });
}

test('the rules refuse nothing a store writes: 0 and 16-digit numbers, version 2 headers of each kind', async (t) => {
  const dir = tempDir(t);
  const cases = [
    [file([rec('a', { expires: '0' }), rec('b', { expires: '1000000000000000' })]), { format: 'v1', absorbed: undefined, ids: ['b', 'a'] }],
    [file([rec('a')], { header: `${HEADER.replace(' 1 ', ' 2 ').trimEnd()} nojournal\n` }), { format: 'v2', absorbed: undefined, ids: ['a'] }],
    [file([rec('a')], { header: `${HEADER.replace(' 1 ', ' 2 ').trimEnd()} nojournal 12\n` }), { format: 'v2', absorbed: 12, ids: ['a'] }],
  ];
  for (const [i, [bytes, expected]] of cases.entries()) {
    const saveFile = join(dir, `ok-${i}.db`);
    writeFileSync(saveFile, bytes);
    const store = track(t, new MemFileStore({ saveFile, savePeriod: 0, clock: () => NOW }));
    await store.ready;
    const { load } = store.stats.persistence;
    assert.deepEqual({ format: load.format, absorbed: load.absorbed, ids: await call(store, 'ids') }, expected);
    assert.equal(load.records, expected.ids.length);
    assert.equal(load.bytes, bytes.length);
    assert.equal(load.writtenAt, '2030-01-01T00:00:00.000Z');
    assert.equal(load.sha256, sha256(bytes.subarray(0, bytes.lastIndexOf('end '))));
  }
});

test('a version 2 snapshot that hands over to journal 3: that journal is looked for (its generation read from the header)', async (t) => {
  const saveFile = join(tempDir(t), 'sessions.db');
  writeFileSync(saveFile, file([rec('a')], { header: `${HEADER.replace(' 1 ', ' 2 ').trimEnd()} journal 3 0123456789abcdef\n` }));
  const store = track(t, new MemFileStore({ saveFile, savePeriod: 0, clock: () => NOW }));
  await assert.rejects(store.ready, (err) => err.code === 'ERR_SNAPSHOT_DAMAGED' &&
    err.message.startsWith(`express-memfilestore: cannot load "${saveFile}.journal.3": it is missing: the snapshot "${saveFile}" continues in it`));
});
