// Whatever lies at `<saveFile>.lock` is read to learn who holds the file: by the store's start and by the command
// line (inspect, verify, export, import). Anyone who can write the directory can put a link there. The lock was read
// whole and through links: a link to /dev/zero read without end (the process died of memory, std::bad_alloc under a
// 3 GB limit, or took gigabytes without one), a link to a large file read it all. A lock of ours is a small regular
// file: anything else is no lock (taken over, its target never read), and a lock is read only as far as a lock goes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, lstatSync, openSync, readFileSync, readSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, session, tempDir, track } from './fixtures/persist/helpers.mjs';
import { BIN } from './fixtures/cli/helpers.mjs';
import { REPO_ROOT } from './fixtures/faults/lib.mjs';

/** Runs `node <args>` with its address space limited to 3 GB, as a container's memory limit would. */
function limited(args) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, NO_COLOR: '1' };
    delete env.NODE_TEST_CONTEXT;
    const quoted = [process.execPath, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    const proc = spawn('sh', ['-c', `ulimit -v 3000000 && exec ${quoted}`], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (c) => { stdout += c; });
    proc.stderr.setEncoding('utf8').on('data', (c) => { stderr += c; });
    proc.once('error', reject);
    proc.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const START = `
  const { MemFileStore } = require('./dist/index.js');
  const store = new MemFileStore({ saveFile: process.argv[1], savePeriod: 0 });
  store.ready.then(() => console.log('ready'), (err) => console.log('refused', err.code))
    .then(() => store.close()).then(() => console.log('closed'));
`;

test('a lock that is a link to /dev/zero: a start takes the lock over, inspect says no store runs; neither reads it without end', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  symlinkSync('/dev/zero', `${file}.lock`);
  const inspect = await limited([BIN, 'inspect', file, '--json']);
  assert.equal(inspect.signal, null, inspect.stderr);
  // No file, no journal: inspect refuses the missing file; what matters is that it got that far.
  assert.match(inspect.stderr, /no such file/, inspect.stderr);
  const start = await limited(['-e', START, file]);
  assert.equal(start.signal, null, start.stderr);
  assert.equal(start.code, 0, start.stderr);
  assert.equal(start.stdout, 'ready\nclosed\n');
  assert.throws(() => lstatSync(`${file}.lock`), { code: 'ENOENT' }, 'the link was removed, /dev/zero left alone');
});

test('a lock that is a link to a large file: taken over, the target neither read whole nor changed', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  const big = join(dir, 'big.log');
  // 600 MB (a hole: no disk used), holding a lock's text at its start: more than a string may hold once decoded, so a
  // whole read of it failed the start with ERR_STRING_TOO_LONG.
  writeFileSync(big, `${process.pid}\nnot-this-host\n`);
  truncateSync(big, 600 * 1024 * 1024);
  // Not written for an hour: a lock that holds nothing a lock would is taken over once it is this old.
  const old = new Date(Date.now() - 3_600_000);
  utimesSync(big, old, old);
  symlinkSync(big, `${file}.lock`);
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await store.ready;
  assert.ok(lstatSync(`${file}.lock`).isFile(), 'a lock of ours in place of the link');
  await call(store, 'set', 'a', session({ user: 'a' }));
  await store.close();
  assert.equal(lstatSync(big).size, 600 * 1024 * 1024);
  const head = Buffer.alloc(64);
  const fd = openSync(big, 'r');
  readSync(fd, head, 0, 64, 0);
  closeSync(fd);
  assert.ok(head.toString('latin1').startsWith(`${process.pid}\nnot-this-host\n`));
  assert.throws(() => lstatSync(`${file}.lock`), { code: 'ENOENT' });
  assert.ok(readFileSync(file).length > 0);
});

// Each of the two guards above on its own: with links followed, the bounded read alone kept the link tests passing,
// and without the bound, the link refusal alone did.
test('a regular file of 600 MB at the lock name (no link) is read only as far as a lock goes, and taken over', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  writeFileSync(`${file}.lock`, `${process.pid}\nnot-this-host\n`);
  truncateSync(`${file}.lock`, 600 * 1024 * 1024);
  const old = new Date(Date.now() - 3_600_000);
  utimesSync(`${file}.lock`, old, old);
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await store.ready;
  assert.ok(lstatSync(`${file}.lock`).size < 4096, 'a lock of ours in its place');
});

test('a link at the lock name to a file naming a live process of this host is no lock: taken over, the target kept', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  const target = join(dir, 'elsewhere');
  // The test runner's parent: alive, on this host, not this process. Read through the link, it held the file.
  writeFileSync(target, `${process.ppid}\n${hostname()}\n${Date.now()}\n\n\n0\n`);
  const old = new Date(Date.now() - 3_600_000);
  utimesSync(target, old, old);
  symlinkSync(target, `${file}.lock`);
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await store.ready;
  assert.ok(lstatSync(`${file}.lock`).isFile(), 'a lock of ours in place of the link');
  assert.ok(readFileSync(target, 'utf8').startsWith(`${process.ppid}\n`), 'the target is untouched');
});
