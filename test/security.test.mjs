// Security pass (issue 5, item 7), beyond test/persist-modes.test.mjs (0600 for a plain save under umask 0),
// test/persist-io-errors.test.mjs (a saveFile symlink to an existing file) and test/store-debug.test.mjs
// (debug output of a memory-only store):
// - modes under umask 0 for the files created in less common ways (a lock taken over, a converted 1.x file,
//   a snapshot after move-aside), and a moved-aside file keeps its own mode;
// - temp files: created exclusively (O_EXCL, 0600) under an unpredictable name; planted temp-name links
//   are removed, never followed;
// - symlinks: a dangling or directory saveFile symlink is refused; a saveFile swapped for a symlink while
//   running is replaced, its target never written; a planted lock symlink never writes its target;
// - a lock held by a live process of another user (uid 65534 "nobody", spawned with setuid) is refused,
//   both ways round;
// - debug output and messages (DEBUG=MemFileStore, captured stderr of a child doing load, set, touch, get,
//   destroy, prune, saves, a failed save, a held lock, damaged files) hold no session id or content;
// - ids are never paths; "__proto__" ids never reach Object.prototype.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync,
  utimesSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, callError, decodeSnapshot, faultyFs, session, tempDir, track } from './fixtures/persist/helpers.mjs';
import { FAULTS_CHILD, PERSIST_CHILD, prototypeSnapshot, REPO_ROOT, runNode } from './fixtures/faults/lib.mjs';
import { skipUnlessCi } from './fixtures/must-run.mjs';

const NOBODY = 65534;

test('umask 0: a lock taken over, a converted 1.x file and a snapshot after move-aside are 0600; a moved-aside file keeps its mode', async (t) => {
  const dir = tempDir(t);
  const { code, stdout, stderr } = await runNode([FAULTS_CHILD, 'modes', dir]);
  assert.equal(code, 0, stderr);
  const modes = JSON.parse(stdout.trim().split('\n').at(-1));
  assert.deepEqual(modes, {
    lockTakenOver: '600', snapshot: '600', converted: '600', afterMoveAside: '600', movedAside: ['640'],
  });
});

