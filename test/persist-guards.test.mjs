// Guards that a mutation review found untested (issue 12): each test below fails when the guard is removed
// or weakened. The load instant boundary, the default savePeriod, the lock's ownership check before a save,
// the lock's heartbeat, no dispose while the file loads, and the bound on `max`.
// Time is moved with the `clock` option and node:test's mocked timers, never by sleeping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, unlinkSync, utimesSync, writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import {
  call, countEvents, decodeSnapshot, DAY, encodeSnapshot, fileState, HOUR, manualClock, session, startChild, tempDir,
  track,
} from './fixtures/persist/helpers.mjs';
import { mountTmpfs } from './fixtures/tmpfs.mjs';

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

// The lock's edge cases below were found by mutation testing (npm run mutate -- src/files/file-lock.ts).

test('the refusal says why and what to do: another store in this process, one store per file', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const first = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await first.ready;
  const second = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await assert.rejects(second.ready, (err) => {
    assert.equal(err.code, 'ERR_SNAPSHOT_LOCKED');
    assert.match(err.message, /in use by another store in this process/);
    assert.match(err.message, /Each saveFile can belong to one store at a time \(use a different file per process, or a shared store/);
    return true;
  });
});

test('a lock file replaced by a directory: the save fails with EISDIR and does not claim the lock anew', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await store.ready;
  await call(store, 'set', 'a', session({ user: 'a' }));
  unlinkSync(`${file}.lock`);
  mkdirSync(`${file}.lock`);
  await assert.rejects(store.flush(), { code: 'EISDIR' });
  assert.throws(() => readFileSync(file), { code: 'ENOENT' }, 'nothing written');
  rmdirSync(`${file}.lock`);
  await store.flush(); // the lock file is gone: it is put back, and the save goes through
  assert.deepEqual(idsIn(file), ['a']);
});

test('a lock file whose pid is not a positive integer: refused while under 5 s old (being written), taken over after', async (t) => {
  const dir = tempDir(t);
  for (const content of ['', 'abc\n', '0\n', '-5\n', '1.5\n']) {
    const file = join(dir, `s${Buffer.from(content).toString('hex')}.db`);
    const lock = `${file}.lock`;
    writeFileSync(lock, content);
    const refused = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
    await assert.rejects(refused.ready, (err) => err.code === 'ERR_SNAPSHOT_LOCKED' && /creating it right now/.test(err.message), JSON.stringify(content));
    const past = new Date(Date.now() - 6_000);
    utimesSync(lock, past, past);
    const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
    await store.ready;
    assert.equal(readFileSync(lock, 'utf8').split('\n')[0], String(process.pid), JSON.stringify(content));
    await store.close();
  }
});

test('lock ages at their exact limits: an empty lock 5 s old and a foreign lock 30 s old are stale', async (t) => {
  const dir = tempDir(t);
  const at = Math.floor(Date.now() / 1000) * 1000; // whole seconds: the mtime is exact
  const cases = [['empty', '', 5_000], ['foreign', '4242\nother-host.example\n0\n', 30_000]];
  for (const [name, content, limit] of cases) {
    const file = join(dir, `${name}.db`);
    writeFileSync(`${file}.lock`, content);
    utimesSync(`${file}.lock`, at / 1000, at / 1000);
    t.mock.timers.enable({ apis: ['Date'], now: at + limit - 1 });
    const fresh = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
    await assert.rejects(fresh.ready, { code: 'ERR_SNAPSHOT_LOCKED' }, `${name}: ${limit - 1} ms old is live`);
    t.mock.timers.reset();
    t.mock.timers.enable({ apis: ['Date'], now: at + limit });
    const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
    await store.ready;
    t.mock.timers.reset();
    await store.close();
  }
  writeFileSync(join(dir, 'named.db.lock'), '4242\nother-host.example\n0\n');
  const named = track(t, new MemFileStore({ saveFile: join(dir, 'named.db'), savePeriod: 0 }));
  await assert.rejects(named.ready, (err) => /process 4242 on host other-host\.example \(a lock not refreshed for 30 s is taken over\)/.test(err.message));
});

test('a lock that cannot be created (no inode left) fails with that error, not as "locked"', async (t) => {
  const fsMount = mountTmpfs(t, 'size=64k,nr_inodes=8');
  if (!fsMount) return;
  const { mnt } = fsMount;
  for (let i = 0; ; i++) {
    try {
      writeFileSync(join(mnt, `filler-${i}`), '');
    } catch (err) {
      assert.equal(err.code, 'ENOSPC');
      break;
    }
  }
  const store = track(t, new MemFileStore({ saveFile: join(mnt, 'sessions.db'), savePeriod: 0 }));
  await assert.rejects(store.ready, { code: 'ENOSPC' });
});

// Found by mutation testing of the loader (npm run mutate -- src/files/snapshot-loader.ts).

test('a saveFile that exists but cannot be opened (a socket) is refused with its error, not taken for a missing file', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const server = createServer();
  await new Promise((resolve) => server.listen(file, resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await assert.rejects(store.ready, { code: 'ENXIO' });
  assert.ok(statSync(file).isSocket(), 'left as it was');
});

test('loading a file leaves no file descriptor open, whether it loads or is refused', { skip: process.platform !== 'linux' && 'reads /proc/self/fd' }, async (t) => {
  const dir = tempDir(t);
  const clock = manualClock();
  const good = join(dir, 'good.db');
  const damaged = join(dir, 'damaged.db');
  const bytes = encodeSnapshot([{ id: 'a', expires: clock.now + HOUR, value: value('a') }]);
  writeFileSync(good, bytes);
  writeFileSync(damaged, bytes.subarray(0, bytes.length - 2));
  const openFds = () => readdirSync('/proc/self/fd').length;
  const before = openFds();
  for (const file of [good, damaged]) {
    const store = new MemFileStore({ saveFile: file, savePeriod: 0, clock: clock.fn });
    await store.ready.catch(() => undefined);
    await store.close().catch(() => undefined);
  }
  assert.equal(openFds(), before);
});
