// import from a session-file-store directory holding entries session-file-store never writes: a symbolic link (an
// app user who can write the directory pointing it at a file only the admin running the import may read: its JSON
// was read through the link and written into the session file, for the app to read) and a FIFO (the import hung,
// forever, on its open). Both are counted as files that cannot be read as sessions, never opened or followed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, readStore, sessionFor, tempDir } from './fixtures/cli/helpers.mjs';

const MARK = 'Hx7sfsSid';

test('import of a session-file-store directory: a symlink and a FIFO in it are neither followed nor opened', async (t) => {
  const dir = tempDir(t);
  const sfsDir = join(dir, 'sessions');
  mkdirSync(sfsDir);
  const session = (extra) => JSON.stringify({ ...sessionFor(1), ...extra, __lastAccess: Date.now() });
  writeFileSync(join(sfsDir, `${MARK}good.json`), session({ user: 'good' }));
  // Shaped as a session: read through the link, it would be imported.
  const secret = join(dir, 'admin-only.json');
  writeFileSync(secret, session({ secret: 'ADMIN-ONLY-secret' }), { mode: 0o600 });
  symlinkSync(secret, join(sfsDir, `${MARK}link.json`));
  execFileSync('mkfifo', [join(sfsDir, `${MARK}fifo.json`)]);

  const target = join(dir, 'sessions.db');
  const refused = await cli(['import', sfsDir, '--into', target, '--json'], { timeout: 20_000 });
  assert.notEqual(refused.code, -1, 'the import hung (killed at its timeout)');
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /2 of 3 files .* could not be read as sessions/);

  const result = await cli(['import', sfsDir, '--into', target, '--skip-damaged', '--json'], { timeout: 20_000 });
  assert.equal(result.code, 0, result.stderr);
  const summary = JSON.parse(result.stdout);
  assert.equal(summary.imported, 1);
  assert.equal(summary.damaged, 2);
  const all = await readStore(target);
  assert.deepEqual(Object.keys(all), [`${MARK}good`]);
  assert.ok(!JSON.stringify(all).includes('ADMIN-ONLY-secret'));
});
