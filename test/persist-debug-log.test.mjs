// What the debug log (DEBUG=MemFileStore) says about the store's files, read in the test's own process
// (test/fixtures/debug-capture.mjs): each line is written when its event happened, and only then. The log is what
// an operator has to see why a start or a save took the time it took; it never names a session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { truncateSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { call, faultyFs, fsError, session, tempDir } from './fixtures/persist/helpers.mjs';
import { crashCopy, journalSize, journals, open } from './fixtures/journal/helpers.mjs';
import { captureDebug } from './fixtures/debug-capture.mjs';

const REMOVED = /^removed (\d+) temp files left by an interrupted save$/;
const TORN = /^dropped a torn journal tail of (\d+) bytes \(the last record was cut\)$/;

test('a start logs the temp files it removed and the torn journal tail it dropped, and says nothing of either when there were none', async (t) => {
  const running = await open(t, join(tempDir(t), 'sessions.db'), { journal: 'always' });
  for (const id of ['a', 'b', 'c']) await call(running, 'set', id, session({}));
  const file = crashCopy(t, running.stats.persistence.file);
  const last = journals(file).at(-1);
  truncateSync(last, journalSize(last) - 3);
  // Two saves a kill interrupted, by the names the atomic writer gives its temp files.
  for (const name of ['sessions.db.tmp-4242-0123456789ab', 'sessions.db.tmp-4243-0123456789ac']) writeFileSync(join(file, '..', name), 'partial');

  const log = captureDebug(t);
  const store = await open(t, file);
  const { tornBytes } = store.stats.persistence.load;
  assert.ok(tornBytes > 0);
  assert.deepEqual(log.filter((line) => REMOVED.test(line)), ['removed 2 temp files left by an interrupted save'], log.join('\n'));
  assert.deepEqual(log.filter((line) => TORN.test(line)), [`dropped a torn journal tail of ${tornBytes} bytes (the last record was cut)`], log.join('\n'));
  await store.close();

  log.length = 0;
  const again = await open(t, file);
  assert.equal(again.stats.persistence.load.tornBytes, 0);
  assert.ok(log.some((line) => line.startsWith('loaded ')), log.join('\n'));
  assert.deepEqual(log.filter((line) => REMOVED.test(line) || TORN.test(line)), [], 'nothing removed, nothing torn');
});

test('a save logs what it wrote, a failed save why and after how long, and a directory sync failure that older journals stay', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const dir = dirname(file);
  const fs = faultyFs();
  let dirSync = null;
  const openFile = fs.open;
  fs.open = async (path, flags, mode) => {
    const handle = await openFile(path, flags, mode);
    if (String(path) !== dir) return handle;
    return {
      // Only the sync that makes the snapshot's rename durable (the one before makes the next journal's entry durable).
      sync: async () => {
        if (dirSync && fs.events.at(-1)?.[0] === 'rename') throw fsError(dirSync, 'fsync', dir);
        await handle.sync();
      },
      close: () => handle.close(),
    };
  };
  const log = captureDebug(t);
  const store = await open(t, file, { fs });
  await call(store, 'set', 'a', session({}));
  await store.flush();
  const { bytes } = store.stats.persistence.lastSave;
  assert.ok(log.some((line) => new RegExp(`^saved 1 sessions, ${bytes} bytes in \\d+ ms$`).test(line)), log.join('\n'));

  log.length = 0;
  fs.faults.write = 'EIO';
  await call(store, 'set', 'b', session({}));
  await assert.rejects(store.flush());
  fs.faults.write = null;
  assert.ok(log.some((line) => /^save failed after \d+ ms: .*EIO/.test(line)), log.join('\n'));
  assert.ok(!log.includes('older journals kept'), 'the old snapshot is in place: nothing to keep for');

  log.length = 0;
  dirSync = 'EIO';
  await assert.rejects(store.flush());
  dirSync = null;
  assert.ok(log.some((line) => /^save failed after \d+ ms: /.test(line)), log.join('\n'));
  assert.ok(log.includes('older journals kept'), log.join('\n'));
});
