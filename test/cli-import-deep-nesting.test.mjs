// An import source holding a session nested too deeply to be stored (100,000 arrays in one another: JSON.parse reads
// it, JSON.stringify, which writes the stored text, overflows the stack). No store's set can ever have written one (its
// own stringify fails the same way), so it comes from a crafted or damaged source. It ended the import with
// "import failed: Maximum call stack size exceeded": no line or file counted, and --skip-damaged could not skip it.
// Import from Redis keeps a value's text as it is, so such a session can reach a store file that way; export then
// ended the same way, with no word of what was wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, privateRedis, readStore, redisClient, sessionFor, tempDir } from './fixtures/cli/helpers.mjs';

const DEPTH = 100_000;
const deep = (cookie) => `{"cookie":${JSON.stringify(cookie)},"deep":${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}}`;

test('JSON Lines: a session nested too deeply is refused naming its line; nothing is written', async (t) => {
  const dir = tempDir(t);
  const source = join(dir, 'in.jsonl');
  const expires = Date.now() + 3_600_000;
  writeFileSync(source, `${JSON.stringify({ sid: 'ok', expires, session: sessionFor(1) })}\n` +
    `{"sid":"deep","expires":${expires},"session":${deep(sessionFor(2).cookie)}}\n`);
  const into = join(dir, 'sessions.db');
  const result = await cli(['import', source, '--into', into]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /line 2: the session is nested too deeply to be stored; nothing was written/);
  assert.equal(existsSync(into), false);
});

test('session-file-store: a session nested too deeply counts as unreadable, and --skip-damaged imports the others', async (t) => {
  const dir = tempDir(t);
  const sfs = join(dir, 'sessions');
  mkdirSync(sfs);
  const now = Date.now();
  writeFileSync(join(sfs, 'ok.json'), JSON.stringify({ ...sessionFor(1), __lastAccess: now }));
  writeFileSync(join(sfs, 'deep.json'), deep({ ...sessionFor(2).cookie }).replace(/^\{/, `{"__lastAccess":${now},`));
  const into = join(dir, 'sessions.db');
  const refused = await cli(['import', sfs, '--into', into]);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /1 of 2 files in .* could not be read as sessions/);
  assert.equal(existsSync(into), false);
  const skipped = await cli(['import', sfs, '--into', into, '--skip-damaged', '--json']);
  assert.equal(skipped.code, 0, skipped.stderr);
  assert.equal(JSON.parse(skipped.stdout).damaged, 1);
  assert.deepEqual(Object.keys(await readStore(into)), ['ok']);
});

test('export: a stored session nested too deeply (imported from Redis as it was) is refused by name of the problem; nothing is written', async (t) => {
  const server = await privateRedis(t);
  if (!server) return;
  const client = await redisClient(t, server.port);
  await client.set('sess:ok', JSON.stringify(sessionFor(1)));
  await client.set('sess:deep', deep(sessionFor(2).cookie));
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  const imported = await cli(['import', `redis://127.0.0.1:${server.port}`, '--into', file, '--json']);
  assert.equal(imported.code, 0, imported.stderr);
  assert.equal(JSON.parse(imported.stdout).imported, 2);
  const out = join(dir, 'out.jsonl');
  const exported = await cli(['export', file, '--out', out]);
  assert.equal(exported.code, 1, exported.stderr);
  assert.match(exported.stderr, /1 session of ".*sessions\.db" is nested too deeply to be written as JSON: nothing was written/);
  assert.doesNotMatch(exported.stderr, /call stack/);
  assert.equal(existsSync(out), false);
});
