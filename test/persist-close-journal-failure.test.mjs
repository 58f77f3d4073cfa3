// close() stops every timer (README, Methods: "stops all timers"), also when its final save fails.
// A store whose journal had failed kept its recovery timer after a failed close(): once the disk was usable again it
// saved a snapshot every second, for as long as the process lived, although the store was closed and nothing
// changed (README: "an unchanged store is never rewritten"). The final save of a close() writes no new journal, so
// it never ended the journal's failure, and every later second was "due" again. Calling close() again is what retries
// the final save.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemFileStore } from 'express-memfilestore';
import { call, countEvents, nextEvent, session, tempDir } from './fixtures/persist/helpers.mjs';
import { storeWithErrors, until } from './fixtures/journal/helpers.mjs';

/** The journal's recovery snapshots are retried every second (persistence-triggers.ts). */
const RECOVERY_RETRY_MS = 1000;

for (const mode of ['everysec', 'always']) {
  test(`${mode}: after a close() whose final save failed, a closed store saves nothing by itself; close() again does`, { timeout: 20_000 }, async (t) => {
    const file = join(tempDir(t), 'sessions.db');
    const { store, fs, errors } = await storeWithErrors(t, file, { journal: mode });
    fs.faults.journalWrite = 'EIO';
    store.set('x', session({ user: 'x' }), () => {});
    await until(() => errors.length > 0, 5000, 'the journal failure');
    fs.faults.open = 'ENOSPC';
    await assert.rejects(store.close(), /ENOSPC/);
    fs.faults.journalWrite = null;
    fs.faults.open = null;
    const saves = countEvents(store, 'save');
    // Two and a half recovery periods: a recovery timer still running after close() saves at least twice.
    await sleep(2.5 * RECOVERY_RETRY_MS);
    assert.equal(saves.length, 0, 'no save after close() but the one a retried close() makes');
    await store.close();
    assert.equal(saves.length, 1);
    assert.equal(existsSync(`${file}.lock`), false);
    const reopened = new MemFileStore({ saveFile: file, savePeriod: 0 });
    t.after(() => reopened.close());
    await reopened.ready;
    assert.deepEqual((await call(reopened, 'ids')).sort(), ['before', 'x']);
  });

  test(`${mode}: a journal that fails again right after a recovery keeps one recovery timer, which close() stops`, { timeout: 20_000 }, async (t) => {
    const file = join(tempDir(t), 'sessions.db');
    const { store, fs, errors } = await storeWithErrors(t, file, { journal: mode });
    fs.faults.journalWrite = 'EIO';
    store.set('x', session({ user: 'x' }), () => {});
    await until(() => errors.length > 0, 5000, 'the journal failure');
    fs.faults.journalWrite = null;
    // The recovery snapshot succeeds; its timer notices only at its next tick, a second later. Fail again before.
    await nextEvent(store, 'save');
    fs.faults.journalWrite = 'EIO';
    store.set('y', session({ user: 'y' }), () => {});
    await until(() => errors.length > 1, 5000, 'the second journal failure');
    fs.faults.open = 'ENOSPC';
    await assert.rejects(store.close(), /ENOSPC|EIO/);
    fs.faults.journalWrite = null;
    fs.faults.open = null;
    const saves = countEvents(store, 'save');
    await sleep(2.5 * RECOVERY_RETRY_MS);
    assert.equal(saves.length, 0, 'a second recovery timer, left running by close(), saved the closed store');
    await store.close();
    assert.equal(saves.length, 1);
  });

  test(`${mode}: a journal that fails during close() starts no recovery timer either`, { timeout: 20_000 }, async (t) => {
    const file = join(tempDir(t), 'sessions.db');
    const { store, fs, errors } = await storeWithErrors(t, file, { journal: mode });
    fs.faults.journalWrite = 'EIO';
    fs.faults.open = 'ENOSPC';
    // Written by close() itself, which then fails the journal; the final save fails too.
    store.set('x', session({ user: 'x' }), () => {});
    await assert.rejects(store.close(), /ENOSPC|EIO/);
    assert.ok(errors.length > 0, 'the journal failed');
    fs.faults.journalWrite = null;
    fs.faults.open = null;
    const saves = countEvents(store, 'save');
    await sleep(2.5 * RECOVERY_RETRY_MS);
    assert.equal(saves.length, 0, 'no save after close() but the one a retried close() makes');
    await store.close();
    assert.equal(saves.length, 1);
  });
}
