// The lock seen by another user, in this process (src/files/file-lock.ts): the effective uid is switched to 65534
// around each synchronous call (seteuid, and back to root right after), so the code that otherwise runs only in
// the child processes of test/security.test.mjs runs here too, where coverage and mutation testing see it.
// A lock file that user cannot read (root's, 0600) is "a process of another user"; one it can read naming a live
// process it may not signal (EPERM) is that process "(another user)"; neither is taken over. And as root, a lock
// path that is a directory is an error, not a lock of another user.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { tempDir } from './fixtures/persist/helpers.mjs';
import { skipUnlessCi } from './fixtures/must-run.mjs';

const require = createRequire(import.meta.url);
const { FileLock } = require('../dist/files/file-lock.js');

const NOBODY = 65534;
const OTHER = 65533;

function cannotSwitchUid() {
  if (typeof process.seteuid !== 'function') return 'process.seteuid does not exist on this platform';
  if (process.geteuid() !== 0) return 'switching the effective uid needs root';
  return undefined;
}

/** Runs `fn` with effective uid and gid 65534, back to root whatever happens. */
function asNobody(fn) {
  process.setegid(NOBODY);
  process.seteuid(NOBODY);
  try {
    return fn();
  } finally {
    process.seteuid(0);
    process.setegid(0);
  }
}

/** A shared directory (others may create files in it) holding a lock file of root with `content` and `mode`. */
function sharedWithLock(t, content, mode) {
  const dir = tempDir(t);
  chmodSync(dir, 0o777);
  const file = join(dir, 'sessions.db');
  writeFileSync(`${file}.lock`, content, { mode });
  chmodSync(`${file}.lock`, mode);
  return file;
}

const refusal = (holder) => (err) => {
  assert.equal(err.code, 'ERR_SNAPSHOT_LOCKED', err.stack);
  assert.ok(err.message.includes(`is in use by ${holder}.`), err.message);
  return true;
};

test('a lock file another user cannot read is held by "a process of another user", and is not taken over', (t) => {
  const reason = cannotSwitchUid();
  if (reason) return skipUnlessCi(t, reason);
  const content = `${process.pid + 1}\n${hostname()}\n1\n`;
  const file = sharedWithLock(t, content, 0o600);
  const holder = 'a process of another user (its lock file is not readable)';
  assert.equal(asNobody(() => FileLock.holder(file)), holder);
  assert.throws(() => asNobody(() => FileLock.acquire(file)), refusal(holder));
  assert.equal(readFileSync(`${file}.lock`, 'utf8'), content, 'the lock is left as it was');
});

test('a readable lock naming a live process of another user is held by it, and is not taken over', async (t) => {
  const reason = cannotSwitchUid();
  if (reason) return skipUnlessCi(t, reason);
  // A live process of a third user: uid 65534 may not signal it (EPERM). (A process of root would do for a child
  // process of uid 65534, but not here: after seteuid the real uid is still root's, and it may signal root.)
  const owner = spawn('sleep', ['600'], { uid: OTHER, gid: OTHER, stdio: 'ignore' });
  t.after(() => { owner.kill('SIGKILL'); });
  await new Promise((resolve, reject) => { owner.once('spawn', resolve); owner.once('error', reject); });
  const content = `${owner.pid}\n${hostname()}\n1\n`;
  const file = sharedWithLock(t, content, 0o644);
  const holder = `running process ${owner.pid} (another user)`;
  assert.equal(asNobody(() => FileLock.holder(file)), holder);
  assert.throws(() => asNobody(() => FileLock.acquire(file)), refusal(holder));
  assert.equal(readFileSync(`${file}.lock`, 'utf8'), content, 'the lock is left as it was');
  // Root may signal it: for root the same lock names a running process.
  assert.equal(FileLock.holder(file), `running process ${owner.pid}`);
});

test('a lock path that is a directory is an error (EISDIR), not a lock held by someone', (t) => {
  const file = join(tempDir(t), 'sessions.db');
  mkdirSync(`${file}.lock`);
  assert.throws(() => FileLock.acquire(file), (err) => {
    assert.equal(err.code, 'EISDIR', err.stack);
    return true;
  });
  assert.ok(existsSync(`${file}.lock`));
});
