// Journal write and sync failures (issue 9, item 5): ENOSPC and EIO from the journal's write (whole, or after
// half a record) and from its fdatasync, injected through the store's `fs` seam, in both modes, plus a real
// ENOSPC on a full tmpfs where mounting is permitted. In every case: the host never crashes, the failure is an
// 'error' event (a warning without listener), memory keeps serving, stats say failed; 'everysec' acknowledges on,
// 'always' fails the changes it cannot make durable and every later one (code ERR_JOURNAL_FAILED) until a
// snapshot with a fresh journal recovers, without a restart, once the fault is cleared; a failed fdatasync is never
// retried on the same file; no acknowledged change is lost by a crash, during the fault or after the recovery.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, captureWarnings, nextEvent, session, tempDir } from './fixtures/persist/helpers.mjs';
import { settle } from './fixtures/store-calls.mjs';
import { crashCopy, journalFs, open, until } from './fixtures/journal/helpers.mjs';
import { mountTmpfs } from './fixtures/tmpfs.mjs';

const FAULTS = [
  ['write ENOSPC', (f) => { f.journalWrite = 'ENOSPC'; }, 'ENOSPC'],
  ['write EIO after half a record', (f) => { f.journalWrite = 'EIO'; f.partial = true; }, 'EIO'],
  ['fdatasync EIO', (f) => { f.fdatasync = 'EIO'; }, 'EIO'],
  ['fdatasync ENOSPC', (f) => { f.fdatasync = 'ENOSPC'; }, 'ENOSPC'],
];
const clearFaults = (f) => { f.journalWrite = null; f.fdatasync = null; f.partial = false; };

/** Sessions a restart brings back: the files of the running store, copied as a kill -9 leaves them. */
async function afterCrash(t, file) {
  const store = await open(t, crashCopy(t, file));
  return new Set(await call(store, 'ids'));
}

for (const mode of ['everysec', 'always']) {
  for (const [what, inject, cause] of FAULTS) {
    test(`${mode}, ${what}: error event, memory serves, no retry on the file, recovery without restart, nothing acknowledged lost`, { timeout: 20_000 }, async (t) => {
      const file = join(tempDir(t), 'sessions.db');
      const fs = journalFs();
      const store = await open(t, file, { journal: mode, fs });
      const errors = [];
      store.on('error', (err) => errors.push(err));
      const acked = new Set();
      const set = async (id) => {
        const { err } = await settle(store, 'set', id, session({ id }));
        if (!err) acked.add(id);
        return err ?? undefined;
      };
      assert.equal(await set('before-1'), undefined);
      assert.equal(await set('before-2'), undefined);
      const journal = store.stats.persistence.journal.file;

      inject(fs.faults);
      const failed = nextEvent(store, 'error', 5000);
      const during = await set('during');
      const event = await failed;
      assert.equal(event.code, 'ERR_JOURNAL_FAILED');
      assert.equal(event.cause.code, cause);
      assert.ok(event.message.includes(journal), event.message);
      if (mode === 'always') {
        assert.equal(during?.code, 'ERR_JOURNAL_FAILED', "'always': the change that could not be made durable gets the error");
        assert.equal(during.cause.code, cause);
      } else {
        assert.equal(during, undefined, "'everysec' acknowledges at the write, before the failure is known");
      }
      const stats = store.stats.persistence.journal;
      assert.equal(stats.failed, true);
      assert.match(stats.lastError, /could not write the journal/);

      // Memory keeps serving; 'always' refuses every change it cannot make durable.
      assert.equal((await call(store, 'get', 'before-1')).id, 'before-1');
      const later = await set('later');
      const destroyed = await settle(store, 'destroy', 'before-2');
      if (mode === 'always') {
        assert.equal(later?.code, 'ERR_JOURNAL_FAILED');
        assert.equal(destroyed.err?.code, 'ERR_JOURNAL_FAILED');
        assert.equal(await call(store, 'get', 'later'), undefined, 'a refused change is not made');
        assert.ok(await call(store, 'get', 'before-2'), 'a refused destroy is not made');
      } else {
        assert.equal(later, undefined);
        assert.equal(destroyed.err ?? undefined, undefined);
        acked.delete('before-2');
      }
      // A crash now: what was acknowledged is on disk (the page cache has what was written before the fault).
      const crashedDuring = await afterCrash(t, file);
      if (mode === 'always') for (const id of acked) assert.ok(crashedDuring.has(id), `${id} acknowledged, lost by a crash during the fault`);

      // A failed sync is never retried on that file, and nothing more is written to it: in 'everysec', not even
      // by the periodic sync, given a second to run while the fault is still there.
      if (mode === 'everysec') await new Promise((resolve) => setTimeout(resolve, 1200));
      const failedAt = fs.calls.findIndex((c) => c.path === journal && (c.call === 'fdatasync-failed' || c.call === 'write-failed'));
      assert.ok(failedAt >= 0, 'the fault was hit on the journal');
      const afterFailure = fs.calls.slice(failedAt + 1).filter((c) => c.path === journal);
      assert.deepEqual(afterFailure.filter((c) => c.call !== 'close' && c.call !== 'ftruncate').map((c) => c.call), [],
        'no write or sync on the failed journal after its failure');
      if (what.includes('half')) {
        assert.ok(fs.calls.slice(failedAt).some((c) => c.call === 'ftruncate' && c.path === journal), 'the partial record was cut');
      }

      // The fault clears: a snapshot with a fresh journal recovers, without a restart.
      clearFaults(fs.faults);
      await until(() => store.stats.persistence.journal.failed === false, 5000, 'recovery');
      assert.notEqual(store.stats.persistence.journal.file, journal, 'a fresh journal');
      assert.equal(store.stats.persistence.lastSave.outcome, 'ok');
      assert.equal(await set('after-recovery'), undefined);
      assert.equal(await set('after-recovery-2'), undefined);
      assert.equal(errors.length, 1, "one 'error' event per failure, not one per record");
      const restarted = await afterCrash(t, file);
      for (const id of acked) assert.ok(restarted.has(id), `${id} was acknowledged and lost by a crash after recovery`);
      if (mode === 'everysec') assert.ok(restarted.has('during') && restarted.has('later'), 'the recovery snapshot holds what memory held');
    });
  }
}