test('temp files are opened exclusively ("wx", 0600) under a name with 48 random bits, new for every save', async (t) => {
  const seam = faultyFs();
  const opens = [];
  const open = seam.open;
  seam.open = (path, flags, mode) => {
    if (String(path).includes('.tmp-')) opens.push({ path: String(path), flags, mode });
    return open(path, flags, mode);
  };
  const file = join(tempDir(t), 'sessions.db');
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0, fs: seam }));
  await store.ready;
  for (let i = 0; i < 3; i++) {
    await call(store, 'set', `s${i}`, session({ n: i }));
    await store.flush();
  }
  assert.equal(opens.length, 3);
  const names = new Set();
  for (const { path, flags, mode } of opens) {
    assert.equal(flags, 'wx', 'O_CREAT|O_EXCL: never opens a file or link someone planted');
    assert.equal(mode, 0o600);
    const m = new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.tmp-${process.pid}-([0-9a-f]{12})$`).exec(path);
    assert.ok(m, `temp name ${path}`);
    names.add(m[1]);
  }
  assert.equal(names.size, 3, 'a new random part for every save');
});

test('a planted symlink with a temp-file name is removed at start, and its target is never written', async (t) => {
  const dir = tempDir(t);
  const victim = join(dir, 'victim.txt');
  writeFileSync(victim, 'precious');
  const file = join(dir, 'sessions.db');
  symlinkSync(victim, `${file}.tmp-${process.pid}-000000000000`);
  symlinkSync(victim, `${file}.tmp-1-ffffffffffff`);
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await store.ready;
  await call(store, 'set', 'a', session({ user: 'a' }));
  await store.close();
  assert.equal(readFileSync(victim, 'utf8'), 'precious');
  assert.deepEqual(readdirSync(dir).sort(), ['sessions.db', 'victim.txt']);
});

test('a saveFile that is a dangling symlink, or a symlink to a directory, is refused; nothing is created through it', async (t) => {
  const dir = tempDir(t);
  const missing = join(dir, 'would-be-created.db');
  const file = join(dir, 'sessions.db');
  symlinkSync(missing, file);
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  const err = await store.ready.then(() => assert.fail('a dangling symlink was accepted'), (e) => e);
  assert.match(err.message, /symbolic link/);
  assert.equal(await callError(store, 'set', 'a', session({})), err);
  await store.close();
  assert.equal(existsSync(missing), false, 'the link target was not created');
  assert.equal(readlinkSync(file), missing);

  const target = join(dir, 'a-directory');
  mkdirSync(target);
  const link = join(dir, 'dir-link.db');
  symlinkSync(target, link);
  const other = track(t, new MemFileStore({ saveFile: link, savePeriod: 0 }));
  await assert.rejects(other.ready, /symbolic link/);
  await other.close();
  assert.deepEqual(readdirSync(target), []);
  assert.deepEqual(readdirSync(dir).sort(), ['a-directory', 'dir-link.db', 'sessions.db']);
});

test('a saveFile swapped for a symlink while the store runs: the next save replaces the link, never writes its target', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  const victim = join(dir, 'victim.txt');
  writeFileSync(victim, 'precious');
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await store.ready;
  await call(store, 'set', 'a', session({ user: 'a' }));
  await store.flush();
  rmSync(file);
  symlinkSync(victim, file);
  await call(store, 'set', 'b', session({ user: 'b' }));
  await store.flush();
  assert.equal(readFileSync(victim, 'utf8'), 'precious', 'the target is untouched');
  assert.ok(lstatSync(file).isFile(), 'the link itself was replaced by the snapshot');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(decodeSnapshot(readFileSync(file)).records.map((r) => r.id), ['a', 'b']);
});

test('a lock path planted as a symlink to another file: that file is never written or truncated', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  const victim = join(dir, 'victim.txt');
  writeFileSync(victim, 'not a lock, just precious data\n');
  const old = new Date(Date.now() - 3_600_000);
  utimesSync(victim, old, old);
  symlinkSync(victim, `${file}.lock`);
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  // Not a pid, and not refreshed for an hour: a stale lock. The link is removed (not its target) and a
  // real lock file created in its place.
  await store.ready;
  assert.ok(lstatSync(`${file}.lock`).isFile(), 'the lock is a regular file of ours now');
  await call(store, 'set', 'a', session({ user: 'a' }));
  await store.close();
  assert.equal(readFileSync(victim, 'utf8'), 'not a lock, just precious data\n');
  assert.deepEqual(readdirSync(dir).sort(), ['sessions.db', 'victim.txt']);
});

/** Why a child cannot run as uid 65534 here, or undefined when it can (and can load the package). */
function cannotRunAsNobody() {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'not running as root: cannot start a process as another user';
  // The children are started by absolute path: each directory above them must be searchable by that user
  // (a checkout under a 0700 directory is not), and the package must load from there.
  for (const script of [PERSIST_CHILD, FAULTS_CHILD]) {
    const probe = spawnSync(process.execPath, [script], { cwd: REPO_ROOT, uid: NOBODY, gid: NOBODY, encoding: 'utf8' });
    if (probe.error) return `cannot spawn as uid ${NOBODY}: ${probe.error.message}`;
    if (probe.status !== 0) return `uid ${NOBODY} cannot run ${script}: ${probe.stderr.trim().split('\n').find((l) => /Error/.test(l)) ?? probe.stderr.trim()}`;
  }
  return undefined;
}

test('a lock held by a live process of another user (uid 65534) is refused with ERR_SNAPSHOT_LOCKED', async (t) => {
  const reason = cannotRunAsNobody();
  if (reason) return skipUnlessCi(t, reason);
  const dir = tempDir(t);
  chownSync(dir, NOBODY, NOBODY);
  const file = join(dir, 'sessions.db');
  const child = startAs(t, NOBODY, PERSIST_CHILD, ['hold', file]);
  const [, pid] = await child.line(/^ready (\d+)$/);
  assert.equal(statSync(`${file}.lock`).uid, NOBODY, 'the lock belongs to the other user');
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  const err = await store.ready.then(() => assert.fail('ready resolved: two users\' stores own one file'), (e) => e);
  assert.equal(err.code, 'ERR_SNAPSHOT_LOCKED', err.message);
  assert.ok(err.message.includes(pid), err.message);
  assert.equal(statSync(`${file}.lock`).uid, NOBODY, 'the other user\'s lock is left in place');
  await child.kill('SIGTERM');
});

test('a process of another user (uid 65534) is refused with ERR_SNAPSHOT_LOCKED while this process holds the lock', async (t) => {
  const reason = cannotRunAsNobody();
  if (reason) return skipUnlessCi(t, reason);
  const dir = tempDir(t);
  chmodSync(dir, 0o777); // a shared directory: the other user may create files in it
  const file = join(dir, 'sessions.db');
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await store.ready;
  await call(store, 'set', 'a', session({ user: 'a' }));
  await store.flush();
  const { code, stdout, stderr } = await runNode([FAULTS_CHILD, 'open', file], { uid: NOBODY, gid: NOBODY });
  assert.equal(code, 0, stderr);
  const line = stdout.trim();
  // The lock file is 0600 and root's: the other user cannot read who holds it, and file-lock.ts takes a lock it
  // may not read as held by another user, so the refusal is a locked file, never a takeover.
  assert.match(line, /^refused ERR_SNAPSHOT_LOCKED /, line);
  assert.deepEqual(decodeSnapshot(readFileSync(file)).records.map((r) => r.id), ['a']);
  assert.ok(existsSync(`${file}.lock`));
});

/** Like startChild of the persistence helpers (a long-running `node <script> <args>`), as another user. */
function startAs(t, uid, script, args) {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const proc = spawn(process.execPath, [script, ...args], { cwd: REPO_ROOT, uid, gid: uid, stdio: ['ignore', 'pipe', 'pipe'], env });
  const lines = [];
  let stderr = '';
  let buffer = '';
  proc.stdout.setEncoding('utf8').on('data', (chunk) => {
    buffer += chunk;
    const parts = buffer.split('\n');
    buffer = parts.pop();
    lines.push(...parts);
  });
  proc.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; });
  const exited = new Promise((resolve) => proc.once('close', (c, s) => resolve({ code: c, signal: s })));
  let done = false;
  exited.then(() => { done = true; });
  t.after(async () => {
    if (!done) {
      proc.kill('SIGKILL');
      await exited;
    }
  });
  return {
    async line(pattern, timeout = 15_000) {
      const until = Date.now() + timeout;
      for (;;) {
        for (const l of lines) {
          const m = pattern.exec(l);
          if (m) return m;
        }
        if (done || Date.now() > until) throw new Error(`no line ${pattern}; stdout ${lines.join('\n')}; stderr ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async kill(signal) {
      if (!done) proc.kill(signal);
      return exited;
    },
  };
}

