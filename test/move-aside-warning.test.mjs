// onDamagedFile: 'move-aside' warns loudly that it moved the damaged files and started empty. The warning must say
// what was done: it used to carry the refusal's own advice ("The file was left untouched; ... set onDamagedFile:
// "move-aside"") in front of "onDamagedFile is "move-aside": moved it", telling the operator both that the file was
// untouched and that it was moved, and to set the option that was set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, captureWarnings, session, tempDir, track } from './fixtures/persist/helpers.mjs';
import { crashCopy, journals } from './fixtures/journal/helpers.mjs';

test('the move-aside warning names the damage and the files moved, not the advice of a refusal', async (t) => {
  const dir = tempDir(t);
  const saveFile = join(dir, 'sessions.db');
  writeFileSync(saveFile, 'not a snapshot\n');
  const warnings = captureWarnings(t);
  const store = track(t, new MemFileStore({ saveFile, onDamagedFile: 'move-aside' }));
  await store.ready;
  const aside = store.stats.persistence.load.movedAside;
  assert.ok(existsSync(aside), aside);
  await new Promise((resolve) => { setImmediate(resolve); });
  const moved = warnings.filter((w) => w.name === 'MemFileStoreWarning');
  assert.equal(moved.length, 1, warnings.map((w) => w.message).join('\n'));
  assert.equal(moved[0].message, `express-memfilestore: cannot load "${saveFile}": it is not an express-memfilestore snapshot ` +
    `(unknown header). onDamagedFile is "move-aside": moved it to "${aside}" and started empty`);
  assert.deepEqual(await call(store, 'ids'), []);
});

test('a missing journal: the warning names the snapshot it moved, not the journal it could not find', async (t) => {
  // The refusal names the missing journal ("cannot load <journal>: it is missing"); "moved it" then read as if that
  // journal had been found and moved, while the one file moved was the snapshot naming it.
  const dir = tempDir(t);
  const store = track(t, new MemFileStore({ saveFile: join(dir, 'sessions.db'), journal: 'always', savePeriod: 0 }));
  await store.ready;
  await call(store, 'set', 'a', session({ n: 1 }));
  await store.flush(); // the snapshot names the journal it hands over to
  const saveFile = crashCopy(t, join(dir, 'sessions.db'));
  const [journal] = journals(saveFile);
  unlinkSync(journal);
  const warnings = captureWarnings(t);
  const restarted = track(t, new MemFileStore({ saveFile, onDamagedFile: 'move-aside', savePeriod: 0 }));
  await restarted.ready;
  const aside = restarted.stats.persistence.load.movedAside;
  assert.ok(existsSync(aside) && !existsSync(saveFile), aside);
  await new Promise((resolve) => { setImmediate(resolve); });
  const moved = warnings.filter((w) => w.name === 'MemFileStoreWarning');
  assert.equal(moved.length, 1, warnings.map((w) => w.message).join('\n'));
  assert.equal(moved[0].message, `express-memfilestore: cannot load "${journal}": it is missing: the snapshot "${saveFile}" continues in ` +
    `it. onDamagedFile is "move-aside": moved "${saveFile}" to "${aside}" and started empty`);
});
