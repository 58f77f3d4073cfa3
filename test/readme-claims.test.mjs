// README claims that an outside review found unverified or false (issue 12), each tested as the README now
// states it: what a crash can lose when a save outlasts savePeriod, what a failed directory fsync leaves on
// disk, that a 1.x file has no checksum, and that wrong-typed memorystore options throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import {
  call, countEvents, decodeSnapshot, faultyFs, FIXTURES, fsError, manualClock, session, tempDir, track,
} from './fixtures/persist/helpers.mjs';

const idsIn = (file) => decodeSnapshot(readFileSync(file)).records.map((r) => r.id);
const turn = () => new Promise((resolve) => setImmediate(resolve));

test('"What a crash loses": a period that ends during a save is skipped, so a change can wait savePeriod plus two saves', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const file = join(tempDir(t), 'sessions.db');
  const fs = faultyFs();
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 1000, fs }));
  await store.ready;
  const saves = countEvents(store, 'save');

  await call(store, 'set', 'a', session({ user: 'a' }));
  const held = fs.hold(); // the first save outlasts a whole period
  t.mock.timers.tick(1000);
  await held.reached;
  await call(store, 'set', 'b', session({ user: 'b' })); // a change made right after that save started
  t.mock.timers.tick(1000); // this period ends while the save runs: skipped, no save queued behind it
  const firstDone = new Promise((resolve) => store.once('save', resolve));
  held.release();
  await firstDone;
  await turn();
  assert.equal(saves.length, 1);
  assert.deepEqual(idsIn(file), ['a'], 'b waits for the next period');
  assert.equal(store.stats.persistence.saving, false);

  t.mock.timers.tick(999);
  await turn();
  assert.equal(saves.length, 1, 'still not saved: a crash now loses b, made one save + one period + this long ago');
  const second = new Promise((resolve) => store.once('save', resolve));
  t.mock.timers.tick(1);
  await second;
  assert.deepEqual(idsIn(file), ['a', 'b']);
});

test('"Failures": when only the directory fsync fails, the new file is in place and the error says so', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const fs = faultyFs();
  const open = fs.open;
  let failDirSync = false;
  fs.open = async (path, flags, mode) => {
    const handle = await open(path, flags, mode);
    if (!failDirSync || String(path) !== dirname(file)) return handle;
    return new Proxy(handle, {
      get(target, prop) {
        if (prop === 'sync') return async () => { throw fsError('EIO', 'fsync', path); };
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
  // Snapshots only: with the journal on, the directory is first synced for the next journal, before the snapshot
  // is written (test/journal-faults.test.mjs covers that failure).
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, fs, journal: false }));
  await store.ready;
  await call(store, 'set', 'a', session({ user: 'a' }));
  await store.flush();
  failDirSync = true;
  await call(store, 'set', 'b', session({ user: 'b' }));
  await assert.rejects(store.flush(), (err) => {
    assert.equal(err.code, 'EIO');
    assert.match(err.message, /the new snapshot is in place/);
    assert.doesNotMatch(err.message, /previous snapshot is intact/);
    return true;
  });
  assert.deepEqual(idsIn(file), ['a', 'b'], 'the rename happened: the file is the new snapshot, not the old one');
  assert.equal(store.stats.persistence.lastSave.outcome, 'error');
  assert.ok(store.stats.persistence.changesSinceSave > 0, 'counted as not saved: the next save writes it again');
  failDirSync = false;
  await store.flush();
  assert.equal(store.stats.persistence.changesSinceSave, 0);
});

test('"A damaged file is refused" holds for the snapshot format; a 1.x file has no checksum: damage that keeps it valid JSON loads', async (t) => {
  const dir = tempDir(t);
  const legacy = JSON.parse(readFileSync(join(FIXTURES, 'sessions-1.7.1.json'), 'utf8'));
  const [id, sess] = Object.entries(legacy).find(([, s]) => s.user === 'alice');
  const clock = manualClock(Date.parse(sess.cookie.expires) - 60_000);

  const flipped = join(dir, 'flipped.json');
  copyFileSync(join(FIXTURES, 'sessions-1.7.1.json'), flipped);
  const text = readFileSync(flipped, 'utf8');
  writeFileSync(flipped, text.replace('"alice"', '"alicf"')); // one flipped bit, still JSON of sessions
  const store = track(t, new MemFileStore({ saveFile: flipped, savePeriod: 0, clock: clock.fn }));
  await store.ready;
  assert.equal((await call(store, 'get', id)).user, 'alicf', 'loaded with the damage: nothing can detect it');

  const broken = join(dir, 'broken.json');
  writeFileSync(broken, text.slice(0, -3)); // no longer JSON: refused
  const refused = track(t, new MemFileStore({ saveFile: broken, savePeriod: 0, clock: clock.fn }));
  await assert.rejects(refused.ready, { code: 'ERR_SNAPSHOT_DAMAGED' });

  // The snapshot format's checksum catches the same one-bit change.
  await store.close();
  const snapshot = readFileSync(flipped);
  const at = snapshot.indexOf('alicf');
  snapshot[at + 4] ^= 0x01;
  writeFileSync(flipped, snapshot);
  const again = track(t, new MemFileStore({ saveFile: flipped, savePeriod: 0, clock: clock.fn }));
  await assert.rejects(again.ready, { code: 'ERR_SNAPSHOT_DAMAGED' });
});

test('"Migrating": memorystore\'s options with a wrong type throw a TypeError (memorystore ignored them)', () => {
  for (const [name, bad] of [
    ['checkPeriod', '86400000'], ['max', '500'], ['ttl', '3600000'], ['dispose', 'log'], ['stale', 'yes'],
    ['noDisposeOnSet', 1], ['serializer', 'json'],
  ]) {
    assert.throws(() => new MemFileStore({ [name]: bad }), (err) => err instanceof TypeError && err.message.includes(name), name);
  }
});
