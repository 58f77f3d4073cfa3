// A journal write that makes no progress (writeSync returns 0, as a device that accepts nothing might) must fail
// the journal like any write error, never loop forever: an 'error' event that says so, memory keeps serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { call, nextEvent, session, tempDir } from './fixtures/persist/helpers.mjs';
import { isJournal, journalFs, open } from './fixtures/journal/helpers.mjs';

test('a journal write that writes nothing fails the journal with "write made no progress"; memory serves', { timeout: 20_000 }, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const fs = journalFs();
  const paths = new Map();
  const { openSync, writeSync } = fs;
  let stall = false;
  fs.openSync = (path, ...rest) => {
    const fd = openSync(path, ...rest);
    paths.set(fd, String(path));
    return fd;
  };
  fs.writeSync = (fd, ...rest) => (stall && isJournal(paths.get(fd)) ? 0 : writeSync(fd, ...rest));
  const store = await open(t, file, { journal: 'always', fs });
  await call(store, 'set', 'before', session({ user: 'before' }));
  stall = true;
  const failed = nextEvent(store, 'error', 5000);
  await assert.rejects(call(store, 'set', 'during', session({ user: 'during' })), { code: 'ERR_JOURNAL_FAILED' });
  const event = await failed;
  assert.equal(event.code, 'ERR_JOURNAL_FAILED');
  assert.equal(event.cause.message, 'write made no progress');
  assert.equal((await call(store, 'get', 'before')).user, 'before');
});
