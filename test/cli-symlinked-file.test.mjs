// The command line given a session file by a symbolic link to it (`sessions.db -> releases/42/sessions.db`, or a link
// someone who can write the directory planted). A store refuses a saveFile that is a link (ELOOP), so no app writes
// through one, and its lock is `<real file>.lock`. The command line took the lock by the link's name instead:
// - import wrote the sessions over the link (a rename replaces the link, not its target), said "imported", exit 0,
//   while the real file, the one the app loads, was left as it was;
// - migrate, inspect, verify and export did not see the store running on the real file: migrate copied it while it ran.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, sessionFor, tempDir, writeStore } from './fixtures/cli/helpers.mjs';
import { startChild } from './fixtures/persist/helpers.mjs';

test('import --into a symbolic link is refused, as a store refuses one: the link and its target are left as they were', async (t) => {
  const dir = tempDir(t);
  const real = join(dir, 'real.db');
  await writeStore(real, { kept: sessionFor(1) });
  const before = readFileSync(real);
  const link = join(dir, 'sessions.db');
  symlinkSync('real.db', link);
  const source = join(dir, 'in.jsonl');
  writeFileSync(source, `${JSON.stringify({ sid: 'new', expires: null, session: sessionFor(2) })}\n`);
  const result = await cli(['import', source, '--into', link, '--merge']);
  assert.equal(result.code, 1, `${result.stdout}${result.stderr}`);
  assert.match(result.stderr, /symbolic link/);
  assert.ok(lstatSync(link).isSymbolicLink(), 'the link is still a link');
  assert.equal(readlinkSync(link), 'real.db');
  assert.deepEqual(readFileSync(real), before);
});

test('migrate, inspect and export through a symbolic link see the store that holds the real file', async (t) => {
  const dir = tempDir(t);
  const real = join(dir, 'real.db');
  await writeStore(real, { a: sessionFor(1) });
  const link = join(dir, 'sessions.db');
  symlinkSync('real.db', link);
  const app = startChild(t, 'hold', [real]);
  await app.line(/^ready \d+$/);
  // Refused before any connection: nothing listens on port 1.
  const migrate = await cli(['migrate', link, '--to', 'redis://127.0.0.1:1']);
  assert.equal(migrate.code, 1, migrate.stderr);
  assert.match(migrate.stderr, /is in use by running process \d+: stop the app first/);
  const inspect = await cli(['inspect', link, '--json']);
  assert.equal(inspect.code, 0, inspect.stderr);
  assert.match(JSON.parse(inspect.stdout).heldBy, /running process \d+/);
  const exported = await cli(['export', link, '--out', join(dir, 'out.jsonl')]);
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stderr, /warning: .* is in use by running process/);
  await app.kill('SIGTERM');
});
