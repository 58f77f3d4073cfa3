// verify, inspect and export read a session file "while the app runs" (README, Command line): they read the snapshot,
// then the journals it names. Two races made them report a sound file damaged (exit 1), so a monitoring job running
// verify paged someone and a backup with export failed, though nothing was wrong:
// - a save that completed in between (the new snapshot renamed in, the journals the old one named removed): "it is
//   missing: the snapshot ... continues in it";
// - a record appended to the journal between reading where it ended (zeros) and reading the rest of the file to
//   tell a torn tail from damage: "record n ... is damaged ... and whole records follow it".
// Found by the format review, which reads the files while saves run (test/format-spec-reader.test.mjs). Saves run
// back to back here, where an app saves every 60 s: the race is made certain, not rare.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { cli, sessionFor, tempDir } from './fixtures/cli/helpers.mjs';

// The timeout only bounds a hang: 12 runs of the bin reading 10 MB while this process saves it back to back took
// 119 s of the 120 s it had at load average 15.
test('verify, inspect and export of a file whose store saves again and again under writes: never "damaged"', { timeout: 600_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  const store = new MemFileStore({ saveFile: file, savePeriod: 0 });
  await store.ready;
  // Big enough that reading the snapshot takes a while: a save can complete meanwhile.
  for (let i = 0; i < 20_000; i++) store.set(`s${i}`, { ...sessionFor(`user${i}`), pad: 'x'.repeat(400) }, () => undefined);
  await store.flush();
  let running = true;
  let saves = 0;
  const writes = (async () => {
    for (let n = 0; running; n++) {
      for (let i = 0; i < 50; i++) store.set(`w${(n * 50 + i) % 1000}`, sessionFor(`w${n}`), () => undefined);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();
  const snapshots = (async () => {
    while (running) {
      await store.flush();
      saves++;
    }
  })();
  const failures = [];
  try {
    for (let i = 0; i < 4; i++) {
      for (const args of [['verify', file], ['inspect', file], ['export', file, '--out', join(dir, `export-${i}.jsonl`)]]) {
        const result = await cli(args);
        if (result.code !== 0) failures.push(`${args[0]}: exit ${result.code}: ${result.stderr.trim()}`);
      }
    }
  } finally {
    running = false;
    await Promise.all([writes, snapshots]);
    await store.close();
  }
  assert.ok(saves >= 4, `${saves} saves ran while the commands read`);
  assert.deepEqual(failures, []);
});
