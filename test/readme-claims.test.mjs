// README claims that an outside review found unverified or false (issue 12), each tested as the README now
// states it: what a crash can lose when a save outlasts savePeriod, what a failed directory fsync leaves on
// disk, that a 1.x file has no checksum, and that wrong-typed memorystore options throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as zlib from 'node:zlib';
import { MemFileStore } from 'express-memfilestore';
import {
  call, countEvents, decodeSnapshot, faultyFs, FIXTURES, fsError, manualClock, session, tempDir, track,
} from './fixtures/persist/helpers.mjs';
import { crashCopy, journalBytes, turn } from './fixtures/journal/helpers.mjs';
import { settle } from './fixtures/store-calls.mjs';
import { cli, tempDir as cliTempDir } from './fixtures/cli/helpers.mjs';

const idsIn = (file) => decodeSnapshot(readFileSync(file)).records.map((r) => r.id);
const require = createRequire(import.meta.url);
const hex8 = (n) => n.toString(16).padStart(8, '0');
const README = new URL('../README.md', import.meta.url);

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

test('"Options": ttl: false reads the lifetime from the cookie, as memorystore allowed', async (t) => {
  const clock = manualClock();
  const store = new MemFileStore({ ttl: false, clock: clock.fn });
  t.after(() => store.close());
  assert.equal(store.options.ttl, undefined, 'false is read as "no ttl option"');
  await call(store, 'set', 'short', session({ user: 'a' }, 60_000));
  await call(store, 'set', 'long', session({ user: 'b' }, 3_600_000));
  clock.now += 60_000;
  assert.equal(await call(store, 'get', 'short'), undefined, 'ended with its cookie, after 1 min');
  assert.equal((await call(store, 'get', 'long')).user, 'b');
});

test('"Migrating": store.store is an lru-cache 11 instance, with its renamed methods (the old names still work)', async (t) => {
  // lru-cache's CommonJS build: the one both of our entry points load (one implementation, see package.test.mjs).
  const { LRUCache } = require('lru-cache');
  const store = new MemFileStore();
  t.after(() => store.close());
  assert.ok(store.store instanceof LRUCache);
  await call(store, 'set', 'a', session({ user: 'a' }));
  await call(store, 'set', 'b', session({ user: 'b' }));
  assert.equal(store.store.size, 2, 'itemCount is size');
  assert.equal(store.store.delete('a'), true, 'del is delete');
  assert.equal(await call(store, 'get', 'a'), undefined);
  store.store.clear();
  assert.equal(await call(store, 'length'), 0, 'reset is clear');
  for (const old of ['del', 'reset', 'prune']) assert.equal(typeof store.store[old], 'function', `lru-cache 4's ${old} still works`);
  assert.equal(store.store.itemCount, 0, "lru-cache 4's itemCount still works");
});

test('"store.ready": a refused file fails every call and flush() with the same error; close() resolves', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  writeFileSync(file, 'not a snapshot\n');
  const store = new MemFileStore({ saveFile: file });
  const err = await store.ready.then(() => assert.fail('ready resolved'), (e) => e);
  assert.equal(err.code, 'ERR_SNAPSHOT_DAMAGED');
  for (const [method, ...args] of [['get', 'a'], ['set', 'a', session({})], ['touch', 'a', session({})], ['destroy', 'a'],
    ['ids'], ['all'], ['length'], ['clear']]) {
    assert.equal((await settle(store, method, ...args)).err, err, method);
  }
  await assert.rejects(store.flush(), (e) => e === err);
  await store.close(); // nothing to save: a shutdown handler calling close() is not failed by the refused file
  assert.equal(readFileSync(file, 'utf8'), 'not a snapshot\n');
});

test('"store.ready": a rejection nobody handles stops the process at start, before it serves anything', (t) => {
  const file = join(tempDir(t), 'sessions.db');
  writeFileSync(file, 'not a snapshot\n');
  const app = 'const { MemFileStore } = require(process.argv[1]); new MemFileStore({ saveFile: process.argv[2] });' +
    ' setImmediate(() => { console.log("serving"); process.exit(0); });';
  const child = spawnSync(process.execPath, ['-e', app, require.resolve('express-memfilestore'), file], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(child.stdout, '', 'never reached the first turn of the event loop');
  assert.equal(child.status, 1, child.stderr);
  assert.match(child.stderr, /ERR_SNAPSHOT_DAMAGED/);
  assert.equal(readFileSync(file, 'utf8'), 'not a snapshot\n');
});

test('"close()": a failed final save keeps the journal beside the snapshot; the retry removes it', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  const fs = faultyFs();
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, fs }));
  await store.ready;
  await call(store, 'set', 'a', session({ user: 'a' }));
  await store.flush();
  await call(store, 'set', 'b', session({ user: 'b' }));
  const journals = () => readdirSync(dir).filter((name) => name.startsWith('sessions.db.journal.'));
  assert.equal(journals().length, 1);
  fs.faults.rename = 'EIO';
  await assert.rejects(store.close(), { code: 'EIO' });
  assert.equal(journals().length, 1, 'the journal holding b is kept');
  assert.deepEqual(idsIn(file), ['a'], 'b is only in the journal');
  assert.match(readFileSync(join(dir, journals()[0]), 'latin1'), /\nb\n/);
  fs.faults.rename = null;
  await store.close();
  assert.deepEqual(journals(), []);
  assert.deepEqual(idsIn(file), ['a', 'b']);
});

