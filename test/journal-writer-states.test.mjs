// The journal writer's states that mutation testing (issue 12, Stryker on src/files/journal-writer.ts) found
// untested: changes made while the journal has failed, while a recovery snapshot is written, or after close();
// a snapshot with no journal before it; close() while the journal has failed; the size limit reached exactly.
// Real files in temp dirs; faults only through the store's `fs` seam.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { call, fsError, HOUR, manualClock, session, tempDir } from './fixtures/persist/helpers.mjs';
import { settle } from './fixtures/store-calls.mjs';
import { appendsNothingWaitsFor, crashCopy, gatedStore, journalFs, open, storeWithErrors, tracked, trackedPair, turn, until } from './fixtures/journal/helpers.mjs';

/** The syncs of the journal at `path` in the seam's log, from call `from` on: 'fdatasyncSync' on the event loop, 'fdatasync' off it. */
const syncCalls = (fs, path, from = 0) => fs.calls.slice(from).filter((c) => c.path === path && c.call.startsWith('fdatasync')).map((c) => c.call);

/** An 'everysec' store whose journal failed at a write (the fault cleared again), with 'before' in memory. */
async function failedStore(t, file) {
  const { store, fs, errors } = await storeWithErrors(t, file);
  fs.faults.journalWrite = 'EIO';
  await call(store, 'set', 'lost', session({})); // 'everysec': memory serves it, the journal has failed
  fs.faults.journalWrite = null;
  assert.equal(store.stats.persistence.journal.failed, true);
  assert.deepEqual(errors.map((e) => e.code), ['ERR_JOURNAL_FAILED']);
  return { store, fs };
}

test('everysec: changes made while the journal has failed are not kept for it (the recovery snapshot holds them)', { timeout: 20_000 }, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const { store, fs } = await failedStore(t, file);
  const calls = fs.calls.length;
  for (let i = 0; i < 3; i++) await call(store, 'set', `during-${i}`, session({}));
  assert.equal(store.stats.persistence.journal.pending, 0, 'nothing waits in memory for a journal that is not written');
  assert.deepEqual(fs.calls.slice(calls), [], 'nor is anything written');
  await store.flush();
  assert.equal(store.stats.persistence.journal.failed, false);
  const after = await open(t, crashCopy(t, file));
  assert.deepEqual((await call(after, 'ids')).sort(), ['before', 'during-0', 'during-1', 'during-2', 'lost']);
});

test('a change made while the recovery snapshot is written goes into the journal that snapshot names', { timeout: 20_000 }, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const { store, fs } = await failedStore(t, file);
  const snapshotWrite = fs.hold();
  const saving = store.flush(); // copies memory, switches to a new journal, creates it, then writes the snapshot
  await snapshotWrite.reached;
  // After the copy, before the failure is over: held for the new journal, not dropped as a failed journal's.
  await call(store, 'set', 'during', session({ marker: 'after-the-copy' }));
  snapshotWrite.release();
  await saving;
  assert.equal(store.stats.persistence.journal.failed, false, 'the recovery');
  const after = await open(t, crashCopy(t, file));
  assert.deepEqual((await call(after, 'ids')).sort(), ['before', 'during', 'lost'], "a kill -9 now keeps 'during'");
  assert.equal(after.stats.persistence.load.journalRecords, 1, 'from the new journal');
});

test('a recovery snapshot whose journal cannot be created, with none created since the start, fails with the fs error', { timeout: 20_000 }, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const fs = journalFs();
  fs.faults.journalOpen = 'ENOSPC';
  const store = await open(t, file, { fs });
  store.on('error', () => undefined);
  await call(store, 'set', 'a', session({})); // the first change cannot create the journal: failed, no journal file
  assert.equal(store.stats.persistence.journal.failed, true);
  await assert.rejects(store.flush(), { code: 'ENOSPC' }); // the snapshot's journal cannot be created either
  assert.equal(store.stats.persistence.journal.failed, true);
  fs.faults.journalOpen = null;
  await store.flush();
  assert.equal(store.stats.persistence.journal.failed, false);
  await call(store, 'set', 'b', session({}));
  const after = await open(t, crashCopy(t, file));
  assert.deepEqual((await call(after, 'ids')).sort(), ['a', 'b']);
});

