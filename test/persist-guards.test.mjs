// Guards that a mutation review found untested (issue 12): each test below fails when the guard is removed
// or weakened. The load instant boundary, the default savePeriod, the lock's ownership check before a save,
// the lock's heartbeat, no dispose while the file loads, and the bound on `max`.
// Time is moved with the `clock` option and node:test's mocked timers, never by sleeping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import {
  call, countEvents, decodeSnapshot, DAY, encodeSnapshot, fileState, HOUR, manualClock, session, startChild, tempDir,
  track,
} from './fixtures/persist/helpers.mjs';

const TEN_YEARS = 3650 * DAY;
const value = (user) => JSON.stringify(session({ user }));
const idsIn = (file) => decodeSnapshot(readFileSync(file)).records.map((r) => r.id);

test('a record expiring exactly at the load instant is dropped; one expiring 1 ms later is kept', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const clock = manualClock();
  writeFileSync(file, encodeSnapshot([
    { id: 'at-load', expires: clock.now, value: value('a') },
    { id: 'after-load', expires: clock.now + 1, value: value('b') },
  ]));
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, clock: clock.fn }));
  await store.ready;
  // `length` counts every entry in the cache, expired or not: the boundary record must not be in it at all
  // (stored with a ttl of 0, lru-cache would keep it forever).
  assert.equal(await call(store, 'length'), 1);
  assert.deepEqual(await call(store, 'ids'), ['after-load']);
  assert.equal(await call(store, 'get', 'at-load'), undefined);
  clock.now += TEN_YEARS;
  store.prune();
  assert.equal(await call(store, 'length'), 0, 'nothing outlives its expiry');
});

test('with a saveFile and no savePeriod, the store saves every 60 s when something changed', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const file = join(tempDir(t), 'sessions.db');
  const store = track(t, new MemFileStore({ saveFile: file }));
  await store.ready;
  assert.equal(store.options.savePeriod, 60_000);
  assert.ok(store._saveInterval, 'the snapshot timer runs');
  const saves = countEvents(store, 'save');
  await call(store, 'set', 'a', session({ user: 'a' }));

  t.mock.timers.tick(59_999);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(saves.length, 0, 'not before 60 s');
  const saved = new Promise((resolve) => store.once('save', resolve));
  t.mock.timers.tick(1);
  await saved;
  assert.deepEqual(idsIn(file), ['a']);
});

test('a store whose lock another process took over refuses to save, and leaves that process\'s file alone', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await store.ready;
  await call(store, 'set', 'a', session({ user: 'a' }));
  await store.flush();
  const before = fileState(file);

  // The lock file disappears (an operator, a cleanup job) and another process starts on the file: it takes
  // the lock, as it must when there is none.
  unlinkSync(`${file}.lock`);
  const child = startChild(t, 'hold', [file]);
  const [, pid] = await child.line(/^ready (\d+)$/);
  assert.deepEqual(readFileSync(`${file}.lock`, 'utf8').split('\n').slice(0, 2), [pid, hostname()]);

  await call(store, 'set', 'b', session({ user: 'b' }));
  await assert.rejects(store.flush(), (err) => {
    assert.equal(err.code, 'ERR_SNAPSHOT_LOCKED');
    assert.ok(err.message.includes(pid), `names the new owner, pid ${pid}: ${err.message}`);
    return true;
  });
  assert.deepEqual(fileState(file), before, 'the other process\'s file was not overwritten');
  assert.deepEqual(readFileSync(`${file}.lock`, 'utf8').split('\n')[0], pid, 'nor its lock');
});

test('a live owner refreshes its lock every 10 s, so another host never takes it over', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const file = join(tempDir(t), 'sessions.db');
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await store.ready;
  const lock = `${file}.lock`;
  const old = new Date(Date.now() - HOUR);
  utimesSync(lock, old, old);

  t.mock.timers.tick(9_999);
  assert.ok(statSync(lock).mtimeMs < Date.now() - HOUR + 1000, 'no refresh before 10 s');
  t.mock.timers.tick(1);
  const age = Date.now() - statSync(lock).mtimeMs;
  assert.ok(age < 30_000, `refreshed: the lock is ${age} ms old, under the 30 s after which another host takes it over`);
  assert.deepEqual(readFileSync(lock, 'utf8').split('\n').slice(0, 2), [String(process.pid), hostname()], 'still ours');

  await store.close();
  t.mock.timers.tick(10_000); // the heartbeat stopped with close(): it must not re-create the lock
  assert.throws(() => statSync(lock), { code: 'ENOENT' });
});

test('dispose is not called for records evicted by max or maxSize while the file loads', async (t) => {
  const dir = tempDir(t);
  const clock = manualClock();
  const records = ['s1', 's2', 's3', 's4'].map((id) => ({ id, expires: clock.now + HOUR, value: value(id) }));
  const size = Buffer.byteLength('s1') + Buffer.byteLength(records[0].value);
  for (const [name, bound] of [['max', { max: 2 }], ['maxSize', { maxSize: 2 * size }]]) {
    const file = join(dir, `${name}.db`);
    writeFileSync(file, encodeSnapshot(records));
    const disposed = [];
    const store = track(t, new MemFileStore({
      saveFile: file, savePeriod: 0, clock: clock.fn, ...bound, dispose: (sid, _value, reason) => disposed.push([sid, reason]),
    }));
    await store.ready;
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(await call(store, 'ids'), ['s4', 's3'], `${name}: the most recently used records are kept`);
    assert.deepEqual(disposed, [], `${name}: no dispose while loading`);
    // After the load, evictions are the user's events again.
    await call(store, 'set', 's5', session({ user: 's5' }));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(disposed, [['s3', 'evict']], `${name}: dispose after the load`);
  }
});

test('max is bounded at 2^24 (lru-cache allocates its arrays up front): one more is a TypeError naming it', () => {
  assert.throws(() => new MemFileStore({ max: 2 ** 24 + 1 }), (err) => err instanceof TypeError &&
    /\bmax\b/.test(err.message) && err.message.includes('16777216') && err.message.includes('16777217'));
  assert.throws(() => new MemFileStore({ max: 2 ** 32 }), TypeError);
  assert.equal(new MemFileStore({ max: 1000 }).options.max, 1000);
});
