// The lock: one store per saveFile, in this process or another (a real child process holds it). close()
// releases it; a lock left by a killed process, or by an earlier run with our own pid, never blocks a start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, callError, decodeSnapshot, session, startChild, tempDir, track } from './fixtures/persist/helpers.mjs';

async function refusal(t, saveFile) {
  const store = track(t, new MemFileStore({ saveFile, savePeriod: 0 }));
  const err = await store.ready.then(() => assert.fail('ready resolved: two stores own the same file'), (e) => e);
  return { store, err };
}

async function open(t, saveFile) {
  const store = track(t, new MemFileStore({ saveFile, savePeriod: 0 }));
  await store.ready;
  return store;
}

const lockOwner = (file) => readFileSync(`${file}.lock`, 'utf8').split('\n').slice(0, 2);

test('a second store on the same file in this process is refused with ERR_SNAPSHOT_LOCKED', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const first = await open(t, file);
  assert.deepEqual(lockOwner(file), [String(process.pid), hostname()], 'the lock file names pid and host');
  await call(first, 'set', 'a', session({ user: 'alice' }));

  const { store: second, err } = await refusal(t, file);
  assert.equal(err.code, 'ERR_SNAPSHOT_LOCKED');
  assert.ok(err.message.includes(file), err.message);
  assert.equal((await callError(second, 'get', 'a')), err);
  await second.close();

  // The refused store changed nothing: the first one still owns the file and saves to it.
  assert.equal(existsSync(`${file}.lock`), true);
  await first.flush();
  assert.deepEqual(decodeSnapshot(readFileSync(file)).records.map((r) => r.id), ['a']);

  await first.close();
  assert.equal(existsSync(`${file}.lock`), false, 'close() removes the lock file');
  const third = await open(t, file);
  assert.deepEqual(await call(third, 'get', 'a'), session({ user: 'alice' }));
});

test('the same file under another spelling of its path (relative, with "./") is refused too', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  await open(t, file);
  for (const spelling of [relative(process.cwd(), file), `${dir}/./sessions.db`, `${dir}//sessions.db`]) {
    const { err } = await refusal(t, spelling);
    assert.equal(err.code, 'ERR_SNAPSHOT_LOCKED', spelling);
  }
});

test('the same file reached through a symlinked directory is refused too', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'real'));
  symlinkSync(join(dir, 'real'), join(dir, 'link'));
  const first = await open(t, join(dir, 'real', 'sessions.db'));
  const { err } = await refusal(t, join(dir, 'link', 'sessions.db'));
  assert.equal(err?.code, 'ERR_SNAPSHOT_LOCKED', 'a second store writing the same file through the link');
  assert.equal(existsSync(join(dir, 'real', 'sessions.db.lock')), true, 'the first store keeps its lock');
  await first.close();
});

test('a file held by another live process is refused; after that process closes, it opens', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const child = startChild(t, 'hold', [file]);
  const [, pid] = await child.line(/^ready (\d+)$/);
  assert.deepEqual(lockOwner(file), [pid, hostname()]);

  const { err } = await refusal(t, file);
  assert.equal(err.code, 'ERR_SNAPSHOT_LOCKED');
  assert.ok(err.message.includes(file), err.message);
  assert.ok(err.message.includes(pid), `the message names the holder's pid ${pid}: ${err.message}`);

  // SIGTERM: the child's closeOnSignals handler closes the store (releasing the lock) and exits.
  assert.deepEqual(await child.kill('SIGTERM'), { code: null, signal: 'SIGTERM' });
  assert.equal(existsSync(`${file}.lock`), false);
  await open(t, file);
  assert.deepEqual(lockOwner(file), [String(process.pid), hostname()]);
});

