// A saveFile or a journal name that is a FIFO (made by anyone who can write the directory, or restored from an
// archive): the start opened it for reading, which waits for a writer, synchronously in the constructor, so the
// whole process hung at boot, forever. Such a file is refused at once, as a file that is not a snapshot or journal;
// a FIFO by the lock's name is read without waiting (empty: a lock being created now, or a stale one taken over).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './fixtures/persist/helpers.mjs';
import { runNode } from './fixtures/faults/lib.mjs';

const START_STORE = fileURLToPath(new URL('./fixtures/start-store.mjs', import.meta.url));

async function start(file) {
  const { code, signal, stdout, stderr } = await runNode([START_STORE, file], { timeout: 30_000 }); // bounds a hang: a loaded machine starts node slowly
  assert.equal(signal, null, 'the start hung (killed at its timeout)');
  assert.equal(code, 0, stderr);
  // The start's outcome: the line before the peak memory.
  return JSON.parse(stdout.trim().split('\n').at(-2));
}

test('a saveFile that is a FIFO is refused at once, not waited on', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  execFileSync('mkfifo', [file]);
  const result = await start(file);
  assert.equal(result.code, 'ERR_SNAPSHOT_DAMAGED', result.message);
  assert.match(result.message, /not a regular file/);
});

test('a journal name that is a FIFO is refused at once, not waited on', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  execFileSync('mkfifo', [`${file}.journal.3`]);
  const result = await start(file);
  assert.equal(result.code, 'ERR_SNAPSHOT_DAMAGED', result.message);
  assert.match(result.message, /sessions\.db\.journal\.3.*not a regular file/);
});

test('a lock name that is a FIFO is read without waiting: refused while new, taken over once stale', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  execFileSync('mkfifo', [`${file}.lock`]);
  const fresh = await start(file);
  assert.equal(fresh.code, 'ERR_SNAPSHOT_LOCKED', fresh.message);
  const old = new Date(Date.now() - 3_600_000);
  utimesSync(`${file}.lock`, old, old);
  assert.deepEqual(await start(file), { ready: true });
  assert.throws(() => lstatSync(`${file}.lock`), { code: 'ENOENT' }, 'the FIFO was removed, and the store\'s own lock released');
});
