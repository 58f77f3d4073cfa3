// Stores in worker threads (node:worker_threads): threads of one process share its pid, so a lock held by another
// thread looked like a previous run of this program that had the same pid (as in containers) and was taken over: two
// stores wrote one file, each snapshot replacing the other's sessions. Each thread also keeps its own list of the locks
// it holds (module state is per thread). Real workers, real files; the store in a worker is the one an app would load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { MemFileStore } from 'express-memfilestore';
import { call, tempDir, track } from './fixtures/persist/helpers.mjs';

const THREAD = fileURLToPath(new URL('./fixtures/threads/store-thread.mjs', import.meta.url));

/** Starts a store in a worker thread; `next(key)` resolves with its next message holding `key`. */
function storeThread(t, file, options = {}) {
  const worker = new Worker(THREAD, { workerData: { file, options } });
  const messages = [];
  const waiting = [];
  worker.on('message', (m) => {
    messages.push(m);
    for (const w of waiting.splice(0)) w();
  });
  worker.on('error', (err) => { messages.push({ error: err }); for (const w of waiting.splice(0)) w(); });
  t.after(() => worker.terminate());
  const next = async (key) => {
    for (;;) {
      const i = messages.findIndex((m) => key in m || 'error' in m);
      if (i !== -1) {
        const [m] = messages.splice(i, 1);
        if ('error' in m) throw m.error;
        return m;
      }
      await new Promise((resolve) => waiting.push(resolve));
    }
  };
  return { worker, next, messages };
}

const lockOf = (file) => readFileSync(`${file}.lock`, 'utf8');

test('a store in a worker thread is refused a file the main thread holds, and leaves its lock alone', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const main = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await main.ready;
  await call(main, 'set', 'main', { cookie: { maxAge: 3_600_000 } });
  const lock = lockOf(file);
  const thread = storeThread(t, file);
  const result = await thread.next('opened');
  assert.equal(result.opened, false, 'the worker opened a file the main thread holds');
  assert.equal(result.code, 'ERR_SNAPSHOT_LOCKED');
  assert.match(result.message, /thread/, 'the refusal says another thread holds it');
  assert.equal(lockOf(file), lock, "the main thread's lock is untouched");
  await main.flush();
  await main.close();
  const reopened = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await reopened.ready;
  assert.deepEqual(await call(reopened, 'ids'), ['main']);
});

test('the main thread and a second worker are refused a file a worker holds; once it closes, the main thread opens it', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const first = storeThread(t, file);
  assert.deepEqual(await first.next('opened'), { opened: true });
  const second = storeThread(t, file);
  const refused = await second.next('opened');
  assert.equal(refused.code, 'ERR_SNAPSHOT_LOCKED', `the second worker: ${JSON.stringify(refused)}`);
  const main = new MemFileStore({ saveFile: file, savePeriod: 0 });
  await assert.rejects(main.ready, (err) => err.code === 'ERR_SNAPSHOT_LOCKED' && /thread/.test(err.message));
  await main.close();
  first.worker.postMessage('close');
  assert.deepEqual(await first.next('closed'), { closed: true });
  const after = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await after.ready;
  assert.deepEqual(await call(after, 'ids'), ['sid'], "the worker's final save is there");
});

// A worker that ended without close() (terminated, or its code threw) is gone as a crashed process is: on Linux the lock
// names its OS thread, so its file is taken over rather than refused until the whole process restarts.
test('a lock left by a worker that ended without close() is taken over (Linux)', { skip: process.platform !== 'linux' && 'the thread is checked on Linux only' }, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const thread = storeThread(t, file, { journal: 'always' });
  assert.deepEqual(await thread.next('opened'), { opened: true });
  await thread.worker.terminate();
  const main = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await main.ready;
  assert.deepEqual(await call(main, 'ids'), ['sid'], "the worker's journal was replayed");
});

// Process signals are not delivered to worker threads: closeOnSignals there never closed the store, without a word.
test('closeOnSignals in a worker thread is reported with a MemFileStoreWarning', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const thread = storeThread(t, file, { closeOnSignals: true });
  assert.deepEqual(await thread.next('opened'), { opened: true });
  const warnings = thread.messages.filter((m) => 'warning' in m).map((m) => m.warning);
  assert.equal(warnings.length, 1, `one warning before the store was ready: ${JSON.stringify(warnings)}`);
  assert.equal(warnings[0].name, 'MemFileStoreWarning');
  assert.match(warnings[0].message, /closeOnSignals/);
  assert.match(warnings[0].message, /worker thread/);
});

// Versions before the thread line read the first five lines alone (pid, host, time, boot and start time, namespaces):
// the thread comes after them, so each version refuses the other's live lock (checked across processes both ways).
test("the lock keeps the previous version's five lines in their places, the thread after them", async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const thread = storeThread(t, file);
  assert.deepEqual(await thread.next('opened'), { opened: true });
  const lines = lockOf(file).split('\n');
  assert.equal(lines.length, 7, 'six lines, each ended by a newline');
  assert.equal(lines[0], String(process.pid));
  assert.match(lines[2], /^\d+$/);
  assert.match(lines[3], process.platform === 'linux' ? /^\S+ \d+$/ : /^$/);
  assert.match(lines[5], new RegExp(`^${thread.worker.threadId}( \\d+ \\d+)?$`));
});
