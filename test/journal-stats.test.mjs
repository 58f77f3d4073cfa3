// The journal's side of `store.stats` and of the 'load' event (issue 9, item 8), and DEBUG=MemFileStore output
// with the journal on, through a torn tail and a journal failure: it says what happened and never carries a
// session id or session contents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemFileStore } from 'express-memfilestore';
import { call, session, tempDir, track } from './fixtures/persist/helpers.mjs';
import { crashCopy, isJournal, journalFs, journalSize, journals, open, syncGate, until } from './fixtures/journal/helpers.mjs';

const headerBytes = (path) => readFileSync(path).indexOf(0x0a) + 1;

test('bytes and records since the last snapshot, reset by a snapshot', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const store = await open(t, file);
  assert.equal(store.stats.persistence.journal.records, 0);
  assert.equal(store.stats.persistence.journal.bytes, 0);
  for (let i = 0; i < 3; i++) await call(store, 'set', `s${i}`, session({ i }));
  await call(store, 'destroy', 's1');
  const [journal] = journals(file);
  let stats = store.stats.persistence.journal;
  assert.equal(stats.records, 4);
  assert.equal(stats.bytes, journalSize(journal) - headerBytes(journal));
  assert.equal(stats.generation, 1);
  assert.equal(stats.failed, false);
  assert.equal(stats.lastError, undefined);
  await store.flush();
  stats = store.stats.persistence.journal;
  assert.deepEqual([stats.records, stats.bytes, stats.generation], [0, 0, 2], 'the snapshot absorbed the journal');
  await call(store, 'set', 'again', session({}));
  assert.equal(store.stats.persistence.journal.records, 1);
  assert.equal(store.stats.persistence.journal.bytes, journalSize(store.stats.persistence.journal.file) - headerBytes(store.stats.persistence.journal.file));
  // A restart counts what it replayed as appended since the snapshot.
  const after = await open(t, crashCopy(t, file));
  assert.equal(after.stats.persistence.journal.bytes, store.stats.persistence.journal.bytes);
});

test('pending: records not yet written (everysec), or written and waiting for their sync (always)', { timeout: 20_000 }, async (t) => {
  const dir = tempDir(t);
  const everysec = await open(t, join(dir, 'e.db'));
  const done = call(everysec, 'set', 'a', session({}));
  assert.equal(everysec.stats.persistence.journal.pending, 1, 'appended, written at the end of the turn');
  await done;
  assert.equal(everysec.stats.persistence.journal.pending, 0);

  // The sync is held until the test releases it: a 30 ms timer against a sync slowed to 100 ms failed whenever a
  // loaded machine ran the timer 70 ms late (the sync done, pending 0).
  const fs = journalFs();
  const gate = syncGate(fs);
  const always = await open(t, join(dir, 'a.db'), { journal: 'always', fs });
  const held = gate.hold(isJournal);
  const two = [call(always, 'set', 'a', session({})), call(always, 'set', 'b', session({}))];
  assert.equal(always.stats.persistence.journal.pending, 2);
  await held.reached; // both written, their one sync begun
  assert.equal(always.stats.persistence.journal.pending, 2, 'written, still waiting for the sync');
  held.release();
  await Promise.all(two);
  assert.equal(always.stats.persistence.journal.pending, 0);
});

test('lastSyncAt: set by the sync about a second after a write (everysec), before the callback (always)', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const everysec = await open(t, join(dir, 'e.db'));
  assert.equal(everysec.stats.persistence.journal.lastSyncAt, undefined);
  const start = Date.now();
  await call(everysec, 'set', 'a', session({}));
  assert.equal(everysec.stats.persistence.journal.lastSyncAt, undefined, 'everysec acknowledges before the sync');
  await until(() => everysec.stats.persistence.journal.lastSyncAt !== undefined, 20_000, 'the periodic sync'); // bounds a hang
  const at = everysec.stats.persistence.journal.lastSyncAt;
  assert.ok(at >= start && at <= Date.now(), `lastSyncAt ${at}`);

  const always = await open(t, join(dir, 'a.db'), { journal: 'always' });
  const before = Date.now();
  await call(always, 'set', 'a', session({}));
  assert.ok(always.stats.persistence.journal.lastSyncAt >= before);
});

test('delayedSyncs counts a sync that took longer than a second', { timeout: 30_000 }, async (t) => {
  const fs = journalFs();
  const store = await open(t, join(tempDir(t), 's.db'), { journal: 'always', fs });
  await call(store, 'set', 'a', session({}));
  // Counted from here: the real sync of 'a' counts too when a loaded disk takes over a second for it.
  const before = store.stats.persistence.journal.delayedSyncs;
  fs.faults.syncDelayMs = 1100;
  await call(store, 'set', 'b', session({}));
  assert.equal(store.stats.persistence.journal.delayedSyncs - before, 1);
});

