// The order of a snapshot's steps on disk, and what the final snapshot says of the journals it absorbed (the
// crash points are in the README, "What a crash loses"): the next journal and its directory entry are durable
// before the snapshot naming it is written; a snapshot that stands alone names the last journal it holds, so
// journals whose removal a crash lost are taken for leftovers, not for another copy's changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { call, session, tempDir } from './fixtures/persist/helpers.mjs';
import { crashCopy, journalFs, journals, open } from './fixtures/journal/helpers.mjs';

test('a snapshot with the journal: the new journal is created and synced, then its directory, then the snapshot is written', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const dir = dirname(file);
  const fs = journalFs();
  const openFile = fs.open;
  // Directory syncs (syncDirectory opens the directory and syncs it), in the log of the snapshot's temp files.
  fs.open = async (path, flags, mode) => {
    const handle = await openFile(path, flags, mode);
    if (String(path) !== dir) return handle;
    return { sync: async () => { fs.events.push(['sync-dir']); await handle.sync(); }, close: () => handle.close() };
  };
  const store = await open(t, file, { fs });
  await call(store, 'set', 'a', session({}));
  const created = fs.calls.length;
  fs.events.length = 0;
  await store.flush();
  const next = fs.calls.slice(created).find((c) => c.call === 'open');
  assert.ok(next !== undefined && next.path.endsWith('.journal.2'), 'the snapshot created the next journal');
  assert.ok(fs.calls.slice(created).some((c) => c.call.startsWith('fdatasync') && c.path === next.path), 'and synced it');
  assert.deepEqual(fs.events.map(([op]) => op), ['sync-dir', 'open', 'rename', 'sync-dir'],
    'the journal\'s directory entry is durable before the snapshot naming it is opened; the rename\'s after it');
});

/** Puts journals back as they were: their removal never reached the disk. */
function restore(left) {
  for (const [path, bytes] of left) writeFileSync(path, bytes);
}
const saved = (file) => journals(file).map((path) => [path, readFileSync(path)]);

test('close() names the last journal it absorbed: journals of this process, back beside it after a lost removal, are leftovers', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const store = await open(t, file, { journal: 'always' });
  await call(store, 'set', 'a', session({}));
  await call(store, 'set', 'b', session({}));
  const left = saved(file);
  assert.equal(left.length, 1);
  await store.close();
  assert.match(readFileSync(file, 'latin1').split('\n')[0], / nojournal 1$/);
  restore(left);
  const again = await open(t, file);
  assert.deepEqual((await call(again, 'ids')).sort(), ['a', 'b'], 'loaded from the snapshot, not refused as another copy\'s journal');
  assert.equal(again.stats.persistence.load.journalRecords, 0);
});

test('a journal-less store names the journals it absorbed at its start: back beside its snapshot, they are leftovers', async (t) => {
  const running = await open(t, join(tempDir(t), 'sessions.db'), { journal: 'always' });
  await call(running, 'set', 'a', session({}));
  await running.flush();
  await call(running, 'set', 'b', session({}));
  const file = crashCopy(t, running.stats.persistence.file);
  const left = saved(file);
  const store = await open(t, file, { journal: false });
  await store.flush();
  assert.match(readFileSync(file, 'latin1').split('\n')[0], / nojournal 2$/);
  assert.deepEqual(journals(file), []);
  restore(left);
  await store.close();
  const again = await open(t, file);
  assert.deepEqual((await call(again, 'ids')).sort(), ['a', 'b']);
  assert.equal(again.stats.persistence.load.journalRecords, 0);
});