test('a snapshot with no journal before it (nothing journaled since the start) opens the next one for changes', { timeout: 20_000 }, async (t) => {
  const clock = manualClock();
  const file = join(tempDir(t), 'sessions.db');
  const first = await open(t, file, { clock: clock.fn });
  await call(first, 'set', 'short', session({}, 60_000));
  await call(first, 'set', 'long', session({}, HOUR));
  await first.close(); // a snapshot that stands alone: the next start finds no journal
  const store = await open(t, file, { clock: clock.fn });
  clock.now += 120_000;
  store.prune(); // a change no journal records (expiry is replayed from the sessions' own times)
  assert.equal(store.stats.persistence.changesSinceSave, 1);
  const next = store.stats.persistence.journal.file;
  assert.equal(existsSync(next), false, 'no journal yet');
  await store.flush();
  assert.equal(store.stats.persistence.journal.file, next);
  assert.ok(existsSync(next), 'the snapshot names a journal it created');
  const b = tracked(store, 'set', 'b', session({}));
  assert.equal(await b.done, null, 'a change after it is written, not held back');
  const after = await open(t, crashCopy(t, file), { clock: clock.fn });
  assert.deepEqual((await call(after, 'ids')).sort(), ['b', 'long']);
  assert.equal(after.stats.persistence.load.journalRecords, 1);
});

test('always: close() while the journal has failed, with a sync of it in flight, does not wait for that sync, and closes the journal when it completes', { timeout: 20_000 }, async (t) => {
  let held;
  let journal;
  // Before the store's close (hooks run in order), if the test failed before its own release.
  t.after(() => held?.release(fsError('EIO', 'fdatasync', journal)));
  const { file, fs, gate, store } = await gatedStore(t, { journal: 'always' });
  store.on('error', () => undefined);
  journal = store.stats.persistence.journal.file;
  held = gate.hold((path) => path === journal);
  const [a] = trackedPair(store, 'a', session({}));
  await held.reached; // 'a' written, its sync running
  fs.faults.journalWrite = 'EIO';
  assert.equal((await settle(store, 'set', 'b', session({}))).err?.code, 'ERR_JOURNAL_FAILED');
  fs.faults.journalWrite = null;
  // A failed journal is never synced again: close() does not wait for the sync still queued.
  await store.close();
  const closed = () => fs.calls.some((c) => c.call === 'close' && c.path === journal);
  assert.equal(closed(), false, 'its descriptor stays open while its sync is queued (a file opened meanwhile could take the number)');
  assert.equal(a.called, false, "'a' is still in the sync");
  held.release(fsError('EIO', 'fdatasync', journal));
  assert.equal((await a.done)?.code, 'ERR_JOURNAL_FAILED');
  assert.ok(closed(), 'closed once its sync completed');
  const reopened = await open(t, file);
  assert.deepEqual((await call(reopened, 'ids')).sort(), ['a', 'a+', 'b', 'warm-up'], 'the final snapshot holds everything');
});

test("always: after a snapshot, a change that appends nothing waits for the new journal's sync, not the retired one's", { timeout: 20_000 }, async (t) => {
  const { fs, gate, store } = await gatedStore(t, { journal: 'always' });
  const old = store.stats.persistence.journal.file;
  await store.flush();
  await until(() => fs.calls.some((c) => c.call === 'close' && c.path === old), 5000, 'the old journal retired');
  const journal = store.stats.persistence.journal.file;
  const held = gate.hold((path) => path === journal);
  const [set] = trackedPair(store, 'a', session({}));
  await held.reached;
  // The journal the rotation replaced is synced and closed: waiting on it would acknowledge at once.
  await appendsNothingWaitsFor(store, held, set, "waits for the sync of 'a', written before it");
});

