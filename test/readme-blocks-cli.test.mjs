// The README's command-line blocks, taken from README.md as it is and run with `sh` in a fresh project where npm
// installed the packed package (so `npx express-memfilestore` is its bin), against real files and a private
// redis-server: the examples of "Command line", the way back to 1.x, and the move to Redis and back, where the app
// switched to connect-redis with the README's own block keeps every user logged in.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { block, getJson, login, packedProject, removeProject, ROOT, runIn, startApp } from './fixtures/readme/project.mjs';
import { privateRedis } from './fixtures/cli/helpers.mjs';

const SECRET = { SESSION_SECRET: 'readme cli blocks test' };
const LISTENING = /^listening .*"port":(\d+)/;
const sh = (cwd, script, env) => runIn(cwd, 'sh', ['-c', script], { env: { npm_config_offline: 'true', ...env } });

let project;
before(async () => {
  project = await packedProject();
});
after(() => removeProject(project));

/** The README's "Usage" (CommonJS) block as an app with a login, its file at `./data/sessions.snapshot` in `dir`. */
function usageApp(dir) {
  mkdirSync(join(dir, 'data'), { recursive: true });
  writeFileSync(join(dir, 'app.js'), `const express = require('express');
const app = express();
${block(/^const session = require\('express-session'\);/).code}
app.post('/login', express.urlencoded({ extended: false }), (req, res) => { req.session.user = req.body.name; res.json({ ok: true }); });
app.get('/me', (req, res) => res.json({ user: req.session.user ?? null }));
const server = app.listen(0, '127.0.0.1', () => console.log('listening ' + JSON.stringify(server.address())));
`);
  return 'app.js';
}

/** Logs `users` in to the Usage app in `dir` and stops it with SIGTERM (it has no handler): their cookies. */
async function loggedIn(t, dir, users) {
  const app = startApp(t, dir, usageApp(dir), { env: SECRET });
  const [, port] = await app.line(LISTENING);
  const cookies = {};
  for (const user of users) cookies[user] = await login(port, user);
  app.proc.kill('SIGTERM');
  await app.exited;
  return cookies;
}

