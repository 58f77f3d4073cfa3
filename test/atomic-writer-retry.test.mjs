// The Windows branch of the atomic writer (src/files/atomic-writer.ts), run on Linux with process.platform set to
// 'win32' for the test and the rename failing through the `fs` seam: a rename refused for a moment (EPERM, EBUSY,
// EACCES: someone holds the file open) is retried with a growing back-off, at most 8 times; any other error, or
// any error on another platform, is thrown at once; and no directory is opened for an fsync Windows cannot do.
// Found by mutation testing (npm run mutate -- src/files/atomic-writer.ts), where these were all survivors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fsError, tempDir, tempFiles } from './fixtures/persist/helpers.mjs';

const require = createRequire(import.meta.url);
const { writeFileAtomic } = require('../dist/files/atomic-writer.js');

/** process.platform reads `platform` until the test ends. */
function pretendPlatform(t, platform) {
  const original = Object.getOwnPropertyDescriptor(process, 'platform');
  Object.defineProperty(process, 'platform', { ...original, value: platform });
  t.after(() => { Object.defineProperty(process, 'platform', original); });
}

/** The real fs/promises, with renames failing with `code` the first `failures` times; records what ran. */
function renameFailing(code, failures) {
  const renames = [];
  const opened = [];
  return {
    renames,
    opened,
    seam: {
      open: (path, ...rest) => { opened.push(String(path)); return fsp.open(path, ...rest); },
      unlink: (path) => fsp.unlink(path),
      rename: async (from, to) => {
        renames.push(performance.now());
        if (renames.length <= failures) throw fsError(code, 'rename', from);
        return fsp.rename(from, to);
      },
    },
  };
}

function target(t) {
  const file = join(tempDir(t), 'sessions.db');
  writeFileSync(file, 'old');
  return file;
}

const write = (seam, file) => writeFileAtomic(seam, file, async (put) => { await put(Buffer.from('new')); });

test('on Windows a rename refused with EPERM, EBUSY or EACCES is retried, with a back-off that doubles', async (t) => {
  pretendPlatform(t, 'win32');
  for (const code of ['EPERM', 'EBUSY', 'EACCES']) {
    const file = target(t);
    const { renames, seam } = renameFailing(code, 3);
    await write(seam, file);
    assert.equal(readFileSync(file, 'utf8'), 'new', code);
    assert.equal(renames.length, 4, `${code}: three refusals, then the rename`);
    // Waits of 10, 20, 40 ms (libuv rounds its clock to the ms, so a timer may seem up to a ms early; a busy machine only makes them longer).
    const gaps = renames.slice(1).map((at, i) => at - (renames[i] ?? 0));
    assert.ok(gaps[0] >= 8 && gaps[1] >= 18 && gaps[2] >= 38, `${code}: waits ${gaps.map((g) => g.toFixed(1)).join(', ')} ms`);
    assert.deepEqual(tempFiles(file), []);
  }
});

test('on Windows the retries stop after 8: the ninth refusal is thrown, the old file and no temp file left', async (t) => {
  pretendPlatform(t, 'win32');
  const file = target(t);
  const { renames, seam } = renameFailing('EBUSY', 9);
  await assert.rejects(write(seam, file), { code: 'EBUSY' });
  assert.equal(renames.length, 9);
  assert.equal(readFileSync(file, 'utf8'), 'old');
  assert.deepEqual(tempFiles(file), []);
});

test('on Windows another rename error is thrown at once; no directory is opened for an fsync', async (t) => {
  pretendPlatform(t, 'win32');
  const file = target(t);
  const failing = renameFailing('EXDEV', 1);
  await assert.rejects(write(failing.seam, file), { code: 'EXDEV' });
  assert.equal(failing.renames.length, 1);
  const ok = renameFailing('EPERM', 0);
  await write(ok.seam, file);
  assert.deepEqual(ok.opened.filter((path) => !path.includes('.tmp-')), [], 'only the temp file is opened');
});

test('on Linux a rename refused with EPERM is thrown at once, and the directory is synced', async (t) => {
  const file = target(t);
  const failing = renameFailing('EPERM', 1);
  await assert.rejects(write(failing.seam, file), { code: 'EPERM' });
  assert.equal(failing.renames.length, 1);
  const ok = renameFailing('EPERM', 0);
  await write(ok.seam, file);
  assert.deepEqual(ok.opened.filter((path) => !path.includes('.tmp-')), [join(file, '..')]);
});
