// The saveFile's directory reached through a symbolic link that is re-pointed under a running store, as a
// zero-downtime deploy swaps `current -> releases/v1` for `current -> releases/v2` while the old process still runs.
// The lock is taken in the real directory at start, but the snapshots and journals were written through the link
// each time: after the swap the old store wrote into v2, whose lock the new release had taken, and its final
// snapshot at close() replaced the new store's, losing sessions both had acknowledged (and closed cleanly). A store
// keeps to the directory it locked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, renameSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, session, tempDir, track } from './fixtures/persist/helpers.mjs';

async function ids(t, file) {
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await store.ready;
  const list = (await call(store, 'ids')).sort();
  await store.close();
  return list;
}

for (const journal of ['everysec', false]) {
  test(`journal ${journal}: a store whose directory link is re-pointed keeps writing where it locked, never into the other store's files`, async (t) => {
    const base = tempDir(t);
    mkdirSync(join(base, 'v1'));
    mkdirSync(join(base, 'v2'));
    symlinkSync('v1', join(base, 'current'));
    const file = join(base, 'current', 'sessions.db');
    const old = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, journal }));
    await old.ready;
    await call(old, 'set', 'old-1', session({ user: 'old-1' }));
    await old.flush();

    // The deploy: the link is replaced atomically, and the new release starts on the same path.
    symlinkSync('v2', join(base, 'current.next'));
    renameSync(join(base, 'current.next'), join(base, 'current'));
    const next = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, journal }));
    await next.ready;
    await call(next, 'set', 'new-1', session({ user: 'new-1' }));
    await next.flush();

    // The old process still serves (draining), then stops: every save of it goes to v1.
    await call(old, 'set', 'old-2', session({ user: 'old-2' }));
    await old.flush();
    await call(next, 'set', 'new-2', session({ user: 'new-2' }));
    await next.close();
    await old.close();

    assert.deepEqual(await ids(t, file), ['new-1', 'new-2'], 'the new release finds what it acknowledged');
    assert.deepEqual(await ids(t, join(base, 'v1', 'sessions.db')), ['old-1', 'old-2'], 'the old one left its own in v1');
    assert.deepEqual(readdirSync(join(base, 'v2')), ['sessions.db']);
    assert.deepEqual(readdirSync(join(base, 'v1')), ['sessions.db']);
  });
}
