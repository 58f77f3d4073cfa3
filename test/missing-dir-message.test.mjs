// A saveFile whose directory is missing: the error must name that directory as the one that does not exist.
// FileLock.acquire calls realpathSync(dirname(file)), whose ENOENT carries the missing directory itself as `path`;
// describeFileError (src/files/file-errors.ts) then takes it for a file beside the snapshot and applies the ENOENT
// hint to it, naming the directory's parent, which exists: 'its directory "<parent>" does not exist'.
// Marked todo until the message is fixed: it fails today, and does not fail the suite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { tempDir } from './fixtures/persist/helpers.mjs';

test('a missing directory: the message says that directory does not exist, not its parent (which does)', {
  todo: 'src/files/file-errors.ts names dirname(path) when path is the missing directory itself',
}, async (t) => {
  const dir = tempDir(t);
  const missing = join(dir, 'no-such-dir');
  const store = new MemFileStore({ saveFile: join(missing, 'sessions.db') });
  const err = await store.ready.then(() => assert.fail('ready resolved'), (e) => e);
  await store.close();
  assert.equal(err.code, 'ENOENT');
  assert.ok(existsSync(dir), 'the parent exists');
  assert.doesNotMatch(err.message, new RegExp(`directory "${dir}" does not exist`), err.message);
  assert.match(err.message, new RegExp(`"${missing}" does not exist`), err.message);
});
