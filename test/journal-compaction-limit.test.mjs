// The journal's size calls for a snapshot when it passes the last snapshot's size (and a minimum of 8 MB), as
// Redis's auto-rewrite: the limit must follow the snapshot as it grows, or a store that started small snapshots
// its whole memory every 8 MB of changes forever.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemFileStore } from 'express-memfilestore';
import { call, HOUR, session, tempDir, track } from './fixtures/persist/helpers.mjs';

const MB = 1e6;

async function settle(store) {
  while (store.stats.persistence.saving) await sleep(5);
}

test('the journal limit follows the snapshot: a 13 MB snapshot is not rewritten after 9 MB of changes, but after 14 MB', { timeout: 60_000 }, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  // Started empty: the limit is the 8 MB minimum until the first snapshot.
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  const big = 'x'.repeat(100 * 1024);
  const sizes = () => store.stats.persistence;
  for (let i = 0; i < 130; i++) await call(store, 'set', `s${i}`, session({ big, n: 0 }, HOUR));
  await settle(store);
  await store.flush();
  assert.ok(sizes().lastSave.bytes > 13 * MB, `snapshot of ${sizes().lastSave.bytes} bytes`);
  const before = sizes().compactions;

  // 9 MB of changes: past the 8 MiB minimum, short of the snapshot's size.
  for (let i = 0; i < 90; i++) await call(store, 'set', `s${i}`, session({ big, n: 1 }, HOUR));
  await settle(store);
  assert.ok(sizes().journal.bytes > 9 * MB);
  assert.equal(sizes().compactions, before, 'no snapshot before the journal outgrows the last one');

  // Past the snapshot's size: one snapshot absorbs the journal.
  for (let i = 0; i < 45; i++) await call(store, 'set', `s${i}`, session({ big, n: 2 }, HOUR));
  await settle(store);
  assert.equal(sizes().compactions, before + 1);
  assert.ok(sizes().journal.bytes < 2 * MB, `journal restarted after the snapshot (${sizes().journal.bytes} bytes)`);
});
