// File modes: sessions are credentials, so the snapshot, its temp files and the lock file are 0600 even
// under a permissive umask. Checked in a child process (fixture role "modes") that sets umask 0 first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeSnapshot, HOUR, session, startChild, tempDir } from './fixtures/persist/helpers.mjs';

const mode = (n) => `0${n.toString(8)}`;

async function modesWithUmask0(t, file) {
  const child = startChild(t, 'modes', [file]);
  const [, json] = await child.line(/^(\{.*\})$/);
  assert.deepEqual(await child.exited, { code: 0, signal: null }, child.stderr);
  const report = JSON.parse(json);
  assert.equal(report.umask, 0);
  assert.equal(mode(report.control), '0666', 'umask 0 is in effect: a plain new file is 0666');
  return report;
}

test('snapshot, temp file and lock file are created 0600 under umask 0', { timeout: 20_000 }, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const report = await modesWithUmask0(t, file);
  assert.equal(mode(report.lock), '0600', 'lock file');
  assert.ok(report.temp.length >= 1, 'a temp file was seen while saving');
  for (const temp of report.temp) assert.equal(mode(temp), '0600', 'temp file');
  assert.equal(mode(report.snapshot), '0600', 'snapshot');
  assert.equal(mode(statSync(file).mode & 0o777), '0600');
});

test('a snapshot that was 0644 (say, copied in by hand) is 0600 after the next save', { timeout: 20_000 }, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  writeFileSync(file, encodeSnapshot([{ id: 'old', expires: Date.now() + HOUR, value: JSON.stringify(session({ user: 'old' })) }]));
  chmodSync(file, 0o644);
  const report = await modesWithUmask0(t, file);
  assert.equal(mode(report.snapshot), '0600');
  for (const temp of report.temp) assert.equal(mode(temp), '0600', 'temp file');
});
