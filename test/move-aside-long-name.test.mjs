// onDamagedFile: 'move-aside' with a long saveFile name. Names up to 230 bytes are taken (placement-long-name), but
// the damaged files were renamed to `<name>.corrupt-<timestamp>` (33 bytes more): for a name over 222 bytes the
// snapshot's new name, and over 212 bytes a journal's, was longer than a file name may be. The start failed with
// ENAMETOOLONG, so the option meant to keep the app starting kept it down, at every restart: from 213 bytes the
// snapshot had been moved and its journal not, and the next start refused that journal and failed at it again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, captureWarnings, session, tempDir, track } from './fixtures/persist/helpers.mjs';
import { crashCopy, journals } from './fixtures/journal/helpers.mjs';

for (const [what, name] of [['230 ASCII bytes', 'a'.repeat(230)], ['215 ASCII bytes', 's'.repeat(215)],
  ['115 characters, 230 bytes', 'é'.repeat(115)]]) {
  for (const damaged of ['snapshot', 'journal']) {
    test(`a damaged ${damaged} beside a saveFile name of ${what} is moved aside, and the store starts`, async (t) => {
      const dir = tempDir(t);
      const store = track(t, new MemFileStore({ saveFile: join(dir, name), journal: 'always', savePeriod: 0 }));
      await store.ready;
      await call(store, 'set', 'a', session({ user: 'ann' }));
      await store.flush();
      await call(store, 'set', 'b', session({ user: 'bob' }));
      const saveFile = crashCopy(t, join(dir, name));
      const [journal] = journals(saveFile);
      assert.ok(journal !== undefined);
      const target = damaged === 'snapshot' ? saveFile : journal;
      const bytes = readFileSync(target);
      bytes[damaged === 'snapshot' ? bytes.length - 5 : 40] ^= 0xff;
      writeFileSync(target, bytes);
      const before = readdirSync(join(saveFile, '..')).sort();
      const warnings = captureWarnings(t);

      const restarted = track(t, new MemFileStore({ saveFile, onDamagedFile: 'move-aside', savePeriod: 0 }));
      await restarted.ready;
      assert.deepEqual(await call(restarted, 'ids'), []);
      const { movedAside } = restarted.stats.persistence.load;
      assert.ok(existsSync(movedAside), movedAside);
      const now = readdirSync(join(saveFile, '..'));
      assert.ok(!now.includes(name) && !now.some((n) => n.startsWith(`${name}.journal.`)), `all moved: ${now.join(', ')}`);
      const aside = now.filter((n) => n.includes('.corrupt-'));
      assert.equal(aside.length, before.length, `every file of the store is kept, under another name: ${now.join(', ')}`);
      for (const n of aside) assert.ok(Buffer.byteLength(n) <= 255, n);
      await new Promise((resolve) => { setImmediate(resolve); });
      const moved = warnings.filter((w) => w.name === 'MemFileStoreWarning');
      assert.equal(moved.length, 1, warnings.map((w) => w.message).join('\n'));
      for (const n of aside) assert.ok(moved[0].message.includes(join(saveFile, '..', n)), `the warning names ${n}: ${moved[0].message}`);

      await call(restarted, 'set', 'c', session({ user: 'cy' }));
      await restarted.close();
      const again = track(t, new MemFileStore({ saveFile, onDamagedFile: 'move-aside', savePeriod: 0 }));
      await again.ready;
      assert.deepEqual(await call(again, 'ids'), ['c']);
    });
  }
}
