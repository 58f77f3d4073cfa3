// The store under process managers, each played with the signals and order it uses (the README's "Restarts and
// deploys"): pm2's cluster-mode reload and restart (this test is the cluster primary, as pm2's daemon is), pm2's
// SIGINT then SIGKILL after its kill_timeout, nodemon's SIGUSR2 restart, node --watch (the real one) and an app that
// calls process.exit() without close(). pm2 and nodemon are not installed: their sequences are taken from their
// sources (pm2 lib/God/Reload.js and lib/ProcessContainer.js, nodemon's default restart signal SIGUSR2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import cluster from 'node:cluster';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemFileStore } from 'express-memfilestore';
import { call, tempDir, track } from './fixtures/persist/helpers.mjs';

const WORKER = fileURLToPath(new URL('./fixtures/upgrade/cluster.mjs', import.meta.url));
const MANAGED = fileURLToPath(new URL('./fixtures/upgrade/managed.mjs', import.meta.url));
const SIGNALS_CHILD = fileURLToPath(new URL('./fixtures/persist/signals-child.mjs', import.meta.url));
const TIMEOUT = { timeout: 60_000 };

async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A cluster worker of fixtures/upgrade/cluster.mjs, forked as pm2's cluster mode forks one. */
function forkWorker(t, file, port, env = {}) {
  cluster.setupPrimary({ exec: WORKER, args: [file], silent: true });
  const worker = cluster.fork({ PORT: String(port), NODE_TEST_CONTEXT: '', ...env });
  let stderr = '';
  worker.process.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => worker.once('exit', (code, signal) => resolve({ code, signal })));
  let gone = false;
  exited.then(() => { gone = true; });
  t.after(async () => {
    if (!gone) worker.process.kill('SIGKILL');
    await exited;
  });
  return {
    worker,
    exited,
    stderr: () => stderr,
    alive: () => !gone,
    listening: once(worker, 'listening'),
    store: new Promise((resolve) => worker.on('message', (m) => { if (m?.store !== undefined) resolve(m.store); })),
  };
}

/** A browser: keeps the session cookie; `status` and the JSON body (or nothing for express's HTML 500). */
function browser(port) {
  let cookie;
  return async (method, path) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers: cookie ? { cookie } : {} });
    const set = res.headers.getSetCookie().find((c) => c.startsWith('sid='));
    if (set) cookie = set.split(';')[0];
    const text = await res.text();
    return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined };
  };
}

/** The sessions a new start on `file` loads. */
async function loaded(t, file) {
  const store = track(t, new MemFileStore({ saveFile: file, savePeriod: 0 }));
  await store.ready;
  return (await call(store, 'ids')).sort();
}

/** The running worker of a cluster-mode app (pm2's ProcessContainer around it), alice logged in through it. */
async function runningApp(t) {
  const file = join(tempDir(t), 'sessions.db');
  const port = await freePort();
  const old = forkWorker(t, file, port, { PM2_CONTAINER: '1' });
  assert.equal(await old.store, 'ready');
  await old.listening;
  const alice = browser(port);
  assert.equal((await alice('POST', '/login/alice')).status, 200);
  return { file, port, old, alice };
}

// pm2 reload, cluster mode (Reload.js, hardReload): fork the new worker, wait for its 'listening', then stop the old one
// (SIGINT). The new worker's store is refused while the old one runs; under pm2's ProcessContainer the unhandled
// rejection is only logged, so the worker stays online, listening, with a store that fails every session request.
test('pm2 reload in cluster mode: the new worker is online without its store, and requests with a session get 500s', TIMEOUT, async (t) => {
  const { file, port, old, alice } = await runningApp(t);

  const next = forkWorker(t, file, port, { PM2_CONTAINER: '1' });
  await next.listening;
  assert.equal(await next.store, 'ERR_SNAPSHOT_LOCKED');
  old.worker.process.kill('SIGINT');
  assert.deepEqual(await old.exited, { code: null, signal: 'SIGINT' }, 'the old worker saved and ended by its signal');

  // Only the new worker is left to answer.
  const known = await alice('GET', '/whoami');
  assert.equal(known.status, 500, `a known user gets a 500: ${JSON.stringify(known)}`);
  // express-session saves a session at the response's end and sends the response even when that save fails: the
  // login answers 200 with its cookie, and the user's next request gets the 500.
  const bob = browser(port);
  assert.equal((await bob('POST', '/login/bob')).status, 200);
  assert.equal((await bob('GET', '/whoami')).status, 500, 'the user who logged in gets a 500 next');
  assert.deepEqual(await browser(port)('GET', '/whoami'), { status: 200, body: { user: null, pid: next.worker.process.pid } },
    'a request that touches no session is served');
  assert.equal(next.alive(), true, 'the worker stays online');
  assert.match(next.stderr(), /unhandledRejection[\s\S]*ERR_SNAPSHOT_LOCKED|unhandledRejection[\s\S]*is in use by/);
  next.worker.process.kill('SIGKILL');
  await next.exited;
  assert.equal((await loaded(t, file)).length, 1, "the old worker's final save holds alice's session");
});

test('pm2 reload in cluster mode, the app exiting on a refused store: the new worker ends (code 1) instead of serving 500s', TIMEOUT, async (t) => {
  const { file, port } = await runningApp(t);
  const next = forkWorker(t, file, port, { PM2_CONTAINER: '1', EXIT_ON_REFUSAL: '1' });
  assert.deepEqual(await next.exited, { code: 1, signal: null });
  assert.match(next.stderr(), /is in use by running process/);
});

