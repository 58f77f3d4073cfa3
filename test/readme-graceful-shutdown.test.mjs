// The README's "Graceful shutdown" snippet, run as written: an express app with express-session and our store in a
// child process, its signal handler taken from the README. A login still being served when SIGTERM arrives must be
// answered and kept: the README says "close the HTTP server, then the store ... so nothing is lost".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const README = new URL('../README.md', import.meta.url);

/** The code block of the README's "Graceful shutdown" section. */
function shutdownSnippet() {
  const text = readFileSync(README, 'utf8');
  const section = text.slice(text.indexOf('### Graceful shutdown'));
  const block = /```js\n([\s\S]*?)```/.exec(section);
  assert.ok(block, 'the section has a js code block');
  assert.match(block[1], /app\.listen\(3000\)/, 'the snippet listens on port 3000');
  return block[1];
}

/** The app: a login whose response takes 300 ms (a slow password check), and a page showing who is logged in. */
function appSource(snippet) {
  return `
import express from ${JSON.stringify(import.meta.resolve('express'))};
import session from ${JSON.stringify(import.meta.resolve('express-session'))};
import { MemFileStore } from ${JSON.stringify(import.meta.resolve('express-memfilestore'))};
const store = new MemFileStore({ saveFile: process.argv[2] });
await store.ready;
const app = express();
app.use(session({ name: 'sid', store, secret: 'graceful shutdown test', resave: false, saveUninitialized: false }));
app.post('/login', (req, res) => {
  req.session.user = 'ada';
  console.log('login received');
  setTimeout(() => res.json({ user: 'ada' }), 300);
});
app.get('/me', (req, res) => res.json({ user: req.session.user ?? null }));
${snippet.replace('app.listen(3000)', 'app.listen(0, "127.0.0.1")')}
server.once('listening', () => console.log('listening ' + server.address().port));
`;
}

function start(t, script, file) {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, [script, file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; });
  const exited = once(child, 'close');
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const lines = createInterface({ input: child.stdout });
  const waitFor = (pattern) => new Promise((resolve, reject) => {
    lines.on('line', (line) => {
      const m = pattern.exec(line);
      if (m) resolve(m);
    });
    exited.then(() => reject(new Error(`the app exited before printing ${pattern}; stderr:\n${stderr}`)));
  });
  return { child, exited, waitFor, stderr: () => stderr };
}

/** One HTTP request on its own connection (no keep-alive): `{ status, cookie, body }` or the connection's error. */
function send(port, method, path, cookie) {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false, headers: cookie ? { cookie } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, cookie: res.headers['set-cookie']?.[0]?.split(';')[0], body }));
      res.on('error', (err) => resolve({ error: err.code ?? err.message }));
    });
    req.on('error', (err) => resolve({ error: err.code ?? err.message }));
    req.end();
  });
}

test('README "Graceful shutdown": a login in flight at SIGTERM is answered, and still logged in after the restart', { timeout: 30_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'memfilestore-graceful-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'app.mjs');
  writeFileSync(script, appSource(shutdownSnippet()));
  const file = join(dir, 'sessions.db');

  const first = start(t, script, file);
  const [, port] = await first.waitFor(/^listening (\d+)$/);
  const received = first.waitFor(/^login received$/);
  const login = send(port, 'POST', '/login');
  await received;
  first.child.kill('SIGTERM');
  const answered = await login;
  assert.equal(answered.status, 200, `the login in flight was answered: ${JSON.stringify(answered)}; stderr:\n${first.stderr()}`);
  assert.ok(answered.cookie, 'with its session cookie');
  const [code] = await first.exited;
  assert.equal(code, 0, first.stderr());

  const second = start(t, script, file);
  const [, port2] = await second.waitFor(/^listening (\d+)$/);
  const me = await send(port2, 'GET', '/me', answered.cookie);
  assert.equal(me.status, 200, me.body);
  assert.deepEqual(JSON.parse(me.body), { user: 'ada' }, 'the login that was answered survived the restart');
  second.child.kill('SIGTERM');
  await second.exited;
});