test('"Snapshot format": a snapshot that stands alone says nojournal <gen>; an earlier journal left beside it is removed, not replayed', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await store.ready;
  await call(store, 'set', 'a', session({ user: 'a' }));
  await call(store, 'set', 'b', session({ user: 'b' }));
  const journal = `${file}.journal.1`;
  const leftover = readFileSync(journal); // everysec: written before the callback
  assert.match(leftover.toString('latin1'), /\nb\n/);
  await call(store, 'destroy', 'b');
  await store.close();
  assert.match(readFileSync(file, 'latin1').split('\n')[0], /^express-memfilestore-snapshot 2 \S+Z nojournal 1$/);
  assert.equal(existsSync(journal), false);

  writeFileSync(journal, leftover); // as after a crash between the final save and the journal's removal
  const again = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await again.ready;
  assert.deepEqual(await call(again, 'ids'), ['a'], 'b stays destroyed');
  assert.equal(existsSync(journal), false, 'the leftover is removed at start');
});

test('"Journal format": header with its own CRC-32, records with CRC-32 seeded by the token, seq from 1; d carries the id', async (t) => {
  if (typeof zlib.crc32 !== 'function') return t.skip('zlib.crc32 needs Node 20.15 or later');
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await store.ready;
  await call(store, 'set', 'a', session({ user: 'a' }));
  await store.flush();
  await call(store, 'set', 'b\nc', session({ user: 'b' }));
  await call(store, 'destroy', 'a');
  await call(store, 'clear');
  const whole = readFileSync(store.stats.persistence.journal.file);
  const bytes = journalBytes(store.stats.persistence.journal.file);
  assert.equal(whole.length % (1 << 20), 0, 'space set aside in 1 MiB steps');
  assert.ok(whole.length > bytes.length && whole.subarray(bytes.length).every((b) => b === 0), 'zeros after the last record');

  const eol = bytes.indexOf(0x0a);
  const header = bytes.toString('latin1', 0, eol);
  const m = /^(express-memfilestore-journal 1 2 ([0-9a-f]{16}) j:[0-9a-f]{16} (\S+)) ([0-9a-f]{8})$/.exec(header);
  assert.ok(m, header);
  const [, line, token, at, crc] = m;
  assert.equal(new Date(at).toISOString(), at);
  assert.equal(crc, hex8(zlib.crc32(Buffer.from(line, 'latin1'))), "the header's CRC-32 covers the line before it");

  const records = [];
  let pos = eol + 1;
  const seed = zlib.crc32(Buffer.from(token, 'latin1'));
  while (pos < bytes.length) {
    const lineEnd = bytes.indexOf(0x0a, pos);
    const r = /^([0-9a-f]{8}) ([stdc]) (\d+) (\d+) (\d+) (\d+)$/.exec(bytes.toString('latin1', pos, lineEnd));
    assert.ok(r, bytes.toString('latin1', pos, lineEnd));
    const [idBytes, valueBytes] = [Number(r[5]), Number(r[6])];
    const end = lineEnd + 1 + idBytes + 1 + valueBytes + 1;
    assert.equal(bytes[lineEnd + 1 + idBytes], 0x0a);
    assert.equal(bytes[end - 1], 0x0a);
    assert.equal(r[1], hex8(zlib.crc32(bytes.subarray(pos + 9, end), seed)), 'CRC-32 of the bytes after it, seeded with the token');
    records.push({
      op: r[2], seq: Number(r[3]), expires: Number(r[4]),
      id: bytes.toString('utf8', lineEnd + 1, lineEnd + 1 + idBytes), value: bytes.toString('utf8', end - 1 - valueBytes, end - 1),
    });
    pos = end;
  }
  assert.deepEqual(records.map(({ op, seq, id }) => [op, seq, id]), [['s', 1, 'b\nc'], ['d', 2, 'a'], ['c', 3, '']]);
  assert.ok(records[0].expires > Date.now());
  assert.equal(JSON.parse(records[0].value).user, 'b');
  for (const { expires, value } of records.slice(1)) assert.deepEqual([expires, value], [0, '']);
});