test("the 'load' event and stats.load: journal files, records and torn bytes replayed", async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const fs = journalFs();
  const store = await open(t, file, { fs });
  await call(store, 'set', 'a', session({}));
  fs.faults.open = 'ENOSPC';
  await store.flush().catch(() => undefined); // a failed snapshot leaves two journals
  await call(store, 'set', 'b', session({}));
  await call(store, 'set', 'c', session({}));
  // The new journal's records wait for the old journal's last sync (one fdatasync after a snapshot).
  await until(() => journalSize(journals(file)[1]) > headerBytes(journals(file)[1]), 20_000, 'b and c written'); // bounds a hang
  const copy = crashCopy(t, file);
  const [, second] = journals(copy);
  truncateSync(second, journalSize(second) - 5);
  const after = track(t, new MemFileStore({ saveFile: copy, savePeriod: 0 }));
  const loaded = await new Promise((resolve) => after.once('load', resolve));
  assert.equal(loaded.journalFiles, 2);
  assert.equal(loaded.journalRecords, 2, 'a, then b; c was torn');
  assert.ok(loaded.tornBytes > 5, `tornBytes ${loaded.tornBytes}`);
  assert.equal(loaded.sessions, 2);
  assert.deepEqual(after.stats.persistence.load, loaded);

  const fresh = track(t, new MemFileStore({ saveFile: join(tempDir(t), 'new.db'), savePeriod: 0 }));
  const none = await new Promise((resolve) => fresh.once('load', resolve));
  assert.deepEqual([none.journalFiles, none.journalRecords, none.tornBytes], [0, 0, 0]);
});

test('DEBUG=MemFileStore with the journal: torn tail, failure, recovery, logged without ids or contents', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const helpers = fileURLToPath(new URL('./fixtures/journal/helpers.mjs', import.meta.url));
  const script = `
    import { MemFileStore } from 'express-memfilestore';
    import { truncateSync } from 'node:fs';
    import { journalFs, journalSize, journals } from ${JSON.stringify(helpers)};
    const file = ${JSON.stringify(join(dir, 'sessions.db'))};
    const sess = (n) => ({ cookie: { maxAge: 60000 }, email: 'user@example.com', token: 'TOKEN-secret-' + n });
    const step = (fn) => new Promise((resolve) => fn(resolve));
    const fs = journalFs();
    let store = new MemFileStore({ saveFile: file, savePeriod: 0, journal: 'always', fs });
    store.on('error', () => {});
    for (let i = 0; i < 3; i++) await step((cb) => store.set('SID-secret-' + i, sess(i), cb));
    fs.faults.journalWrite = 'EIO';
    await step((cb) => store.set('SID-secret-x', sess('x'), cb));
    fs.faults.journalWrite = null;
    while (store.stats.persistence.journal.failed) await new Promise((r) => setTimeout(r, 20));
    await step((cb) => store.set('SID-secret-4', sess(4), cb));
    await step((cb) => store.destroy('SID-secret-1', cb));
    // Abandon it (as a crash would), with its last record torn.
    const last = journals(file).pop();
    truncateSync(last, journalSize(last) - 3);
    store.stopInterval();
    store.stopSaveInterval();
    process.exitCode = 0;
    const copyDir = ${JSON.stringify(join(dir, 'copy'))};
    const { mkdirSync, copyFileSync, readdirSync } = await import('node:fs');
    mkdirSync(copyDir);
    for (const n of readdirSync(${JSON.stringify(dir)})) if (!n.endsWith('.lock') && n !== 'copy') copyFileSync(${JSON.stringify(dir)} + '/' + n, copyDir + '/' + n);
    store = new MemFileStore({ saveFile: copyDir + '/sessions.db', savePeriod: 0 });
    await store.ready;
    await store.close();
    process.exit(0);
  `;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8', timeout: 50_000,
    env: { ...process.env, DEBUG: 'MemFileStore', DEBUG_COLORS: '0' },
  });
  assert.equal(child.status, 0, child.stderr);
  const output = child.stdout + child.stderr;
  assert.match(output, /journal failed/);
  assert.match(output, /torn journal tail of \d+ bytes/);
  assert.match(output, /journal records/);
  for (const secret of ['SID-secret', 'TOKEN-secret', 'user@example.com', 'maxAge']) {
    assert.ok(!output.includes(secret), `debug output must not contain "${secret}":\n${output}`);
  }
});
