// The wall clock steps back and forth (NTP, a VM resumed) while a store runs, then the process is killed (SIGKILL) and
// a new store starts on its files. Each record holds an absolute expiry computed with the clock of its moment, so two
// records of one session may say the later one ends first: the replay must keep the order of the changes (the last one
// wins), not the latest expiry, through a snapshot the journal continues and with or without `max` (which replays the
// journal before the snapshot). Changes that removed a session because its cookie had already ended, and a prune, must
// not be undone by the restart.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemFileStore } from 'express-memfilestore';
import { call, manualClock, tempDir, track } from './fixtures/persist/helpers.mjs';

const CHILD = fileURLToPath(new URL('./fixtures/clock-child.mjs', import.meta.url));
const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2030, 0, 1);
const cookie = (maxAge) => ({ cookie: { originalMaxAge: maxAge, maxAge, httpOnly: true, path: '/' } });

/** Runs the child's steps on `file`, waits for "done", kills it with SIGKILL; resolves its output lines. */
async function runAndKill(t, file, steps) {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, [CHILD, file, JSON.stringify(steps)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; });
  const lines = [];
  await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      if (line === 'done') resolve();
    });
    exited.then(() => reject(new Error(`the child exited before "done": ${stderr}`)));
  });
  child.kill('SIGKILL');
  assert.equal((await exited).signal, 'SIGKILL');
  return lines;
}

const STEPS = [
  // 'old': its snapshot record ends at T0 + 2 h; the clock then steps back 2 h and a set gives it an hour from there,
  // to T0 - 1 h: the last change ends it first.
  { clock: T0 },
  { set: ['old', { ...cookie(2 * HOUR), v: 1 }] },
  // 'gone': live in the snapshot, then set again with a cookie whose expires has passed (a logout that ends the cookie).
  { set: ['gone', { ...cookie(HOUR), v: 1 }] },
  // 'pruned': ends at T0 + 1 s.
  { set: ['pruned', { ...cookie(1000), v: 1 }] },
  { flush: true },
  { set: ['gone', { cookie: { expires: new Date(T0 - 1).toISOString() }, v: 2 }] },
  { clock: T0 - 2 * HOUR },
  { set: ['old', { ...cookie(HOUR), v: 2 }] },
  // 'young': its first record ends at T0 - 90 min; the clock steps back another hour and a touch gives it 5 h, to
  // T0 + 2 h: the last change keeps it.
  { set: ['young', { ...cookie(30 * MIN), v: 1 }] },
  { clock: T0 - 3 * HOUR },
  { touch: ['young', cookie(5 * HOUR)] },
  // Forward again: 'pruned' has expired and the prune removes it.
  { clock: T0 + 1000 },
  { prune: true },
];

describe('a clock that steps back and forth, then SIGKILL and a restart', () => {
  for (const [name, options] of [['unbounded (journal replayed after the snapshot)', {}], ['with max (journal replayed first)', { max: 100 }]]) {
    test(name, async (t) => {
      const file = join(tempDir(t), 'sessions.db');
      const lines = await runAndKill(t, file, STEPS);
      // In memory as after the restart: 'old' expired (its last change's expiry), 'gone' was deleted, 'pruned' expired.
      assert.deepEqual(lines.filter((line) => line.startsWith('dispose ') && !line.endsWith(' set')).sort(),
        ['dispose gone delete', 'dispose old expire', 'dispose pruned expire'], 'the removals reached the dispose hook with their reasons');

      const clock = manualClock(T0 + 1000);
      const store = track(t, new MemFileStore({ ...options, saveFile: file, clock: clock.fn }));
      await store.ready;
      assert.equal(await call(store, 'get', 'old'), undefined, 'the last change of "old" ended it, though an earlier one ends later');
      assert.equal(await call(store, 'get', 'gone'), undefined, 'a set with an ended cookie removed it for good');
      assert.equal(await call(store, 'get', 'pruned'), undefined, 'a pruned session is not loaded again');
      assert.deepEqual(await call(store, 'ids'), ['young']);
      assert.equal(store.stats.persistence.load.sessions, 1);
      clock.now = T0 + 2 * HOUR - 1;
      assert.equal((await call(store, 'get', 'young'))?.v, 1, 'the touch\'s expiry, T0 + 2 h, holds to its last millisecond');
      clock.now = T0 + 2 * HOUR;
      assert.equal(await call(store, 'get', 'young'), undefined, 'and ends at it');
    });
  }
});