// pm2 restart (and reload in fork mode, which pm2 turns into a restart): stop the old process, then start the new one.
test('pm2 restart in cluster mode: SIGINT, exit, then the new worker starts on every session', TIMEOUT, async (t) => {
  const { file, port, old, alice } = await runningApp(t);
  old.worker.process.kill('SIGINT');
  await old.exited;
  const next = forkWorker(t, file, port, { PM2_CONTAINER: '1' });
  assert.equal(await next.store, 'ready');
  await next.listening;
  assert.deepEqual((await alice('GET', '/whoami')).body, { user: 'alice', pid: next.worker.process.pid });
});

/** Runs fixtures/upgrade/managed.mjs (or `argv` before it, as node --watch); `line(re)` waits for a line of its output. */
function managed(t, args, argv = [MANAGED]) {
  // Without the test runner's variable: node --watch under it reports to the runner instead of restarting.
  const env = { ...process.env, NODE_TEST_CONTEXT: undefined };
  const proc = spawn(process.execPath, [...argv, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  const lines = [];
  const waiting = [];
  createInterface({ input: proc.stdout }).on('line', (l) => { lines.push(l); for (const w of waiting.splice(0)) w(); });
  const exited = new Promise((resolve) => proc.once('close', (code, signal) => resolve({ code, signal })));
  t.after(async () => {
    // node --watch ends its app and waits for it on SIGTERM; SIGKILL would leave the app running, holding the pipes.
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(argv.includes('--watch') ? 'SIGTERM' : 'SIGKILL');
    await exited;
  });
  const line = async (re) => {
    for (;;) {
      const i = lines.findIndex((l) => re.test(l));
      if (i !== -1) return lines.splice(0, i + 1).pop();
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`ended before ${re}: ${stderr}`);
      await Promise.race([new Promise((resolve) => waiting.push(resolve)), exited]);
    }
  };
  return { proc, line, exited, stderr: () => stderr };
}

// nodemon restarts the app with SIGUSR2 (its default `signal`), waits for it to exit, then starts it again. SIGUSR2's
// default action ends the process at once: without the journal, the sessions since the last snapshot were lost unless
// closeOnSignals names SIGUSR2.
for (const [label, options, kept] of [
  ['journal: false, closeOnSignals with SIGUSR2: the final save keeps them', { journal: false, closeOnSignals: ['SIGTERM', 'SIGINT', 'SIGUSR2'] }, true],
  ['journal: false, closeOnSignals: true: SIGUSR2 ends it unsaved, they are lost', { journal: false, closeOnSignals: true }, false],
  ['the journal on, closeOnSignals: true: the journal keeps them', { closeOnSignals: true }, true],
]) {
  test(`nodemon's restart (SIGUSR2), ${label}`, TIMEOUT, async (t) => {
    const file = join(tempDir(t), 'sessions.db');
    const app = managed(t, [file, JSON.stringify(options), 'alice']);
    await app.line(/^set alice$/);
    app.proc.kill('SIGUSR2');
    assert.deepEqual(await app.exited, { code: null, signal: 'SIGUSR2' });
    assert.deepEqual(await loaded(t, file), kept ? ['alice'] : []);
  });
}

// pm2 stops with SIGINT, then SIGKILL once its kill_timeout (1600 ms by default) has passed: a final save longer than
// that is cut. The journal keeps what was acknowledged (the final save is held here until the SIGKILL).
test('pm2 kill_timeout: SIGKILL during the final save of a SIGINT; the next start replays the journal', TIMEOUT, async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const child = spawn(process.execPath, [SIGNALS_CHILD, 'repeat', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  t.after(() => { child.kill('SIGKILL'); });
  let out = '';
  const seen = (word) => new Promise((resolve) => {
    const check = () => { if (out.includes(word)) resolve(); };
    child.stdout.on('data', (d) => { out += d; check(); });
    check();
  });
  await seen('ready');
  child.kill('SIGINT');
  await seen('saving');
  child.kill('SIGKILL');
  assert.deepEqual(await exited, { code: null, signal: 'SIGKILL' });
  assert.deepEqual(await loaded(t, file), ['sid']);
});

// An app that calls process.exit() without close() (its own SIGTERM handler, a fatal error): for the store a crash.
for (const [label, options, kept] of [['the journal on: every acknowledged session is kept', {}, true], ['journal: false: the sessions since the last snapshot are lost', { journal: false }, false]]) {
  test(`process.exit() without close(), ${label}`, TIMEOUT, async (t) => {
    const file = join(tempDir(t), 'sessions.db');
    const app = managed(t, [file, JSON.stringify(options), 'alice', 'exit']);
    assert.deepEqual(await app.exited, { code: 0, signal: null });
    assert.deepEqual(await loaded(t, file), kept ? ['alice'] : []);
  });
}

// node --watch (the real one): on a change it sends SIGTERM and waits for the process to exit before it starts the new
// one, so the restart is never refused; with closeOnSignals the final save is written before.
for (const [label, options, kept] of [
  ['closeOnSignals: true, journal: false: the final save keeps them', { journal: false, closeOnSignals: true }, 1],
  ['no closeOnSignals, journal: false: SIGTERM ends it unsaved', { journal: false }, 0],
  ['no closeOnSignals, the journal on: the journal keeps them', {}, 1],
]) {
  test(`node --watch restart on a change, ${label}`, TIMEOUT, async (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'sessions.db');
    const entry = join(dir, 'app.mjs');
    writeFileSync(entry, `import ${JSON.stringify(MANAGED)};\n`);
    const app = managed(t, [file, JSON.stringify(options), 'alice'], ['--watch', '--watch-preserve-output', entry]);
    assert.equal(await app.line(/^(started|refused)/), 'started 0');
    await app.line(/^set alice$/);
    appendFileSync(entry, '// changed\n');
    assert.equal(await app.line(/^(started|refused)/), `started ${kept}`);
    await app.line(/^set alice$/);
  });
}
