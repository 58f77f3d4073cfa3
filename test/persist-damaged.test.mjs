// Damaged snapshot files are refused at start, as Redis refuses a corrupt RDB: ready rejects with
// ERR_SNAPSHOT_DAMAGED naming the file and what is wrong, every call fails, and the file is never touched
// (no save overwrites it, not even periodic ones). onDamagedFile: 'move-aside' opts into starting empty.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemFileStore } from 'express-memfilestore';
import {
  call, callError, captureWarnings, decodeSnapshot, encodeSnapshot, fileState, HOUR, manualClock, session, tempDir,
  track,
} from './fixtures/persist/helpers.mjs';

const NOW = Date.UTC(2030, 0, 1);
const RECORDS = [
  { id: 'sid-alice', expires: NOW + HOUR, value: JSON.stringify(session({ user: 'alice', views: 3 })) },
  { id: 'sid-bob', expires: NOW + 2 * HOUR, value: JSON.stringify(session({ user: 'bob', note: 'two\nlines' })) },
  { id: 'sid-carol', expires: 0, value: JSON.stringify(session({ user: 'carol' })) },
];
const VALID = encodeSnapshot(RECORDS);
const text = VALID.toString('latin1');
const at = (needle, from = 0) => {
  const i = text.indexOf(needle, from);
  assert.ok(i >= 0, `fixture holds ${needle}`);
  return i;
};
const replaceAt = (offset, bytes) => Buffer.concat([VALID.subarray(0, offset), Buffer.from(bytes, 'latin1'), VALID.subarray(offset + bytes.length)]);
const flip = (offset) => {
  const copy = Buffer.from(VALID);
  copy[offset] ^= 0x01;
  return copy;
};
const record2 = at('r ', at('sid-alice'));
const trailer = at('end ');

// [name, file bytes, what the message must say]
const CASES = [
  ['an empty file', Buffer.alloc(0), /empty/],
  ['binary garbage', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0xff, 0xfe, 0x00, 0x42]), /not an express-memfilestore snapshot/],
  ['a text file', Buffer.from('hello, world\nthis is not a snapshot\n'), /not an express-memfilestore snapshot/],
  ['a long line without newline', Buffer.alloc(10_000, 'A'), /not an express-memfilestore snapshot/],
  ['a file truncated inside the header', VALID.subarray(0, 20), /ends inside the header/],
  ['a file truncated right after the header', VALID.subarray(0, at('\n') + 1), /truncated/],
  ['a file truncated inside a record line', VALID.subarray(0, record2 + 4), /truncated/],
  ['a file truncated inside a record id', VALID.subarray(0, at('sid-bob') + 3), /past the end of the file|truncated/],
  ['a file truncated inside a record value', VALID.subarray(0, at('two') + 2), /past the end of the file|truncated/],
  ['a file without its trailer', VALID.subarray(0, trailer), /truncated.*no trailer/],
  ['a file truncated inside the trailer', VALID.subarray(0, trailer + 20), /truncated/],
  ['a file missing its last newline', VALID.subarray(0, VALID.length - 1), /truncated/],
  ['a flipped byte in a record value', flip(at('alice') + 1), /checksum mismatch/],
  ['a flipped byte in a record expiry', flip(at(String(NOW + HOUR)) + 3), /checksum mismatch/],
  ['a flipped byte in a record id', flip(at('sid-bob') + 5), /checksum mismatch/],
  ['a flipped byte in the header date', flip(at('2030') + 3), /checksum mismatch/],
  ['a flipped byte in the trailer checksum', flip(trailer + 10), /checksum mismatch/],
  ['an unknown format version', replaceAt(at(' 1 '), ' 3 '), /version 3/],
  ['a malformed header', replaceAt(at('2030'), 'yesterday!'), /header is malformed/],
  ['a record length beyond the end of the file',
    Buffer.from(text.replace(/^r (\d+) (\d+) (\d+)$/m, (_, e, i) => `r ${e} ${i} 99999999`), 'latin1'), /past the end of the file/],
  ['a record length that does not match its content',
    Buffer.from(text.replace(/^r (\d+) (\d+) (\d+)$/m, (_, e, i, v) => `r ${e} ${i} ${Number(v) - 1}`), 'latin1'), /malformed|checksum/],
  ['duplicate ids (valid count and checksum)', encodeSnapshot([RECORDS[0], RECORDS[1], { ...RECORDS[2], id: 'sid-alice' }]), /repeats the id/],
  ['a trailer count that does not match (valid checksum)', encodeSnapshot(RECORDS, { count: 2 }), /counts 2 records/],
  ['a malformed trailer', Buffer.from(text.replace(/^end (\d+) /m, 'end many '), 'latin1'), /trailer.*malformed|unexpected data/],
  ['trailing data after the trailer', Buffer.concat([VALID, Buffer.from('x')]), /after the trailer/],
  ['a blank line after the trailer', Buffer.concat([VALID, Buffer.from('\n')]), /after the trailer/],
  ['two snapshots one after the other', Buffer.concat([VALID, VALID]), /after the trailer/],
  ['malformed 1.x JSON (truncated)', Buffer.from('{"sid-a":{"cookie":{"originalMaxAge":null,"expires":null},"user":"a"},"sid-b":{"coo'), /1\.x.*not valid JSON/],
  ['1.x JSON with a value that is not a session', Buffer.from('{"sid-a":{"cookie":{"expires":null}},"sid-b":42}'), /not an express-session session.*1\.x/],
  ['JSON objects without cookies (saveFile pointed at another JSON file)', Buffer.from('{"compilerOptions":{"strict":true},"include":{"0":"src"}}'), /not an express-session session.*1\.x/],
];

