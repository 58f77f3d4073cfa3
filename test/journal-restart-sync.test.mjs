// A start that continues a journal left by a killed process must make that journal's records durable
// within about a second, also when nothing new is written. The README: with 'everysec' "a kill -9 loses at most the
// last few milliseconds, a power cut about one second". A process killed before its sync leaves records that are
// only in the page cache; the next start replays and serves them, and before the fix it never synced the file until
// a new change was written to it: a power cut while the restarted store sat idle (up to the kernel's writeback
// delay, 30 s by default on Linux) lost changes acknowledged long before it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { call, session, tempDir } from './fixtures/persist/helpers.mjs';
import { crashCopy, journalFs, journals, open, until } from './fixtures/journal/helpers.mjs';

test('everysec: a journal continued after a kill -9 is synced without waiting for a new change', { timeout: 20_000 }, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const first = await open(t, file, { journal: 'everysec' });
  await call(first, 'set', 'acknowledged', session({ user: 'alice' }));
  // The files as a kill -9 leaves them, copied: nothing of the copy has been synced.
  const copy = crashCopy(t, file);
  const [journal] = journals(copy);
  const fs = journalFs();
  const restarted = await open(t, copy, { journal: 'everysec', fs });
  assert.equal((await call(restarted, 'get', 'acknowledged')).user, 'alice');
  // Nothing is written: only reads. The replayed records must still reach the disk.
  await until(() => fs.synced.some((s) => s.path === journal), 5000, `a sync of ${journal}`);
});
