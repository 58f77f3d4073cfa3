// `export` and `import` of a store of large sessions: 1000 sessions of 540 KB (a store a running app can hold and
// save). `export` joined every 1000 lines into one string before writing it, and `import` wrote its snapshot the same
// way: 540 MB passed V8's longest string (2^29 - 24 characters), and both failed with "Invalid string length", so
// such a store could not be backed up, rolled back to 1.x or moved. Chunks now also end at about a MB.
// Heavy for a test (each child holds the sessions about twice, about 1.2 GB, for a few seconds): one round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { cli, tempDir } from './fixtures/cli/helpers.mjs';

const SESSIONS = 1000;
const BLOB = 540_000;

/** Saves the sessions to `file` and closes the store (its 540 MB of sessions go once this returns). */
async function saveLargeStore(file) {
  const store = new MemFileStore({ saveFile: file, savePeriod: 0, journal: false });
  const blob = 'x'.repeat(BLOB);
  for (let i = 0; i < SESSIONS; i++) store.set(`s${i}`, { cookie: { originalMaxAge: 3_600_000, expires: new Date(Date.now() + 3_600_000).toISOString() }, i, blob });
  await store.close();
}

// The timeouts only bound a hang: a fresh-clone CI beside other work (load average 10-16 on 2 cores, the Node 22 and
// 24 suites side by side) ran past 180 s on both.
test(`export and import of ${SESSIONS} sessions of ${BLOB / 1000} KB`, { timeout: 900_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  await saveLargeStore(file);
  const exported = await cli(['export', file, '--out', join(dir, 'sessions.jsonl'), '--json'], { timeout: 400_000 });
  assert.equal(exported.code, 0, exported.stderr);
  assert.equal(JSON.parse(exported.stdout).sessions, SESSIONS);
  assert.ok(statSync(join(dir, 'sessions.jsonl')).size > SESSIONS * BLOB);

  const imported = await cli(['import', join(dir, 'sessions.jsonl'), '--into', join(dir, 'again.db'), '--json'], { timeout: 400_000 });
  assert.equal(imported.code, 0, imported.stderr);
  assert.equal(JSON.parse(imported.stdout).sessions, SESSIONS);
  // The same sessions in the same order and format: the same length as the file they came from.
  assert.equal(statSync(join(dir, 'again.db')).size, statSync(file).size);
});