test('a lock left by a process killed with SIGKILL does not block the restart', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const child = startChild(t, 'hold', [file]);
  const [, pid] = await child.line(/^ready (\d+)$/);
  assert.deepEqual(await child.kill('SIGKILL'), { code: null, signal: 'SIGKILL' });
  assert.deepEqual(lockOwner(file), [pid, hostname()], 'the killed process left its lock behind');

  const store = await open(t, file);
  assert.deepEqual(lockOwner(file), [String(process.pid), hostname()], 'the stale lock was taken over');
  await call(store, 'set', 'a', session({ user: 'alice' }));
  await store.close();
  assert.equal(existsSync(`${file}.lock`), false);
});

test('a child process is refused while this process holds the file', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  await open(t, file);
  const child = startChild(t, 'hold', [file]);
  await child.line(/^refused ERR_SNAPSHOT_LOCKED$/);
  assert.deepEqual(lockOwner(file), [String(process.pid), hostname()]);
});

test('a lock file with our own pid that no store here holds (an earlier run, as after a container restart) is taken over', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  writeFileSync(`${file}.lock`, `${process.pid}\n${hostname()}\n${Date.now() - 60_000}\n`, { mode: 0o600 });
  const store = await open(t, file);
  await call(store, 'set', 'a', session({ user: 'alice' }));
  await store.close();
  assert.equal(existsSync(`${file}.lock`), false);
  assert.deepEqual(decodeSnapshot(readFileSync(file)).records.map((r) => r.id), ['a']);
});

test('a lock written on another host is refused while fresh, and taken over once not refreshed for 30 s', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  writeFileSync(`${file}.lock`, `4242\nother-host.example\n${Date.now()}\n`);
  const { store: refused, err } = await refusal(t, file);
  assert.equal(err.code, 'ERR_SNAPSHOT_LOCKED');
  assert.ok(err.message.includes('other-host.example'), err.message);
  await refused.close();

  const past = new Date(Date.now() - 31_000);
  utimesSync(`${file}.lock`, past, past);
  const store = await open(t, file);
  assert.deepEqual(lockOwner(file), [String(process.pid), hostname()], 'the stale foreign lock was replaced by ours');
  await store.close();
});

// A pid is only its owner's while the owner lives. After a reboot (a power cut), the dead owner's pid is often held by
// some daemon started at boot, and a check of the pid alone refused every restart of the app until someone removed
// the lock by hand. The live process must be the one that wrote the lock.
test('a lock left by a killed process whose pid now belongs to another live process (pid reused) is taken over', { skip: process.platform !== 'linux' && 'reads /proc' }, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const holder = startChild(t, 'hold', [file]);
  const [, pid] = await holder.line(/^ready (\d+)$/);
  await holder.kill('SIGKILL');
  // Another process now runs under the dead owner's pid: we cannot make the kernel reuse it, so the lock is given the
  // pid of a live process started after the lock was written, which is what a reuse looks like.
  const other = spawn('sleep', ['60'], { stdio: 'ignore' });
  t.after(() => other.kill('SIGKILL'));
  await once(other, 'spawn');
  writeFileSync(`${file}.lock`, readFileSync(`${file}.lock`, 'utf8').replace(`${pid}\n`, `${other.pid}\n`));
  assert.equal(lockOwner(file)[0], String(other.pid));

  const store = await open(t, file);
  assert.deepEqual(lockOwner(file), [String(process.pid), hostname()], 'the stale lock was taken over');
  assert.equal(other.exitCode, null, 'the process that reused the pid is left alone');
  await store.close();
});

test('a lock naming a live process that did write it is still refused, from this process and from a child', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const holder = startChild(t, 'hold', [file]);
  const [, pid] = await holder.line(/^ready (\d+)$/);
  const { err } = await refusal(t, file);
  assert.match(err.message, new RegExp(`running process ${pid}`));
  const second = startChild(t, 'hold', [file]);
  await second.line(/^refused ERR_SNAPSHOT_LOCKED$/);
  assert.deepEqual(lockOwner(file), [pid, hostname()]);
});