// Deadlines here only bound a hang: this test took 98 s of its former 120 s under load (load average 16 on two cores).
test('"Command line": each example line runs as written, one after the other, against real files and a server', { timeout: 600_000 }, async (t) => {
  const server = await privateRedis(t);
  if (!server) return;
  const dir = join(project, 'cli');
  await loggedIn(t, dir, ['ada', 'grace']);
  const lines = block(/^npx express-memfilestore verify sessions\.db/).code.trim().split('\n');
  assert.equal(lines.length, 5);
  for (const line of lines) {
    const command = line.replace(/\s+#.*$/, '').replace(':6379', `:${server.port}`);
    const result = await sh(join(dir, 'data'), command.replaceAll('sessions.db', 'sessions.snapshot'));
    assert.equal(result.code, 0, `${line}\n${result.stdout}${result.stderr}`);
    if (/inspect .*--json/.test(command)) {
      assert.equal(JSON.parse(result.stdout).sessions, 2);
    }
  }
  // "exit 0 yes, 1 no (says where: record, byte; or the checksum)": a cut file breaks at a record, an altered byte in a
  // value only the whole file's checksum sees.
  assert.match(lines[0], /# is it whole\? exit 0 yes, 1 no \(says where: record, byte; or the checksum\)$/);
  const bytes = readFileSync(join(dir, 'data/restored.db')); // the snapshot import wrote (the app's is in its journal)
  const verify = lines[0].replace(/\s+#.*$/, '');
  writeFileSync(join(dir, 'data/cut.db'), bytes.subarray(0, bytes.indexOf('grace')));
  const cut = await sh(join(dir, 'data'), verify.replace('sessions.db', 'cut.db'));
  assert.equal(cut.code, 1);
  assert.match(cut.stderr, /record \d+ at byte \d+/);
  const altered = Buffer.from(bytes);
  altered[altered.indexOf('grace') + 1] ^= 1;
  writeFileSync(join(dir, 'data/altered.db'), altered);
  const damaged = await sh(join(dir, 'data'), verify.replace('sessions.db', 'altered.db'));
  assert.equal(damaged.code, 1);
  assert.match(damaged.stderr, /checksum mismatch/);
});

test('"Going back to 1.x": the export pipe writes a file of sessions that 1.x loads', { timeout: 60_000 }, async (t) => {
  const dir = join(project, 'rollback');
  await loggedIn(t, dir, ['ada']);
  const { code } = block(/^npx express-memfilestore export sessions\.db --out - \|/);
  const work = join(dir, 'data');
  const result = await sh(work, code.replace('sessions.db', 'sessions.snapshot'));
  assert.equal(result.code, 0, result.stderr);
  const sessions = JSON.parse(readFileSync(join(work, 'sessions.1x.json'), 'utf8'));
  assert.deepEqual(Object.values(sessions).map((s) => s.user), ['ada']);
  const oneX = join(ROOT, 'bench/node_modules/express-memfilestore-1');
  if (!existsSync(oneX)) return t.skip('express-memfilestore 1.x is in bench/node_modules (npm --prefix bench install)');
  const require = createRequire(join(ROOT, 'package.json'));
  const OneX = require(oneX)(require('express-session'));
  const store = new OneX({ saveFile: join(work, 'sessions.1x.json') });
  const [sid] = Object.keys(sessions);
  const loaded = await new Promise((resolve, reject) => store.get(sid, (err, s) => (err ? reject(err) : resolve(s))));
  store.stopInterval?.();
  store.stopSaveInterval?.();
  assert.equal(loaded.user, 'ada');
});

test('"Outgrowing one process": migrate, the connect-redis block, and the way back keep every user logged in', { timeout: 600_000 }, async (t) => {
  const password = 'readme password';
  const server = await privateRedis(t, ['--requirepass', password]);
  if (!server) return;
  const dir = join(project, 'redis');
  const cookies = await loggedIn(t, dir, ['ada', 'grace']);
  writeFileSync(join(dir, 'redis-password'), `${password}\n`);
  const paths = (code) => code.replaceAll('/var/lib/myapp/sessions.db', 'data/sessions.snapshot')
    .replaceAll('redis.internal:6379', `127.0.0.1:${server.port}`).replaceAll('/run/secrets/redis', 'redis-password');

  // 2. Migrate.
  const migrate = await sh(dir, paths(block(/^npx express-memfilestore migrate \/var\/lib/).code));
  assert.equal(migrate.code, 0, migrate.stderr);

  // 3. The app switched to connect-redis with the README's block ("name and secret as before").
  const redisApp = block(/^import \{ createClient \} from 'redis';/).code;
  writeFileSync(join(dir, 'redis-app.mjs'), `import express from 'express';
import session from 'express-session';
const app = express();
const SECRET = process.env.SESSION_SECRET;
${redisApp}
app.post('/login', express.urlencoded({ extended: false }), (req, res) => { req.session.user = req.body.name; res.json({ ok: true }); });
app.get('/me', (req, res) => res.json({ user: req.session.user ?? null }));
const server = app.listen(0, '127.0.0.1', () => console.log('listening ' + JSON.stringify(server.address())));
`);
  const env = { ...SECRET, REDIS_URL: `redis://:${encodeURIComponent(password)}@127.0.0.1:${server.port}` };
  const onRedis = startApp(t, dir, 'redis-app.mjs', { env });
  const [, port] = await onRedis.line(LISTENING);
  // 4. "Every user is still logged in."
  assert.deepEqual(await getJson(port, '/me', cookies.ada), { user: 'ada' });
  assert.deepEqual(await getJson(port, '/me', cookies.grace), { user: 'grace' });
  // A visit without a login makes no session, as with the session options of the samples above.
  const anonymous = await fetch(`http://127.0.0.1:${port}/me`);
  assert.equal(anonymous.headers.get('set-cookie'), null, 'saveUninitialized: false, as the samples above');
  cookies.linus = await login(port, 'linus');
  onRedis.proc.kill('SIGKILL');
  await onRedis.exited;
  assert.doesNotMatch(onRedis.stderr(), /deprecated/, 'the block keeps the session options of the samples above');

  // The way back: import, and the app on express-memfilestore again.
  const back = await sh(dir, paths(block(/^npx express-memfilestore import redis:/).code));
  assert.equal(back.code, 0, back.stderr);
  const onFile = startApp(t, dir, 'app.js', { env: SECRET });
  const [, port2] = await onFile.line(LISTENING);
  for (const user of ['ada', 'grace', 'linus']) assert.deepEqual(await getJson(port2, '/me', cookies[user]), { user });
});