test('a change after close() (an eviction through store.store, the lru-cache) does not touch the closed journal', { timeout: 20_000 }, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const fs = journalFs();
  const store = await open(t, file, { fs, max: 1 });
  await call(store, 'set', 'a', session({}));
  await store.close();
  const calls = fs.calls.length;
  store.store.set('b', JSON.stringify(session({}))); // evicts 'a': the store journals evictions while open
  for (let i = 0; i < 3; i++) await turn();
  assert.deepEqual(fs.calls.slice(calls), [], 'no write to the closed descriptor, which another file may have reused');
  assert.equal(store.stats.persistence.journal.failed, false);
});

test('always: a journal is synced for records only: not at the release of held records nor at close when none came', { timeout: 20_000 }, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const fs = journalFs();
  const store = await open(t, file, { journal: 'always', fs });
  await call(store, 'set', 'a', session({}));
  const old = store.stats.persistence.journal.file;
  await store.flush(); // switches to the next journal; its (empty) held back records are released once `old` retired
  const next = store.stats.persistence.journal.file;
  await until(() => fs.calls.some((c) => c.call === 'close' && c.path === old), 5000, 'the old journal retired');
  await store.close();
  // An empty fdatasync still waits for the disk, and the next change's sync would queue behind it.
  const header = fs.calls.find((c) => c.call === 'write' && c.path === next).size;
  assert.deepEqual(fs.calls.filter((c) => c.call === 'fdatasync' && c.path === next).map((c) => c.size), [header], 'its header only');
});

/** Journal bytes that call for a snapshot while the last snapshot is smaller (JOURNAL_MIN_BYTES, persistence.ts). */
const JOURNAL_MIN_BYTES = 8 * 1024 * 1024;

test('a journal reaching its size limit exactly calls for a snapshot', { timeout: 60_000 }, async (t) => {
  const fs = journalFs();
  const store = await open(t, join(tempDir(t), 'sessions.db'), { fs });
  const journal = () => store.stats.persistence.journal;
  const fill = (n) => session({ fill: 'x'.repeat(n) });
  // Records of about 200 kB up to 400-600 kB short of the limit (started empty: the limit is the minimum).
  for (let i = 0; journal().bytes < JOURNAL_MIN_BYTES - 600_000; i++) await call(store, 'set', `fill-${String(i).padStart(3, '0')}`, fill(200_000));
  // A record's size grows byte for byte with its value while its numbers keep their digits: measure one, then
  // size the last so the journal ends exactly at the limit.
  const before = journal().bytes;
  await call(store, 'set', 'probe-1', fill(200_000));
  const probe = journal().bytes - before;
  const rest = JOURNAL_MIN_BYTES - journal().bytes;
  assert.equal(store.stats.persistence.compactions, 0, `short of the limit by ${rest} bytes`);
  const first = journal().file;
  await call(store, 'set', 'probe-2', fill(200_000 + rest - probe));
  const records = fs.calls.filter((c) => c.call === 'write' && c.path === first).slice(1); // after its header
  assert.equal(records.reduce((n, c) => n + c.size, 0), JOURNAL_MIN_BYTES, 'the limit reached exactly');
  // Counted when the write that reached the limit started the snapshot, before the change's callback.
  assert.equal(store.stats.persistence.compactions, 1);
  assert.notEqual(journal().file, first, 'switched to the next journal');
  await store.flush();
});

