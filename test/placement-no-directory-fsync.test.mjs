// A saveFile on a file system that does not fsync directories: some network and FUSE file systems answer fsync on a
// directory with EINVAL (Redis, PostgreSQL and borg ignore it there: the rename is done, and nothing more can make it
// durable). The store failed every save and every journal there, once per savePeriod and once a second, kept the
// journals for ever, and close() rejected: sessions worked only in memory. Simulated through the store's `fs` seam (no
// such file system here): a directory's handle whose sync() fails with EINVAL, or ENOTSUP; files sync as usual.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as realFs from 'node:fs/promises';
import { fstatSync, fsyncSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, session, tempDir, track } from './fixtures/persist/helpers.mjs';

/**
 * node:fs/promises, but fsync on a directory fails with `code`, there and in the journal's synchronous fsyncSync (the
 * first journal's creation); `calls` counts those attempts.
 */
function noDirectorySync(code) {
  const calls = { dir: 0, dirSync: 0 };
  const fs = {
    fsyncSync(fd) {
      if (fstatSync(fd).isDirectory()) {
        calls.dirSync++;
        throw Object.assign(new Error(`${code}: fsync of a directory`), { code, syscall: 'fsync' });
      }
      fsyncSync(fd);
    },
    ...realFs,
    async open(path, flags, mode) {
      const handle = await realFs.open(path, flags, mode);
      if (statSync(path).isDirectory()) {
        handle.sync = async () => {
          calls.dir++;
          throw Object.assign(new Error(`${code}: fsync of a directory`), { code, syscall: 'fsync' });
        };
      }
      return handle;
    },
  };
  return { fs, calls };
}

for (const code of ['EINVAL', 'ENOTSUP']) {
  test(`a directory fsync failing with ${code} (not supported there): saves, journals and close() go through`, async (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'sessions.db');
    const { fs, calls } = noDirectorySync(code);
    const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, fs }));
    const errors = [];
    store.on('error', (err) => errors.push(err));
    await store.ready;
    await call(store, 'set', 'a', session({ user: 'ann' }));
    await store.flush();
    await call(store, 'set', 'b', session({ user: 'bob' }));
    await store.flush();
    await store.close();
    assert.ok(calls.dir > 0 && calls.dirSync > 0, `the directory fsync was tried: ${JSON.stringify(calls)}`);
    assert.deepEqual(errors.map((e) => e.message), []);
    assert.deepEqual(readdirSync(dir), ['sessions.db'], 'no journal or lock left');
    const again = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
    await again.ready;
    assert.deepEqual((await call(again, 'ids')).sort(), ['a', 'b']);
  });
}

test('a directory fsync failing with EIO still fails the save', async (t) => {
  const dir = tempDir(t);
  const { fs } = noDirectorySync('EIO');
  const store = track(t, new MemFileStore({ saveFile: join(dir, 'sessions.db'), savePeriod: 0, journal: false, fs }));
  store.on('error', () => undefined);
  await store.ready;
  await call(store, 'set', 'a', session({ user: 'ann' }));
  await assert.rejects(store.flush(), { code: 'EIO' });
});