const SECRETS = ['SID-secret', 'TOKEN-secret', '@example.com'];

test('DEBUG=MemFileStore: load, set, touch, get, destroy, prune, saves, a failed save, a held lock, a damaged file: no id or content', async (t) => {
  const dir = tempDir(t);
  const { code, stdout, stderr } = await runNode([FAULTS_CHILD, 'debug', dir], { env: { DEBUG: 'MemFileStore', DEBUG_COLORS: '0' } });
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^done$/m);
  const output = stdout + stderr;
  for (const pattern of [/loaded v1 snapshot/, /saved \d+ sessions/, /save failed/, /cannot use the snapshot file/, /prune/]) {
    assert.match(output, pattern, 'the path was logged (the scenario reached it)');
  }
  for (const secret of SECRETS) assert.ok(!output.includes(secret), `debug output holds "${secret}":\n${output}`);
});

test('a damaged 1.x file: its refusal (debug output, warning, error message) quotes no id or content', async (t) => {
  const dir = tempDir(t);
  const { code, stdout, stderr } = await runNode([FAULTS_CHILD, 'debug-legacy', dir], { env: { DEBUG: 'MemFileStore', DEBUG_COLORS: '0' } });
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^done$/m);
  const output = stdout + stderr;
  assert.match(output, /1\.x file but is not valid JSON/, 'the damaged file was refused');
  // The parser quotes about 10 characters each side of the damage: look for pieces, not whole secrets.
  const pieces = [...SECRETS, 'TOKEN', '"token"', '"email"', 'example'];
  const leaks = output.split('\n').filter((l) => pieces.some((s) => l.includes(s)));
  assert.deepEqual(leaks, [], 'JSON.parse\'s message quotes the text around the damage, which holds ids and session data');
});

test('ids are never paths: ids with path characters create no file, anywhere', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'data'));
  const file = join(dir, 'data', 'sessions.db');
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await store.ready;
  const ids = ['../escape', '../../../../tmp/evil', '/etc/passwd', 'a/b', '..', 'sessions.db.lock', 'sessions.db.tmp-1-aaaaaaaaaaaa', 'nul\0byte'];
  for (const id of ids) await call(store, 'set', id, session({ id }));
  await store.close();
  assert.deepEqual(readdirSync(dir), ['data']);
  assert.deepEqual(readdirSync(join(dir, 'data')), ['sessions.db']);
  assert.deepEqual(decodeSnapshot(readFileSync(file)).records.map((r) => r.id), ids);
});

test('sessions stored under "__proto__" and "constructor" never reach Object.prototype (set, all, save, load)', async (t) => {
  const before = prototypeSnapshot();
  const file = join(tempDir(t), 'sessions.db');
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await store.ready;
  await call(store, 'set', '__proto__', { cookie: {}, isAdmin: true });
  await call(store, 'set', 'constructor', { cookie: {}, prototype: { isAdmin: true } });
  const all = await call(store, 'all');
  assert.equal(Object.getPrototypeOf(all), Object.prototype);
  assert.equal(all.isAdmin, undefined);
  await store.close();
  const again = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await again.ready;
  const loaded = await call(again, 'all');
  assert.deepEqual(Object.keys(loaded).sort(), ['__proto__', 'constructor']);
  assert.equal({}.isAdmin, undefined);
  assert.equal(prototypeSnapshot(), before);
});