test("always: a lone change is synced on the event loop before its callback; a turn's group shares one sync off it", { timeout: 20_000 }, async (t) => {
  const { file, fs, store } = await gatedStore(t, { journal: 'always' });
  const journal = store.stats.persistence.journal.file;
  const syncsOf = (from) => syncCalls(fs, journal, from);

  let from = fs.calls.length;
  const atCallback = await new Promise((resolve) => { store.set('lone', session({}), () => resolve(syncsOf(from))); });
  assert.deepEqual(atCallback, ['fdatasyncSync'], 'synced once, on the event loop, before the callback: nothing to share it with');

  from = fs.calls.length;
  const group = [...trackedPair(store, 'x', session({})), tracked(store, 'destroy', 'lone')];
  assert.deepEqual(await Promise.all(group.map((c) => c.done)), [null, null, null]);
  assert.deepEqual(syncsOf(from), ['fdatasync'], 'three changes of one turn: one sync, in the thread pool');
  assert.equal(fs.calls.slice(from).filter((c) => c.path === journal && c.call === 'write').length, 1, 'and one write');

  const after = await open(t, crashCopy(t, file));
  assert.deepEqual((await call(after, 'ids')).sort(), ['warm-up', 'x', 'x+']);
});

test('always: after a sync of several changes (requests in flight), a lone change syncs off the loop; after one that held it alone, on it again', { timeout: 20_000 }, async (t) => {
  const { fs, gate, store } = await gatedStore(t, { journal: 'always' });
  const journal = store.stats.persistence.journal.file;
  const syncsOf = (from) => syncCalls(fs, journal, from);
  const lone = async (id) => {
    const from = fs.calls.length;
    await call(store, 'set', id, session({}));
    return syncsOf(from);
  };
  assert.deepEqual(await lone('a'), ['fdatasyncSync'], 'warm-up\'s sync held it alone: changes come one at a time');
  assert.deepEqual(await Promise.all(trackedPair(store, 'g', session({})).map((c) => c.done)), [null, null]);
  assert.deepEqual(await lone('b'), ['fdatasync'], 'the last sync held two changes: off the loop, where others can join it');
  assert.deepEqual(await lone('c'), ['fdatasyncSync'], 'the sync of b held it alone: on the loop again');

  // A lone change whose sync another change joins (written while it ran): lone changes stay off the loop.
  assert.deepEqual(await Promise.all(trackedPair(store, 'h', session({})).map((c) => c.done)), [null, null]);
  const held = gate.hold((path) => path === journal);
  const first = tracked(store, 'set', 'd', session({}));
  await held.reached;
  const joiner = tracked(store, 'set', 'j', session({}));
  await turn();
  held.release();
  assert.deepEqual([await first.done, await joiner.done], [null, null]);
  assert.deepEqual(await lone('e'), ['fdatasync'], 'a change joined the last sync a write started: off the loop');
});

test("always: a lone change's sync on the event loop failing with no error object fails the journal all the same", { timeout: 20_000 }, async (t) => {
  const fs = journalFs();
  // A seam may throw anything; a nullish throw is still a failed sync, never taken for a good one. Wrapped before
  // the store opens: it takes the seam's functions then.
  const sync = fs.fdatasyncSync;
  let nothing = false;
  fs.fdatasyncSync = (fd) => {
    if (nothing) throw undefined;
    sync(fd);
  };
  const store = await open(t, join(tempDir(t), 'sessions.db'), { journal: 'always', fs });
  const errors = [];
  store.on('error', (err) => errors.push(err));
  await call(store, 'set', 'before', session({})); // the journal created, its header synced
  nothing = true;
  const { err } = await settle(store, 'set', 'lone', session({}));
  nothing = false;
  assert.equal(err?.code, 'ERR_JOURNAL_FAILED', 'the change is not acknowledged as durable');
  assert.match(err.message, /\(fdatasync failed\)/, 'and the error says what failed');
  assert.equal(store.stats.persistence.journal.failed, true);
  assert.deepEqual(errors.map((e) => e.code), ['ERR_JOURNAL_FAILED']);
});