for (const [name, bytes, reason] of CASES) {
  test(`refuses ${name}: ERR_SNAPSHOT_DAMAGED, file untouched`, async (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'sessions.db');
    writeFileSync(file, bytes);
    const before = fileState(file);
    const store = new MemFileStore({ saveFile: file, savePeriod: 5, clock: () => NOW });
    const err = await store.ready.then(() => assert.fail('ready resolved: the damaged file was accepted'), (e) => e);
    assert.equal(err.code, 'ERR_SNAPSHOT_DAMAGED', err.stack);
    assert.ok(err.message.includes(file), `the message names the file: ${err.message}`);
    assert.match(err.message, reason);

    // Every call fails with that error: no request sees an empty store pretending all is well.
    assert.equal(await callError(store, 'get', 'sid-alice'), err);
    assert.equal(await callError(store, 'set', 'new', session({ user: 'new' })), err);
    await assert.rejects(store.flush(), (e) => e === err);
    await sleep(30); // six save periods
    await store.close();
    assert.deepEqual(fileState(file), before, 'the damaged file is left exactly as it was');
    assert.deepEqual(readdirSync(dir), ['sessions.db'], 'no lock, temp or moved-aside file');
  });
}

test('the valid file the damaged ones are made from loads (the cases above fail for their damage only)', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  writeFileSync(file, VALID);
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, clock: () => NOW }));
  await store.ready;
  assert.deepEqual(await call(store, 'ids'), ['sid-carol', 'sid-bob', 'sid-alice']);
  assert.deepEqual(await call(store, 'get', 'sid-bob'), session({ user: 'bob', note: 'two\nlines' }));
});

test('a repeated id is refused even with the repeat far apart; a repeat of an expired record keeps the later one', async (t) => {
  const dir = tempDir(t);
  // The repeat comes 5,000 records later, past the first read chunk.
  const filler = Array.from({ length: 5000 }, (_, i) => ({ id: `sid-${i}`, expires: NOW + HOUR, value: '{"cookie":{},"pad":"' + 'x'.repeat(200) + '"}' }));
  const far = join(dir, 'far.db');
  writeFileSync(far, encodeSnapshot([RECORDS[0], ...filler, { ...RECORDS[1], id: 'sid-alice' }]));
  const refused = track(t, new MemFileStore({ saveFile: far, savePeriod: 0, clock: () => NOW }));
  await assert.rejects(refused.ready, (err) => err.code === 'ERR_SNAPSHOT_DAMAGED' && /record 5002 repeats the id/.test(err.message));

  // The first record had expired: it was never loaded, and the file is otherwise sound.
  const expiredFirst = join(dir, 'expired-first.db');
  writeFileSync(expiredFirst, encodeSnapshot([{ ...RECORDS[0], expires: NOW - 1 }, RECORDS[1], { ...RECORDS[2], id: 'sid-alice' }]));
  const store = track(t, new MemFileStore({ saveFile: expiredFirst, savePeriod: 0, clock: () => NOW }));
  await store.ready;
  assert.deepEqual(await call(store, 'ids'), ['sid-alice', 'sid-bob']);
  assert.deepEqual(await call(store, 'get', 'sid-alice'), session({ user: 'carol' }));
});