test('no error listener: a journal failure is a process warning, the host keeps running', async (t) => {
  const warnings = captureWarnings(t);
  const file = join(tempDir(t), 'sessions.db');
  const fs = journalFs();
  const store = await open(t, file, { fs });
  await call(store, 'set', 'a', session({}));
  fs.faults.journalWrite = 'EIO';
  await call(store, 'set', 'b', session({}));
  await until(() => warnings.some((w) => w.code === 'ERR_JOURNAL_FAILED'), 3000, 'the warning');
  assert.equal((await call(store, 'ids')).length, 2);
  fs.faults.journalWrite = null;
  await until(() => store.stats.persistence.journal.failed === false, 5000, 'recovery');
});

test("a failure while a journal is created at the first change: 'always' refuses, then recovers", { timeout: 20_000 }, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const fs = journalFs();
  fs.faults.journalOpen = 'EACCES';
  const store = await open(t, file, { journal: 'always', fs });
  store.on('error', () => undefined);
  const { err } = await settle(store, 'set', 'first', session({}));
  assert.equal(err?.code, 'ERR_JOURNAL_FAILED');
  fs.faults.journalOpen = null;
  await until(() => store.stats.persistence.journal.failed === false, 5000, 'recovery');
  await call(store, 'set', 'second', session({}));
  const restarted = await afterCrash(t, file);
  assert.ok(restarted.has('second'));
});

test('real ENOSPC on a full tmpfs: the journal fails, memory serves, a snapshot recovers once space is back', { timeout: 30_000 }, async (t) => {
  const fsMount = mountTmpfs(t, 'size=256k', '; ENOSPC is covered by the injected faults');
  if (!fsMount) return;
  const { mnt } = fsMount;
  const file = join(mnt, 'sessions.db');
  const store = fsMount.keep(new MemFileStore({ saveFile: file, savePeriod: 0, journal: 'always' }));
  await store.ready;
  store.on('error', () => undefined);
  await call(store, 'set', 'before', session({ pad: 'x'.repeat(1000) }));
  const ballast = join(mnt, 'ballast');
  // More than the file system holds: the write stops at ENOSPC and leaves it full.
  assert.throws(() => writeFileSync(ballast, Buffer.alloc(1024 * 1024, 1)), { code: 'ENOSPC' });
  assert.equal(statfsSync(mnt).bavail, 0, 'the file system is full');
  let refused;
  for (let i = 0; i < 20 && refused === undefined; i++) {
    const { err } = await settle(store, 'set', `fill-${i}`, session({ pad: 'y'.repeat(8000) }));
    refused = err;
  }
  assert.equal(refused?.code, 'ERR_JOURNAL_FAILED');
  assert.equal(refused.cause.code, 'ENOSPC');
  assert.equal(store.stats.persistence.journal.failed, true);
  assert.equal((await call(store, 'get', 'before')).pad.length, 1000, 'memory serves');
  unlinkSync(ballast);
  await until(() => store.stats.persistence.journal.failed === false, 5000, 'recovery');
  await call(store, 'set', 'after', session({}));
  const restarted = await afterCrash(t, file);
  assert.ok(restarted.has('before') && restarted.has('after'));
});
