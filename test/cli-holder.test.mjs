// Who holds a store file, as `inspect` and `verify` report it: the CLI's main() run in this process (the other CLI
// tests run it as a child), so a store of this very process can hold the file, and the lock reading runs here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { MemFileStore } from 'express-memfilestore';
import { call, session, tempDir, track } from './fixtures/persist/helpers.mjs';

const require = createRequire(import.meta.url);
const { main } = require('../dist/cli/main.js');

/** Runs `command --json file ...more` here; its `heldBy` and stderr. */
async function run(command, file, more = []) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let text = '';
  let warned = '';
  stdout.on('data', (chunk) => { text += chunk; });
  stderr.on('data', (chunk) => { warned += chunk; });
  const code = await main([command, '--json', file, ...more], { stdout, stderr, env: {} });
  assert.equal(code, 0, text);
  return { heldBy: JSON.parse(text).heldBy, stderr: warned };
}

async function heldBy(command, file) {
  return (await run(command, file)).heldBy;
}

test('inspect, verify and export name the holder of the file: a store of this process, a fresh foreign lock, or none', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, journal: false }));
  await store.ready;
  await call(store, 'set', 'a', session({ user: 'a' }));
  await store.flush();
  for (const command of ['inspect', 'verify']) assert.equal(await heldBy(command, file), 'another store in this process', command);
  // export works on a running app's file (a backup) and warns that later changes are not in it.
  const live = await run('export', file, ['--out', join(dir, 'live.jsonl')]);
  assert.equal(live.heldBy, 'another store in this process');
  assert.match(live.stderr, /in use by another store in this process: its sessions are read as written to disk now; changes after this are not included/);
  // import from it too (into another file): same warning.
  const copied = await run('import', file, ['--into', join(dir, 'copy.db')]);
  assert.match(copied.stderr, /in use by another store in this process: its sessions are read as written/);
  await store.close();
  for (const command of ['inspect', 'verify']) assert.equal(await heldBy(command, file), null, command);
  const closed = await run('export', file, ['--out', join(dir, 'closed.jsonl')]);
  assert.equal(closed.heldBy, null);
  assert.equal(closed.stderr, '');

  writeFileSync(`${file}.lock`, `4242\nother-host.example\n${Date.now()}\n`);
  assert.equal(await heldBy('verify', file), 'process 4242 on host other-host.example (a lock not refreshed for 30 s is taken over)');
});

test('the holder of a file whose directory does not exist is nobody (a tool asking before the file is there)', () => {
  const { FileLock } = require('../dist/files/file-lock.js');
  assert.equal(FileLock.holder(join(tempDirPath(), 'missing', 'sessions.db')), undefined);
});

function tempDirPath() {
  return join(tmpdir(), `memfilestore-no-such-dir-${process.pid}`);
}
