// Round trip through the snapshot file: what one store saves, the next store on the same file serves,
// with the same absolute expiry and LRU recency order. Time is moved with the `clock` option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemFileStore } from 'express-memfilestore';
import {
  call, callError, DAY, decodeSnapshot, encodeSnapshot, HOUR, manualClock, nextEvent, session, tempDir, track,
} from './fixtures/persist/helpers.mjs';

const MINUTE = 60_000;

async function open(t, options) {
  const store = track(t, new MemFileStore({ savePeriod: 0, ...options }));
  await store.ready;
  return store;
}

test('sessions, their absolute expiry and their LRU order survive close() and a new store', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const clock = manualClock();
  const t0 = clock.now;
  const a = await open(t, { saveFile: file, clock: clock.fn });
  const sessions = {
    s1: session({ user: 'u1' }, 10 * MINUTE),
    s2: session({ user: 'u2', note: 'line 1\nline 2, ünïcødé 🍪, "quotes" and \\ backslash' }, HOUR),
    s3: session({ user: 'u3', cart: [1, 2, 3] }, DAY),
  };
  for (const [id, sess] of Object.entries(sessions)) await call(a, 'set', id, sess);
  clock.now += 1000;
  await call(a, 'get', 's1'); // s1 becomes the most recently used
  const order = await call(a, 'ids');
  assert.deepEqual(order, ['s1', 's3', 's2']);
  await a.close();

  // The file holds absolute expiry times, least recently used first.
  const { records } = decodeSnapshot(readFileSync(file));
  assert.deepEqual(records.map((r) => [r.id, r.expires]),
    [['s2', t0 + HOUR], ['s3', t0 + DAY], ['s1', t0 + 10 * MINUTE]]);

  clock.now += 5 * MINUTE; // down for five minutes
  const b = await open(t, { saveFile: file, clock: clock.fn });
  assert.deepEqual(await call(b, 'ids'), order, 'LRU recency order after the restart');
  for (const [id, sess] of Object.entries(sessions)) assert.deepEqual(await call(b, 'get', id), sess, id);

  // Expiry is absolute: s1 still ends ten minutes after it was set, not ten minutes after the load.
  clock.now = t0 + 10 * MINUTE - 1;
  assert.deepEqual(await call(b, 'get', 's1'), sessions.s1);
  clock.now = t0 + 10 * MINUTE + 1;
  assert.equal(await call(b, 'get', 's1'), undefined, 's1 expired at its original time');
  assert.deepEqual(await call(b, 'get', 's2'), sessions.s2);
});

test('the load reports what it found: "load" event and stats', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const clock = manualClock();
  const a = await open(t, { saveFile: file, clock: clock.fn });
  await call(a, 'set', 'short', session({ user: 'short' }, MINUTE));
  await call(a, 'set', 'long', session({ user: 'long' }, HOUR));
  clock.now += 500;
  const savedAt = clock.now;
  await a.close();
  clock.now += 2 * MINUTE;
  const b = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, clock: clock.fn }));
  const load = await nextEvent(b, 'load');
  await b.ready;
  assert.equal(load.format, 'v2');
  assert.equal(load.records, 2);
  assert.equal(load.sessions, 1, 'the expired session is not loaded');
  assert.equal(load.bytes, readFileSync(file).length);
  assert.equal(load.writtenAt, new Date(savedAt).toISOString(), 'the header says when the snapshot was written');
  assert.equal(load.movedAside, undefined);
  assert.equal(typeof load.durationMs, 'number');
  assert.equal(b.stats.persistence.load.sessions, 1);
  assert.equal(b.stats.persistence.changesSinceSave, 0, 'a store just loaded is clean');
});

test('sessions that expired while the store was down are dropped', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const clock = manualClock();
  const a = await open(t, { saveFile: file, clock: clock.fn });
  await call(a, 'set', 'ten-minutes', session({ user: 'a' }, 10 * MINUTE));
  await call(a, 'set', 'one-hour', session({ user: 'b' }, HOUR));
  await call(a, 'set', 'one-day', session({ user: 'c' }, DAY));
  await a.close();

  clock.now += 2 * HOUR;
  const b = await open(t, { saveFile: file, clock: clock.fn });
  assert.equal(await call(b, 'length'), 1, 'only the live session is in memory (length counts expired ones too)');
  assert.deepEqual(await call(b, 'ids'), ['one-day']);
  assert.equal(await call(b, 'get', 'ten-minutes'), undefined);
  assert.equal(await call(b, 'get', 'one-hour'), undefined);
  assert.deepEqual(await call(b, 'all'), { 'one-day': session({ user: 'c' }, DAY) });
});