test('refused file, then fixed: the next start loads it (the refusal released the lock)', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  writeFileSync(file, VALID.subarray(0, trailer));
  const refused = new MemFileStore({ saveFile: file });
  await assert.rejects(refused.ready, { code: 'ERR_SNAPSHOT_DAMAGED' });
  writeFileSync(file, VALID);
  const store = track(t, new MemFileStore({ saveFile: file, clock: () => NOW }));
  await store.ready;
  assert.equal(await call(store, 'length'), 3);
});

test('onDamagedFile "move-aside": the file is renamed intact, a warning is emitted, the store starts empty and saves', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  const damaged = flip(at('bob') + 1);
  writeFileSync(file, damaged);
  const warnings = captureWarnings(t);
  const clock = manualClock(Date.UTC(2030, 4, 6, 7, 8, 9, 123));
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, onDamagedFile: 'move-aside', clock: clock.fn }));
  await store.ready;
  const moved = `${file}.corrupt-2030-05-06T07-08-09-123Z`;
  assert.deepEqual(readFileSync(moved), damaged, 'the damaged bytes are kept');
  assert.equal(existsSync(file), false);
  assert.equal(store.stats.persistence.load.movedAside, moved);

  await sleep(0); // warnings are emitted on the next tick
  const warning = warnings.find((w) => w.name === 'MemFileStoreWarning');
  assert.ok(warning, `a MemFileStoreWarning, got ${warnings.map((w) => w.name)}`);
  assert.ok(warning.message.includes(file) && warning.message.includes(moved), warning.message);
  assert.match(warning.message, /checksum mismatch/);

  // Empty: nothing of what the damaged file held is served, even records read before the damage.
  assert.equal(await call(store, 'length'), 0);
  assert.equal(await call(store, 'get', 'sid-alice'), undefined);
  await call(store, 'set', 'fresh', session({ user: 'fresh' }));
  await store.close();
  assert.deepEqual(decodeSnapshot(readFileSync(file)).records.map((r) => r.id), ['fresh']);
  assert.deepEqual(readdirSync(dir).sort(), ['sessions.db', 'sessions.db.corrupt-2030-05-06T07-08-09-123Z']);
});

test('onDamagedFile "move-aside" with a damaged 1.x file and with an empty file', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  const clock = manualClock();
  captureWarnings(t);
  for (const [i, bytes] of [Buffer.from('{"sid-a":{"cookie":'), Buffer.alloc(0)].entries()) {
    writeFileSync(file, bytes);
    clock.now += 1000 * (i + 1);
    const store = new MemFileStore({ saveFile: file, savePeriod: 0, onDamagedFile: 'move-aside', clock: clock.fn });
    await store.ready;
    assert.equal(await call(store, 'length'), 0);
    assert.deepEqual(readFileSync(store.stats.persistence.load.movedAside), bytes);
    await store.close();
  }
  assert.equal(readdirSync(dir).filter((name) => name.includes('.corrupt-')).length, 2);
});

test('damage far into a large file (past the first read chunks) is found too', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  const records = [];
  for (let i = 0; i < 6000; i++) {
    records.push({ id: `sid-${i}`, expires: 0, value: JSON.stringify(session({ user: `u${i}`, note: 'ü'.repeat(200) })) });
  }
  const valid = encodeSnapshot(records);
  assert.ok(valid.length > 2.5 * 1024 * 1024);
  const flipAt = (offset) => {
    const copy = Buffer.from(valid);
    assert.notEqual(copy[offset], 0x0a);
    copy[offset] ^= 0x01;
    return copy;
  };
  const lastValue = valid.lastIndexOf('"user"');
  for (const [name, bytes, reason] of [
    ['a flipped byte at 1.5 MB', flipAt(valid.indexOf('"user"', 1.5 * 1024 * 1024) + 2), /checksum mismatch/],
    ['a flipped byte in the last record', flipAt(lastValue + 2), /checksum mismatch/],
    ['truncated at 2 MB + 7', valid.subarray(0, 2 * 1024 * 1024 + 7), /truncated|past the end/],
    ['without its trailer', valid.subarray(0, valid.lastIndexOf('end ')), /truncated.*no trailer after 6000 records/],
  ]) {
    writeFileSync(file, bytes);
    const store = new MemFileStore({ saveFile: file, savePeriod: 0 });
    const err = await store.ready.then(() => assert.fail(`${name}: accepted`), (e) => e);
    assert.equal(err.code, 'ERR_SNAPSHOT_DAMAGED', name);
    assert.match(err.message, reason, name);
    assert.deepEqual(readFileSync(file), bytes, name);
  }
  writeFileSync(file, valid);
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await store.ready;
  assert.equal(await call(store, 'length'), 6000);
});
