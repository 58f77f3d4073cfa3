// When a snapshot is taken besides flush() and close() (src/files/persistence-triggers.ts): every savePeriod
// when something changed and no save is running; when the journal outgrows the last snapshot; every second after
// the journal failed, until a snapshot recovered it, and never after. The timers are mocked (setInterval only)
// where the test is about their ticks, so no assertion depends on how fast the machine is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemFileStore } from 'express-memfilestore';
import { call, countEvents, faultyFs, fsError, HOUR, session, tempDir, track } from './fixtures/persist/helpers.mjs';
import { settle } from './fixtures/store-calls.mjs';
import { journalFs, open, until } from './fixtures/journal/helpers.mjs';
import { captureDebug } from './fixtures/debug-capture.mjs';

const RETRY_MS = 1000;
const RECOVERED = 'journal recovered by a snapshot';

/** An 'always' store whose journal failed on a change (EIO) and is left failed; the fault is cleared. */
async function failedStore(t, fs) {
  const store = await open(t, join(tempDir(t), 'sessions.db'), { journal: 'always', fs });
  const errors = countEvents(store, 'error');
  await call(store, 'set', 'a', session({}));
  fs.faults.journalWrite = 'EIO';
  const { err } = await settle(store, 'set', 'b', session({}));
  assert.equal(err?.code, 'ERR_JOURNAL_FAILED');
  fs.faults.journalWrite = null;
  assert.equal(store.stats.persistence.journal.failed, true);
  return { store, errors };
}

// Real timers here: node 20's mocked setInterval keeps an interval that clears itself from its own callback.
test('the recovery retries stop once a snapshot has recovered the journal: no snapshot every second after', { timeout: 20_000 }, async (t) => {
  const log = captureDebug(t);
  const fs = journalFs();
  const { store, errors } = await failedStore(t, fs);
  assert.equal(errors.length, 1);
  assert.ok(log.some((line) => line.startsWith('journal failed: express-memfilestore: could not write the journal')), log.join('\n'));
  await until(() => !store.stats.persistence.journal.failed, 5000, 'the recovery by the retry');
  const saves = countEvents(store, 'save');

  // Recovered: the next tick ends the retries, and none after it takes a snapshot, however much changes.
  await call(store, 'set', 'c', session({}));
  await until(() => log.includes(RECOVERED), 5000, 'the retries to end');
  await sleep(RETRY_MS + 200);
  assert.equal(saves.length, 0, 'a snapshot after the recovery');
  assert.equal(store.stats.persistence.changesSinceSave, 1);
  assert.equal(log.filter((line) => line === RECOVERED).length, 1, log.join('\n'));
});

test('a second failure after a recovery the retry timer has not seen yet keeps one retry timer', { timeout: 20_000 }, async (t) => {
  const log = captureDebug(t);
  const fs = journalFs();
  const { store, errors } = await failedStore(t, fs);
  await store.flush(); // recovers before the retry timer ticks
  assert.equal(store.stats.persistence.journal.failed, false);
  fs.faults.journalWrite = 'EIO';
  assert.equal((await settle(store, 'set', 'd', session({}))).err?.code, 'ERR_JOURNAL_FAILED');
  fs.faults.journalWrite = null;
  assert.equal(errors.length, 2, 'each failure is reported');

  await until(() => !store.stats.persistence.journal.failed, 5000, 'the recovery by the retry');
  await until(() => log.includes(RECOVERED), 5000, 'the retries to end');
  await sleep(2 * RETRY_MS + 200);
  // Two timers (one lost) would each say so, the lost one every second forever.
  assert.equal(log.filter((line) => line === RECOVERED).length, 1, log.join('\n'));
});

test('close() stops the recovery retries: a store closed with its journal failed attempts no snapshot after', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const fs = journalFs();
  const { store } = await failedStore(t, fs);
  await store.close(); // the final snapshot stands alone: the failed journal is gone with it
  for (let i = 0; i < 3; i++) {
    t.mock.timers.tick(RETRY_MS);
    assert.equal(store.stats.persistence.saving, false, `tick ${i + 1} after close() started a snapshot`);
  }
});

test('a periodic tick during a running save starts no second one: the change made meanwhile waits for a later period', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const fs = faultyFs();
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 10, fs }));
  await store.ready;
  const saves = countEvents(store, 'save');
  store.set('a', session({ user: 'a' }));
  const held = fs.hold();
  const first = store.flush();
  await held.reached;
  store.set('b', session({ user: 'b' }));
  await sleep(100); // ten periods, each finding a save running
  store.stopSaveInterval();
  held.release();
  await first;
  await new Promise((resolve) => { setImmediate(resolve); });
  assert.equal(store.stats.persistence.saving, false, 'no save queued by a tick during the first');
  assert.equal(saves.length, 1);
  assert.equal(store.stats.persistence.changesSinceSave, 1);
});

