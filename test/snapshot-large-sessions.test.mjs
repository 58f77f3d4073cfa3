// Snapshots of large sessions. A snapshot is written in chunks, yielding to the event loop between them (README,
// "Non-blocking": "writes of about 1000 sessions at a time"). A chunk was always 1000 sessions, built as one string,
// whatever their size: 1000 sessions of 540 KB passed V8's longest string (2^29 - 24 characters), so every save of
// such a store failed ("Invalid string length"), flush() and close() included, for good; smaller ones still made
// one chunk of hundreds of MB, encoded and hashed without a yield. A chunk now also ends once it holds about a MB.
// Counted through the store's `fs` seam: the bytes of each write to the snapshot's temp file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as realFs from 'node:fs/promises';
import { basename, join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, session, tempDir } from './fixtures/persist/helpers.mjs';

/** node:fs/promises, logging the length of every write to a snapshot's temp file. */
function writeLog() {
  const writes = [];
  return {
    writes,
    async open(path, flags, mode) {
      const handle = await realFs.open(path, flags, mode);
      if (!basename(String(path)).includes('.tmp-')) return handle;
      return new Proxy(handle, {
        get(target, prop) {
          if (prop === 'write') return (buffer, offset, length, ...rest) => {
            writes.push(length ?? buffer.length);
            return target.write(buffer, offset, length, ...rest);
          };
          const value = Reflect.get(target, prop, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    },
    rename: (from, to) => realFs.rename(from, to),
    unlink: (path) => realFs.unlink(path),
  };
}

test('a snapshot of 40 sessions of 100 KB is written in chunks of about a MB, not in one', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const fs = writeLog();
  const store = new MemFileStore({ saveFile: file, savePeriod: 0, journal: false, fs });
  const blob = 'x'.repeat(100_000);
  for (let i = 0; i < 40; i++) await call(store, 'set', `s${i}`, session({ i, blob }));
  await store.flush();
  const largest = Math.max(...fs.writes);
  const total = fs.writes.reduce((a, b) => a + b, 0);
  assert.ok(total > 4_000_000);
  assert.ok(largest <= 1_200_000, `the largest write of the snapshot was ${largest} bytes of ${total}`);
  assert.ok(fs.writes.length >= 4, `${fs.writes.length} writes`);

  await store.close();
  const again = new MemFileStore({ saveFile: file, savePeriod: 0 });
  await again.ready;
  assert.deepEqual(await call(again, 'ids'), Array.from({ length: 40 }, (_, i) => `s${39 - i}`));
  assert.equal((await call(again, 'get', 's7')).blob, blob);
  await again.close(); // before tempDir's t.after removes the directory
});

/** Saves 1000 sessions of 540 KB to `file` and closes the store (its 540 MB of sessions go once this returns). */
async function saveLargeStore(file) {
  const store = new MemFileStore({ saveFile: file, savePeriod: 0, journal: false });
  const blob = 'x'.repeat(540_000);
  for (let i = 0; i < 1000; i++) store.set(`s${i}`, session({ i, blob }));
  await store.flush();
  await store.close();
}

// 540 MB saved and loaded: 72 s of the 120 s this had under CI-like load (load average 17 on 2 cores). The deadline only
// bounds a hang.
test('a store of 1000 sessions of 540 KB saves its snapshot, and a restart loads them', { timeout: 600_000 }, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  await saveLargeStore(file);
  const again = new MemFileStore({ saveFile: file, savePeriod: 0 });
  await again.ready;
  assert.equal(again.stats.sessions, 1000);
  assert.equal((await call(again, 'get', 's999')).blob.length, 540_000);
  await again.close();
});
