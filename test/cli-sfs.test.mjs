// import from a directory written by session-file-store itself (plain, and encrypted with a secret read from a file):
// expiry as session-file-store computes it, expired sessions left out, files only read, never named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import session from 'express-session';
import sessionFileStore from 'session-file-store';
import { cli, readStore, sessionFor, tempDir } from './fixtures/cli/helpers.mjs';

const FileStore = sessionFileStore(session);
const MARK = 'Pq4sfsSid';

async function writeSfs(dir, sessions, options = {}) {
  const store = new FileStore({ path: dir, logFn: () => {}, reapInterval: -1, ...options });
  for (const [sid, sess] of Object.entries(sessions)) {
    await new Promise((resolve, reject) => store.set(sid, sess, (err) => (err ? reject(err) : resolve())));
  }
}

function sample() {
  return {
    [`${MARK}1`]: sessionFor(1, 3_600_000),
    [`${MARK}2`]: sessionFor(2, 7_200_000),
    [`${MARK}3`]: sessionFor(3, null),
  };
}

test('import a plain session-file-store directory: every live session, expiries as it computes them', async (t) => {
  const dir = tempDir(t);
  const sfsDir = join(dir, 'sessions');
  const sessions = sample();
  // Expired for session-file-store: last access + originalMaxAge is in the past.
  const stale = sessionFor(4, 1000);
  const written = Date.now();
  await writeSfs(sfsDir, { ...sessions, [`${MARK}stale`]: stale });
  const writtenBy = Date.now();
  const stalePath = join(sfsDir, `${MARK}stale.json`);
  const staleData = JSON.parse(readFileSync(stalePath, 'utf8'));
  staleData.__lastAccess -= 10_000;
  writeFileSync(stalePath, JSON.stringify(staleData));
  // session-file-store's own temp files (write-file-atomic) are not sessions.
  writeFileSync(join(sfsDir, `${MARK}9.json.12345`), 'partial');
  const filesBefore = readdirSync(sfsDir).sort();
  const target = join(dir, 'ours.snap');
  const result = await cli(['import', sfsDir, '--into', target, '--json']);
  assert.equal(result.code, 0, result.stderr);
  const summary = JSON.parse(result.stdout);
  assert.equal(summary.imported, 3);
  assert.equal(summary.expired, 1);
  assert.equal(summary.kind, 'session-file-store directory');
  assert.ok(!result.stdout.includes(MARK) && !result.stderr.includes(MARK));
  assert.deepEqual(readdirSync(sfsDir).sort(), filesBefore, 'the source is only read');

  const all = await readStore(target);
  assert.deepEqual(Object.keys(all).sort(), Object.keys(sessions).sort());
  for (const [sid, sess] of Object.entries(sessions)) {
    assert.deepEqual(all[sid].user, sess.user);
    assert.equal(all[sid].__lastAccess, undefined);
  }
  const lines = (await cli(['export', target, '--out', '-'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
  const bySid = Object.fromEntries(lines.map((l) => [l.sid, l.expires]));
  assert.equal(bySid[`${MARK}1`], Date.parse(sessions[`${MARK}1`].cookie.expires));
  // No cookie expiry and no originalMaxAge... here originalMaxAge is null: session-file-store's ttl (3600 s by default),
  // from the last access writeSfs stored. Bracketed by readings around writeSfs: compared with "now" after two runs of
  // the bin (within 10 s), a loaded machine starting node slowly could fail it, and an expiry counted from the import
  // itself passed.
  const expires = bySid[`${MARK}3`];
  assert.ok(expires >= written + 3_600_000 && expires <= writtenBy + 3_600_000, `${expires - written - 3_600_000} ms after written + 1 h`);
});

test('import an encrypted session-file-store directory with the secret read from a file; a wrong secret is refused', async (t) => {
  const dir = tempDir(t);
  const sfsDir = join(dir, 'sessions');
  const secret = 'sfs secret: keyboard cat';
  await writeSfs(sfsDir, sample(), { secret });
  const raw = readFileSync(join(sfsDir, `${MARK}1.json`), 'utf8');
  assert.ok(raw.includes('"ct"') && !raw.includes('"user"'), 'session-file-store wrote it encrypted');
  const secretFile = join(dir, 'secret.txt');
  writeFileSync(secretFile, `${secret}\n`);
  const target = join(dir, 'ours.snap');
  const result = await cli(['import', sfsDir, '--into', target, '--secret-file', secretFile, '--json']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).imported, 3);
  assert.equal(JSON.parse(result.stdout).kind, 'session-file-store directory (encrypted)');
  assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret));
  assert.deepEqual(Object.keys(await readStore(target)).sort(), Object.keys(sample()).sort());

  writeFileSync(secretFile, 'not the secret');
  const wrong = await cli(['import', sfsDir, '--into', join(dir, 'w.snap'), '--secret-file', secretFile]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /3 of 3 files .* could not be read as sessions \(3 failed to decrypt: wrong secret/);
  const noSecret = await cli(['import', sfsDir, '--into', join(dir, 'n.snap')]);
  assert.equal(noSecret.code, 1);
  assert.match(noSecret.stderr, /3 of 3 files .*\(3 are encrypted: give the app's session-file-store "secret" with --secret-file\)/);
  const missingSecret = await cli(['import', sfsDir, '--into', join(dir, 'n.snap'), '--secret-file', join(dir, 'nope')]);
  assert.equal(missingSecret.code, 1);
  assert.match(missingSecret.stderr, /cannot read --secret-file/);
});

test('a damaged file in a session-file-store directory: refused, or left out with --skip-damaged', async (t) => {
  const dir = tempDir(t);
  const sfsDir = join(dir, 'sessions');
  await writeSfs(sfsDir, sample());
  writeFileSync(join(sfsDir, `${MARK}bad.json`), '{"cookie":');
  const target = join(dir, 'ours.snap');
  const refused = await cli(['import', sfsDir, '--into', target]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /1 of 4 files .*nothing was written.*--skip-damaged/);
  assert.ok(!refused.stderr.includes(MARK));
  const ok = await cli(['import', sfsDir, '--into', target, '--skip-damaged', '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).imported, 3);
  assert.equal(JSON.parse(ok.stdout).damaged, 1);
});

test('--ext names the files of a directory written with another fileExtension; --ttl is its ttl option', async (t) => {
  const dir = tempDir(t);
  const sfsDir = join(dir, 'sessions');
  const sessions = sample();
  await writeSfs(sfsDir, sessions, { fileExtension: '.sess', ttl: 600 });
  const noExt = await cli(['import', sfsDir, '--into', join(dir, 'none.snap'), '--json']);
  assert.equal(noExt.code, 0, noExt.stderr);
  assert.equal(JSON.parse(noExt.stdout).imported, 0, 'no .json file in the directory');

  const target = join(dir, 'ours.snap');
  const before = Date.now();
  const result = await cli(['import', sfsDir, '--into', target, '--ext', '.sess', '--ttl', '600', '--json']);
  const after = Date.now();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).imported, 3);
  const lines = (await cli(['export', target, '--out', '-'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
  const bySid = Object.fromEntries(lines.map((l) => [l.sid, l.expires]));
  assert.equal(bySid[`${MARK}1`], Date.parse(sessions[`${MARK}1`].cookie.expires));
  // The browser-session cookie: last access (when writeSfs ran, before `before`) + 600 s, not 3600 s.
  assert.ok(bySid[`${MARK}3`] <= after + 600_000 && bySid[`${MARK}3`] > before - 60_000 + 600_000, String(bySid[`${MARK}3`] - before));
});