test('always: the first change after a start is synced off the event loop: no sync has shown changes coming one at a time yet', { timeout: 20_000 }, async (t) => {
  const fs = journalFs();
  const store = await open(t, join(tempDir(t), 'sessions.db'), { journal: 'always', fs });
  await call(store, 'set', 'first', session({}));
  const journal = store.stats.persistence.journal.file;
  const syncs = () => syncCalls(fs, journal);
  assert.deepEqual(syncs(), ['fdatasyncSync', 'fdatasync'], "the new journal's header (on the loop, at its creation), then 'first' in the thread pool");
  await call(store, 'set', 'second', session({}));
  assert.deepEqual(syncs().slice(2), ['fdatasyncSync'], "the sync of 'first' held it alone: 'second' on the loop");
});

test("everysec: the timer's syncs never run on the event loop, however few changes each holds", { timeout: 20_000 }, async (t) => {
  const fs = journalFs();
  const store = await open(t, join(tempDir(t), 'sessions.db'), { journal: 'everysec', fs });
  await call(store, 'set', 'a', session({}));
  const journal = store.stats.persistence.journal.file;
  const syncs = () => syncCalls(fs, journal);
  // Completed, not just begun: 'b' written while it runs would make the next sync one that held several changes.
  await until(() => fs.synced.filter((s) => s.path === journal).length === 2, 5000, "the timer's sync of 'a'");
  await call(store, 'set', 'b', session({}));
  await until(() => syncs().length === 3, 5000, "the timer's sync of 'b'");
  assert.deepEqual(syncs(), ['fdatasyncSync', 'fdatasync', 'fdatasync'], "the header at the journal's creation, then each change's sync off the loop: a sync on it stalls every request");
});

test("always: the last sync of a journal a snapshot replaced does not decide where the new journal's lone changes sync", { timeout: 20_000 }, async (t) => {
  const fs = journalFs();
  const store = await open(t, join(tempDir(t), 'sessions.db'), { journal: 'always', fs });
  await call(store, 'set', 'warm-up', session({}));
  assert.deepEqual(await Promise.all(trackedPair(store, 'g', session({})).map((c) => c.done)), [null, null]);
  const old = store.stats.persistence.journal.file;
  await store.flush(); // the old journal's last sync holds no change: it is not a write of changes coming one at a time
  await until(() => fs.calls.some((c) => c.call === 'close' && c.path === old), 5000, 'the old journal retired');
  const journal = store.stats.persistence.journal.file;
  const from = fs.calls.length;
  await call(store, 'set', 'lone', session({}));
  const syncs = syncCalls(fs, journal, from);
  assert.deepEqual(syncs, ['fdatasync'], 'the last sync a write started held two changes: off the loop');
});

test('always: a change written while a sync runs, then carried by the sync that follows it, is synced off the loop also across a snapshot', { timeout: 20_000 }, async (t) => {
  const { fs, gate, store } = await gatedStore(t, { journal: 'always' });
  const old = store.stats.persistence.journal.file;
  const syncsOf = (from) => syncCalls(fs, old, from);
  let from = fs.calls.length;
  await call(store, 'set', 'a', session({}));
  assert.deepEqual(syncsOf(from), ['fdatasyncSync'], "warm-up's sync held it alone: changes come one at a time");
  from = fs.calls.length;
  const held = gate.hold((path) => path === old);
  const pair = trackedPair(store, 'g', session({}));
  await held.reached;
  const x = tracked(store, 'set', 'x', session({})); // written to the old journal while its sync runs
  await turn();
  const saving = store.flush(); // the snapshot switches to a new journal: the old one is no longer the current one
  await until(() => store.stats.persistence.journal.file !== old, 5000, 'the switch');
  held.release();
  assert.deepEqual(await Promise.all([...pair, x].map((c) => c.done)), [null, null, null]);
  await saving;
  assert.deepEqual(syncsOf(from).filter((c) => c === 'fdatasyncSync'), [], "'x' joined a running sync: never synced on the loop");
});
