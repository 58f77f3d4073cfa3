// A lock file that can be created but not written (a full disk: the inode is there, no block for its content)
// fails the start with ENOSPC and is removed: an empty lock left behind would read as "being created right now"
// and refuse the next start for 5 s, and a start that went on without its content would hold a lock naming no one.
// On a real tmpfs mounted small (src/files/file-lock.ts writeLockFile; found by mutation testing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { track } from './fixtures/persist/helpers.mjs';
import { mountTmpfs } from './fixtures/tmpfs.mjs';

test('a lock file that cannot be written (no space left) fails the start with ENOSPC and is removed', async (t) => {
  const fsMount = mountTmpfs(t, 'size=64k,nr_inodes=1000');
  if (!fsMount) return;
  const { mnt } = fsMount;
  // Every block taken; inodes left, so the lock file itself can still be created.
  for (let i = 0; ; i++) {
    try {
      writeFileSync(join(mnt, `filler-${i}`), Buffer.alloc(4096, 1));
    } catch (err) {
      assert.equal(err.code, 'ENOSPC');
      break;
    }
  }
  const file = join(mnt, 'sessions.db');
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, journal: false }));
  await assert.rejects(store.ready, { code: 'ENOSPC' });
  assert.equal(existsSync(`${file}.lock`), false, 'no empty lock file is left');
});
