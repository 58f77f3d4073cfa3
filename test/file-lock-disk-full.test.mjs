// A lock file that can be created but not written (a full disk: the inode is there, no block for its content)
// fails the start with ENOSPC and is removed: an empty lock left behind would read as "being created right now"
// and refuse the next start for 5 s, and a start that went on without its content would hold a lock naming no one.
// On a real tmpfs mounted small (src/files/file-lock.ts writeLockFile; found by mutation testing). The error names the
// store, the lock file and the cause.
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
  // The error says whose file and what is wrong: the write's own error names neither ("ENOSPC: no space left on
  // device, write"), and a host with several disks, or an app with several stores, cannot tell which is full.
  const err = await store.ready.catch((e) => e);
  assert.equal(err.message, `express-memfilestore: cannot use saveFile "${file}": "${file}.lock" beside it: ` +
    'no space left on its file system (ENOSPC)');
  assert.equal(err.cause.code, 'ENOSPC');
});
