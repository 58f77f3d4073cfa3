// verify and inspect on a running app's files report a torn last journal record only where the app died mid-append
// (README, Command line: "A torn last journal record is reported, not cut"). A journal's length is set ahead in 1 MiB
// steps; the reader bounded what it read by the length it measured when it listed the journals, so a record the app
// appended across that boundary meanwhile (the length set one step further first, then the record written) was read
// cut at the old length and reported as "a torn last record of N bytes ..., dropped at the next start": a false
// alarm about a live, sound file, which the next start does not drop. Under a write load verify said so about one run
// in six (a 45 MB store saving every 200 ms). Found by the CLI-live review.
//
// Made certain here: the journal is read in 1 MiB chunks, and a store appends a record of 1.5 MB across the 2 MiB
// boundary while the reader is in the first chunk (from the reader's own callback, as a second process,
// synchronously): the reader's last read ends inside it. (Under load, a read racing the write does the same with a
// record of any size.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './fixtures/cli/helpers.mjs';

const require = createRequire(import.meta.url);
const { recoverFiles } = require('../dist/files/recover.js');
const { legacyConverter } = require('../dist/files/legacy-file.js');
const APPENDER = fileURLToPath(new URL('./fixtures/cli/journal-appender.mjs', import.meta.url));
const MiB = 1 << 20;

/** Runs the appender to its SIGKILL. */
function appender(...args) {
  try {
    execFileSync(process.execPath, [APPENDER, ...args], { stdio: 'pipe' });
  } catch (err) {
    if (err.signal !== 'SIGKILL') throw err;
  }
}

test('a record appended across the journal\'s set-aside length while it is read is not reported as a torn tail', { timeout: 60_000 }, (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  appender(file, 'fill', String(2 * MiB));
  const [journal] = readdirSync(dir).filter((name) => name.includes('.journal.'));
  assert.equal(statSync(join(dir, journal)).size, 2 * MiB, 'the journal is set aside to 2 MiB, its records end just before');
  let appended = false;
  const ids = new Set();
  // As the command line reads (read-store-file.ts): read only, the lock not taken, the journals read first.
  const { journal: read } = recoverFiles(file, {
    insert: (record) => { ids.add(record.id); return true; },
    fromLegacy: legacyConverter({ now: Date.now(), defaultLifetime: 86_400_000, stringify: JSON.stringify }),
    replay: (record) => {
      ids.add(record.id);
      if (appended) return;
      appended = true;
      appender(file, 'append');
    },
    replayed: () => undefined,
    reset: () => { ids.clear(); },
    journalFirst: () => () => false,
  }, { repair: false, onDamaged: 'error', now: Date.now() });
  assert.ok(appended);
  assert.ok(statSync(join(dir, journal)).size > 2 * MiB, 'the appended record crossed 2 MiB');
  assert.equal(read.tornBytes, 0, `no torn tail: ${read.torn}`);
  assert.ok(!ids.has('late'), 'the record appended while it was read is left for the next read');
});