test('max holds on load: the least recently used sessions are dropped', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const a = await open(t, { saveFile: file });
  for (const id of ['s1', 's2', 's3', 's4', 's5']) await call(a, 'set', id, session({ user: id }));
  await call(a, 'get', 's1');
  await a.close();

  const b = await open(t, { saveFile: file, max: 3 });
  assert.deepEqual(await call(b, 'ids'), ['s1', 's5', 's4']);
  assert.equal(await call(b, 'get', 's2'), undefined);
  await b.close();
  // The file was not rewritten (nothing changed): a bigger store still finds all five.
  const c = await open(t, { saveFile: file });
  assert.deepEqual(await call(c, 'ids'), ['s1', 's5', 's4', 's3', 's2']);
});

test('maxSize holds on load: the least recently used sessions are dropped', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const a = await open(t, { saveFile: file });
  for (const id of ['s1', 's2', 's3', 's4', 's5']) await call(a, 'set', id, session({ user: id, pad: 'p'.repeat(50) }));
  await a.close();
  // maxSize counts the UTF-8 bytes of id and stored string: room for the two most recent ones only.
  const size = (r) => Buffer.byteLength(r.id) + Buffer.byteLength(r.value);
  const { records } = decodeSnapshot(readFileSync(file));
  const maxSize = size(records[4]) + size(records[3]) + Math.floor(size(records[2]) / 2);

  const b = await open(t, { saveFile: file, maxSize });
  assert.deepEqual(await call(b, 'ids'), ['s5', 's4']);
  assert.ok(b.stats.bytes <= maxSize);
});

test('stale: an expired session is never written to, nor served from, the file', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const clock = manualClock();
  const a = await open(t, { saveFile: file, clock: clock.fn, stale: true });
  await call(a, 'set', 'short', session({ user: 'short' }, MINUTE));
  await call(a, 'set', 'long', session({ user: 'long' }, HOUR));
  clock.now += 2 * MINUTE; // "short" is expired, still in memory (stale: true would serve it once)
  await call(a, 'set', 'other', session({ user: 'other' }, HOUR));
  await a.close();
  assert.deepEqual(decodeSnapshot(readFileSync(file)).records.map((r) => r.id), ['long', 'other']);

  // A file that does hold an expired record (written while it was still live) does not revive it either.
  writeFileSync(file, encodeSnapshot([
    { id: 'expired', expires: clock.now - 1, value: JSON.stringify(session({ user: 'expired' })) },
    { id: 'live', expires: clock.now + HOUR, value: JSON.stringify(session({ user: 'live' })) },
  ]));
  const b = await open(t, { saveFile: file, clock: clock.fn, stale: true });
  assert.equal(await call(b, 'get', 'expired'), undefined);
  assert.equal(await call(b, 'get', 'expired'), undefined);
  assert.deepEqual(await call(b, 'ids'), ['live']);
});

test('a session that never expires (ttl 0) survives with expiry 0', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const clock = manualClock();
  const a = await open(t, { saveFile: file, clock: clock.fn, ttl: 0 });
  await call(a, 'set', 'forever', session({ user: 'f' }));
  await a.close();
  assert.deepEqual(decodeSnapshot(readFileSync(file)).records.map((r) => r.expires), [0]);
  clock.now += 3650 * DAY;
  const b = await open(t, { saveFile: file, clock: clock.fn, ttl: 0 });
  assert.deepEqual(await call(b, 'get', 'forever'), session({ user: 'f' }));
});

test('a missing file is a fresh start: ready resolves and nothing is written until a change', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 10 }));
  await store.ready;
  assert.equal(store.stats.persistence.load.format, 'none');
  assert.equal(await call(store, 'length'), 0);
  await store.flush();
  await sleep(100); // ten save periods with nothing changed
  assert.equal(existsSync(file), false, 'no snapshot of an empty, unchanged store');
  assert.deepEqual(readdirSync(dir), ['sessions.db.lock']);

  await call(store, 'set', 'a', session({ user: 'alice' }));
  await store.flush();
  assert.deepEqual(decodeSnapshot(readFileSync(file)).records.map((r) => r.id), ['a']);
});

