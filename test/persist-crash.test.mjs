// Crash safety: a child process (fixture role "crash") saves in a loop under write load, each chunk written
// to its temp file slowed by a few ms through the `fs` seam to widen the window, and is killed with SIGKILL
// at random instants, many times over, on the same file. Just before each rename the child prints the
// sha256 and record count of the complete temp file it is about to put in place ("pending"). After every
// kill the file must be a whole snapshot the child completed: the last pending one (the rename happened)
// or the one before it (it did not), load without error, and leave no temp file behind after the load.
//
// PERSIST_CRASH_ITERATIONS sets the number of kills (25 by default, about 12 s here; more for a soak run).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemFileStore } from 'express-memfilestore';
import { decodeSnapshot, sha256, startChild, tempDir, tempFiles } from './fixtures/persist/helpers.mjs';

const ITERATIONS = Number(process.env.PERSIST_CRASH_ITERATIONS ?? 25);
const SESSIONS = 2500; // three record chunks of a save, plus header and trailer: five slowed writes
const WRITE_DELAY_MS = 4;
const MAX_KILL_DELAY_MS = 300; // a save takes about 40 ms here: several saves per run
// The deadline only bounds a hang: 25 kills took 119 s of the former 135 s (60 s + 3 s a kill) under load (load average
// 16 on two cores), each iteration a child's start, its saves and a load.

test(`SIGKILL at ${ITERATIONS} random instants during saves always leaves a whole snapshot`, { timeout: 120_000 + ITERATIONS * 15_000 }, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  /** The file as it stood before this iteration: `{ sha, records }`, or null when there is none. */
  let previous = null;
  const seen = { killedMidSave: 0, lastPending: 0, onePendingBack: 0, unchanged: 0 };

  for (let i = 0; i < ITERATIONS; i++) {
    const child = startChild(t, 'crash', [file, SESSIONS, WRITE_DELAY_MS]);
    await child.line(/^ready$/);
    // Every fourth kill comes after a completed save, so a busy machine that slows every save past the longest
    // random delay still tests kills after a rename.
    if (i % 4 === 3) await child.line(/^saved /);
    const delay = Math.floor(Math.random() * MAX_KILL_DELAY_MS);
    await sleep(delay);
    const exit = await child.kill('SIGKILL');
    const where = `iteration ${i + 1}, killed ${delay} ms after ${i % 4 === 3 ? 'a save' : 'ready'}`;
    assert.deepEqual(exit, { code: null, signal: 'SIGKILL' }, `${where}: the child died on its own:\n${child.stderr}`);

    // What the child completed: each pending snapshot was whole when announced, and each 'saved' one is it.
    const pending = [];
    for (const line of child.lines) {
      const p = /^pending ([0-9a-f]{64}) (\d+)$/.exec(line);
      if (p) pending.push({ sha: p[1], records: Number(p[2]) });
      const s = /^saved ([0-9a-f]{64})$/.exec(line);
      if (s) assert.equal(s[1], pending.at(-1)?.sha, `${where}: the file after a save is the snapshot announced`);
    }
    const accepted = [previous, ...pending].slice(-2);
    if (accepted.length === 2 && accepted[0] === null) accepted.shift(); // with nothing pending, the file stays as it was

    if (tempFiles(file).length > 0) seen.killedMidSave++;
    let found = null;
    if (existsSync(file)) {
      const bytes = readFileSync(file);
      const sha = sha256(bytes);
      found = accepted.find((a) => a?.sha === sha);
      assert.ok(found, `${where}: the file (sha256 ${sha}, ${bytes.length} bytes) is none of the snapshots ` +
        `it could be: ${JSON.stringify(accepted)}`);
      assert.equal(decodeSnapshot(bytes).records.length, found.records, `${where}: a whole snapshot`);
    } else {
      assert.ok(accepted.includes(null), `${where}: the file vanished after snapshots were put in place`);
    }
    if (found === previous) seen.unchanged++;
    else if (found === pending.at(-1)) seen.lastPending++;
    else seen.onePendingBack++;

    // A new store loads it (taking over the killed child's lock) and clears the leftover temp files.
    const store = new MemFileStore({ saveFile: file, savePeriod: 0 });
    await store.ready.catch((err) => assert.fail(`${where}: the file did not load: ${err.message}`));
    assert.equal(store.stats.persistence.load.records, found?.records ?? 0, where);
    assert.deepEqual(tempFiles(file), [], `${where}: no temp file remains after the load`);
    if (found) assert.equal(sha256(readFileSync(file)), found.sha, `${where}: loading did not rewrite the file`);
    const sessions = await new Promise((resolve, reject) => store.length((err, n) => (err ? reject(err) : resolve(n))));
    // close() absorbs the journal the child left into a snapshot that stands alone: the next iteration's start.
    await store.close();
    previous = existsSync(file) ? { sha: sha256(readFileSync(file)), records: sessions } : null;
  }

  t.diagnostic(`kills: ${JSON.stringify(seen)}`);
  // The kills must have hit where it matters, or this test proved nothing.
  assert.ok(seen.killedMidSave > 0, `no kill landed in the middle of a save: ${JSON.stringify(seen)}`);
  assert.ok(seen.lastPending + seen.onePendingBack > 0, `no save completed before a kill: ${JSON.stringify(seen)}`);
});

test('temp files a killed save left behind are removed at start; other files in the directory are not', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  const leftovers = ['sessions.db.tmp-12345-0123456789ab', 'sessions.db.tmp-1-ffffffffffff'];
  const others = ['sessions.db.bak', 'sessions.db.tmp', 'other.db.tmp-12345-0123456789ab', 'notes.txt'];
  for (const name of [...leftovers, ...others]) writeFileSync(join(dir, name), 'partial snapshot\nr 1 2');
  const store = new MemFileStore({ saveFile: file, savePeriod: 0 });
  await store.ready;
  assert.deepEqual(tempFiles(file), []);
  assert.deepEqual(readdirSync(dir).sort(), [...others, 'sessions.db.lock'].sort());
  await store.close();
});