test('a journal passing its limit during a running snapshot starts no second one; the next write past it does', { timeout: 60_000 }, async (t) => {
  const log = captureDebug(t);
  const file = join(tempDir(t), 'sessions.db');
  const fs = faultyFs();
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, fs }));
  await store.ready;
  const big = 'x'.repeat(100 * 1024);
  await call(store, 'set', 'small', session({}));
  const held = fs.hold();
  const first = store.flush();
  await held.reached;
  // 9 MB into the journal the held snapshot started: past the 8 MiB minimum while that snapshot runs.
  for (let i = 0; i < 90; i++) await call(store, 'set', `s${i}`, session({ big }, HOUR));
  assert.ok(store.stats.persistence.journal.bytes > 9e6);
  assert.equal(store.stats.persistence.compactions, 0, 'no compaction counted while a snapshot runs');
  held.release();
  await first;
  assert.equal(store.stats.persistence.saving, false, 'none queued behind it');
  await call(store, 'set', 'next', session({}));
  assert.equal(store.stats.persistence.compactions, 1);
  assert.ok(log.includes('journal passed 8388608 bytes: snapshot'), log.join('\n'));
  await until(() => !store.stats.persistence.saving, 10_000, 'the compaction');
});

test('a journal that fails after a snapshot copied every change still recovers, with no change to save', { timeout: 20_000 }, async (t) => {
  const fs = journalFs();
  // The store takes its journal calls from the seam when it starts: the fault is decided per call.
  let failing;
  const fdatasync = fs.fdatasync;
  fs.fdatasync = (fd, callback) => {
    if (fd !== failing?.fd) return fdatasync(fd, callback);
    const { path } = failing;
    failing = undefined; // once: its descriptor may be reused by a later journal
    return callback(fsError('EIO', 'fdatasync', path));
  };
  const store = await open(t, join(tempDir(t), 'sessions.db'), { journal: 'everysec', fs });
  const errors = countEvents(store, 'error');
  await call(store, 'set', 'a', session({})); // written to journal 1, its sync due within a second
  failing = fs.calls.find((c) => c.call === 'open' && c.path.endsWith('.journal.1'));
  // The snapshot copies 'a'; journal 1's last sync, as it retires, fails: the journal has failed, yet the store
  // holds no change the snapshot lacks.
  await store.flush();
  assert.equal(store.stats.persistence.journal.failed, true);
  assert.equal(store.stats.persistence.changesSinceSave, 0);
  assert.equal(errors.length, 1);
  await until(() => !store.stats.persistence.journal.failed, 5000, 'the recovery by the retry');
});

test('a retry whose snapshot fails is logged, not reported again, and the next retry recovers', { timeout: 20_000 }, async (t) => {
  const log = captureDebug(t);
  const fs = journalFs();
  const { store, errors } = await failedStore(t, fs);
  fs.faults.write = 'EIO'; // the snapshot's temp file
  await until(() => log.some((line) => line.startsWith('recovery snapshot failed: ')), 5000, 'a failed retry');
  assert.match(log.find((line) => line.startsWith('recovery snapshot failed: ')), /EIO/);
  fs.faults.write = null;
  await until(() => !store.stats.persistence.journal.failed, 5000, 'the recovery by a later retry');
  assert.equal(errors.length, 1, 'the failed retry is no new error event');
});

test('a retry tick during a running save starts no second one', { timeout: 20_000 }, async (t) => {
  const fs = journalFs();
  const store = await open(t, join(tempDir(t), 'sessions.db'), { journal: 'everysec', fs });
  store.on('error', () => undefined);
  await call(store, 'set', 'a', session({}));
  fs.faults.journalWrite = 'EIO';
  await call(store, 'set', 'b', session({})); // 'everysec': accepted, the journal has failed
  fs.faults.journalWrite = null;
  assert.equal(store.stats.persistence.journal.failed, true);
  const held = fs.hold();
  const first = store.flush(); // recovers: its copy was taken after the failure
  await held.reached;
  store.set('c', session({}));
  await sleep(RETRY_MS + 300); // a retry tick finds the save running
  held.release();
  await first;
  await new Promise((resolve) => { setImmediate(resolve); });
  assert.equal(store.stats.persistence.saving, false, 'no save queued by the retry');
  assert.equal(store.stats.persistence.changesSinceSave, 1);
});