test('a missing directory: ready rejects naming the directory (ENOENT) and every call fails with it', async (t) => {
  const dir = tempDir(t);
  const missing = join(dir, 'no-such-dir');
  const file = join(missing, 'sessions.db');
  const store = new MemFileStore({ saveFile: file });
  const err = await store.ready.then(() => assert.fail('ready resolved'), (e) => e);
  assert.equal(err.code, 'ENOENT');
  assert.ok(err.message.includes(missing), err.message);

  for (const [method, args] of [
    ['set', ['a', session({ user: 'a' })]], ['touch', ['a', session({})]], ['destroy', ['a']],
    ['all', []], ['length', []], ['ids', []], ['clear', []],
  ]) {
    assert.equal(await callError(store, method, ...args), err, `${method} calls back with the start error`);
  }
  // express-session takes a get error with code ENOENT for "no such session": get wraps it under another code.
  const getErr = await callError(store, 'get', 'a');
  assert.deepEqual([getErr.message, getErr.code, getErr.cause], [err.message, 'ERR_SNAPSHOT_UNUSABLE', err]);
  await assert.rejects(store.flush(), (e) => e === err);
  await store.close();
  assert.equal(existsSync(missing), false, 'the store created nothing');
  assert.deepEqual(readdirSync(dir), []);
});

test('a file larger than the loader\'s read chunks round-trips exactly (records and characters across chunk edges)', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const a = await open(t, { saveFile: file });
  const expected = {};
  for (let i = 0; i < 3000; i++) {
    // Multi-byte characters everywhere, so chunk edges fall inside characters as well as records.
    expected[`sid-${i}-€`] = session({ user: `user ${i} 🍪`, note: `€${'ü🍪'.repeat(i % 97)}\n${'x'.repeat((i * 37) % 500)}` });
  }
  expected.big = session({ user: 'big', blob: '🍪€ab'.repeat(300_000) }); // about 3 MB in one record
  for (const [id, sess] of Object.entries(expected)) await call(a, 'set', id, sess);
  await a.close();
  assert.ok(readFileSync(file).length > 4 * 1024 * 1024, 'several read chunks');

  const b = await open(t, { saveFile: file });
  assert.equal(b.stats.persistence.load.records, 3001);
  assert.deepEqual(await call(b, 'all'), expected);
  assert.deepEqual((await call(b, 'ids')).reverse(), Object.keys(expected), 'LRU order');
});

test('unusual ids survive the file: newlines, spaces, non-ASCII, "__proto__", numbers, the empty string', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const ids = ['with\nnewline', 'r 1 2 3', 'end 0 ' + '0'.repeat(64), 'ünïcødé 🍪', '__proto__', '', ' '];
  const a = await open(t, { saveFile: file });
  for (const id of ids) await call(a, 'set', id, session({ id }));
  await call(a, 'set', 42, session({ id: 42 }));
  await a.close();
  const b = await open(t, { saveFile: file });
  assert.deepEqual(await call(b, 'ids'), ['42', ...[...ids].reverse()]);
  for (const id of ids) assert.deepEqual(await call(b, 'get', id), session({ id }), JSON.stringify(id));
  assert.deepEqual(await call(b, 'get', '42'), session({ id: 42 }));
});

test('destroyed and cleared sessions stay gone after a restart (an empty store saves an empty snapshot)', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const a = await open(t, { saveFile: file });
  for (const id of ['s1', 's2', 's3']) await call(a, 'set', id, session({ user: id }));
  await a.flush();
  await call(a, 'destroy', 's2');
  await a.close();
  const b = await open(t, { saveFile: file });
  assert.deepEqual(await call(b, 'ids'), ['s3', 's1']);
  await call(b, 'clear');
  await b.close();
  assert.deepEqual(decodeSnapshot(readFileSync(file)).records, []);
  const c = await open(t, { saveFile: file });
  assert.equal(c.stats.persistence.load.format, 'v2');
  assert.equal(await call(c, 'length'), 0);
});