test('"dispose": not called while the file loads at start, whatever the journal replays (overwrites, destroys, a clear)', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await store.ready;
  await call(store, 'set', 'a', session({ user: 'a' }));
  await call(store, 'set', 'b', session({ user: 'b' }));
  await store.flush();
  await call(store, 'set', 'a', session({ user: 'a2' }));
  await call(store, 'destroy', 'b');
  await call(store, 'clear');
  await call(store, 'set', 'c', session({ user: 'c' }));
  await call(store, 'touch', 'c', session({ user: 'c' }, 7_200_000));
  // A crash: the journal is left beside the snapshot.
  const copy = crashCopy(t, file);

  // The journal is read before the snapshot (journal-replay.ts collectFirst), so these records mostly skip snapshot
  // records instead of overwriting or deleting loaded ones; the load guard in session-cache.ts is what keeps dispose
  // quiet should that order change (seen failing with both undone).
  const disposed = [];
  const again = track(t, new MemFileStore({ saveFile: copy, savePeriod: 0, dispose: (...args) => disposed.push(args) }));
  await again.ready;
  assert.equal(again.stats.persistence.load.journalRecords, 5, 'the replay removed, replaced and cleared sessions');
  assert.deepEqual(await call(again, 'ids'), ['c']);
  assert.deepEqual(disposed, []);
  await call(again, 'destroy', 'c');
  assert.deepEqual(disposed.map(([sid, , reason]) => [sid, reason]), [['c', 'delete']], 'dispose is on once loaded');
});

test('"load" event: sha256 is the snapshot trailer\'s checksum; journal names the journal a running store\'s snapshot hands over to; absorbed for one that stands alone', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  const store = track(t, new MemFileStore({ saveFile: file }));
  await call(store, 'set', 'a', session({ user: 'a' }));
  // A snapshot taken while running hands over to the next journal: copied now, it is what a crash would leave.
  await store.flush();
  // 'everysec' calls back once the OS has the record: the copy below holds it.
  await call(store, 'set', 'b', session({ user: 'b' }));
  const crashed = crashCopy(t, file);
  const trailerHash = (path) => /end \d+ ([0-9a-f]{64})\n$/.exec(readFileSync(path, 'latin1'))[1];
  const header = /^express-memfilestore-snapshot 2 \S+ journal (\d+) ([0-9a-f]{16})\n/.exec(readFileSync(crashed, 'latin1'));
  assert.ok(header, 'a running store\'s snapshot names its next journal');

  const loadOf = async (path) => {
    const reopened = track(t, new MemFileStore({ saveFile: path }));
    const [info] = await once(reopened, 'load');
    await reopened.close();
    return info;
  };
  // Read before the load: the reopened store's close() writes a new snapshot.
  const crashedHash = trailerHash(crashed);
  const running = await loadOf(crashed);
  assert.equal(running.format, 'v2');
  assert.equal(running.sha256, crashedHash);
  assert.deepEqual(running.journal, { gen: Number(header[1]), token: header[2] });
  assert.equal(running.absorbed, undefined);
  assert.equal(running.journalRecords, 1, 'the change after the snapshot, from the journal');

  await store.close();
  const closedHash = trailerHash(file);
  const absorbed = Number(/^express-memfilestore-snapshot 2 \S+ nojournal (\d+)\n/.exec(readFileSync(file, 'latin1'))[1]);
  const closed = await loadOf(file);
  assert.equal(closed.sha256, closedHash);
  assert.equal(closed.journal, undefined, 'the final snapshot stands alone');
  assert.equal(closed.absorbed, absorbed);
  assert.equal(closed.sessions, 2);
});

test('the \'load\' event carries exactly the keys its README row lists, for every format (no file, a snapshot, a 1.x file)', async (t) => {
  const row = readFileSync(README, 'utf8').split('\n').find((line) => line.startsWith('| `\'load\'` |'));
  const listed = /`\{ format: [^}]*?, ([^`]*) \}`/.exec(row)[1].split(', ');
  const keys = ['format', ...listed].sort();
  const dir = tempDir(t);
  const loadOf = async (file) => {
    const store = track(t, new MemFileStore({ saveFile: file }));
    const [info] = await once(store, 'load');
    await store.close();
    return info;
  };
  const fresh = join(dir, 'fresh.db');
  assert.deepEqual(Object.keys(await loadOf(fresh)).sort(), keys, 'no file yet');
  assert.deepEqual(Object.keys(await loadOf(fresh)).sort(), keys, 'a snapshot');
  const legacy = join(dir, 'legacy.db');
  copyFileSync(join(FIXTURES, 'sessions-1.7.1.json'), legacy);
  assert.deepEqual(Object.keys(await loadOf(legacy)).sort(), keys, 'a 1.x file');
});

test('"Command line": --skip-damaged does not apply to a JSON Lines or 1.x file: a damaged entry is refused either way', async (t) => {
  const dir = cliTempDir(t);
  const line = JSON.stringify({ sid: 'a', expires: null, session: { cookie: { expires: null } } });
  writeFileSync(join(dir, 'export.jsonl'), `${line}\nnot json\n`);
  writeFileSync(join(dir, 'legacy.json'), JSON.stringify({ a: { cookie: { expires: null } }, b: { user: 'no cookie' } }));
  for (const source of ['export.jsonl', 'legacy.json']) {
    const into = join(dir, `${source}.db`);
    const result = await cli(['import', join(dir, source), '--into', into, '--skip-damaged']);
    assert.equal(result.code, 1, `${source}: ${result.stderr}`);
    assert.equal(existsSync(into), false, `${source}: nothing written`);
  }
});
