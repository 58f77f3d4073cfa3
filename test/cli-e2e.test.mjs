// The way out and the way back, end to end over real HTTP: users log in to an express app on our store; the app
// stops; `migrate` copies the sessions to a private redis-server; the same app on connect-redis (same secret, same
// cookie name) knows every user, expiries within a second; `import redis://` into a new file, and the app on our
// store again knows everyone. Once with connect-redis 9 and once with 10.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createClient } from 'redis';
import { MemFileStore } from 'express-memfilestore';
import { createApp } from '../examples/app.mjs';
import { cli, privateRedis, tempDir } from './fixtures/cli/helpers.mjs';

const SECRET = 'end to end secret';
const USERS = 40;

async function serve(t, store) {
  const server = createApp({ store, secret: SECRET }).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  // Closed after the test even when an assertion fails first (closing twice is harmless).
  t.after(() => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  const base = `http://127.0.0.1:${server.address().port}`;
  const close = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return { base, close };
}

async function login(base, name) {
  const res = await fetch(`${base}/login`, {
    method: 'POST', body: new URLSearchParams({ name }), redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(res.status, 303);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('sid='));
  assert.ok(cookie, 'a session cookie named sid');
  return cookie.split(';')[0];
}

async function me(base, cookie) {
  const res = await fetch(`${base}/api/me`, { headers: { cookie } });
  return res.json();
}

/** sid → expiry in ms, from an export of `file`. */
async function expiries(file) {
  const result = await cli(['export', file, '--out', '-']);
  assert.equal(result.code, 0, result.stderr);
  return new Map(result.stdout.trim().split('\n').map((l) => JSON.parse(l)).map((l) => [l.sid, l.expires]));
}

const sidOf = (cookie) => {
  const raw = decodeURIComponent(cookie.slice('sid='.length));
  return raw.slice(2, raw.lastIndexOf('.'));
};

// connect-redis 10 declares Node >= 22 (README: Node 20 users stay on 9); it runs here on Node 20 too, so every
// suite of .ci/run checks both majors read what migrate writes and write what import reads.
for (const { major, load } of [{ major: 9, load: () => import('connect-redis') }, { major: 10, load: () => import('connect-redis-10') }]) {
  test(`users stay logged in from our store to connect-redis ${major} and back`, async (t) => {
    const { RedisStore } = await load();
    await loggedInThroughout(t, RedisStore);
  });
}

async function loggedInThroughout(t, RedisStore) {
  const redis = await privateRedis(t);
  if (!redis) return;
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');

  // 1. The app on our store; users log in and use it.
  const ours = new MemFileStore({ saveFile: file });
  t.after(() => ours.close());
  let app = await serve(t, ours);
  const users = [];
  for (let i = 0; i < USERS; i++) {
    const cookie = await login(app.base, `user-${i}`);
    users.push({ name: `user-${i}`, cookie });
  }
  for (const user of users.slice(0, 10)) await fetch(`${app.base}/`, { headers: { cookie: user.cookie } });
  const seen = await Promise.all(users.map((u) => me(app.base, u.cookie)));
  assert.deepEqual(seen.map((s) => s.user), users.map((u) => u.name));
  await app.close();
  await ours.close();
  const original = await expiries(file);
  assert.equal(original.size, USERS);

  // 2. Migrate.
  const url = `redis://127.0.0.1:${redis.port}`;
  const migrated = await cli(['migrate', file, '--to', url, '--json']);
  assert.equal(migrated.code, 0, migrated.stderr);
  assert.equal(JSON.parse(migrated.stdout).verified, USERS);

  // 3. The same app on connect-redis: same secret, same cookie name.
  const client = createClient({ url });
  client.on('error', () => {});
  await client.connect();
  t.after(() => client.close());
  for (const user of users) {
    const at = await client.pExpireTime(`sess:${sidOf(user.cookie)}`);
    assert.ok(Math.abs(at - original.get(sidOf(user.cookie))) <= 1000, `expiry ${at} vs ${original.get(sidOf(user.cookie))}`);
  }
  app = await serve(t, new RedisStore({ client }));
  const onRedis = await Promise.all(users.map((u) => me(app.base, u.cookie)));
  assert.deepEqual(onRedis.map((s) => s.user), users.map((u) => u.name));
  assert.deepEqual(onRedis.slice(0, 10).map((s) => s.views), Array(10).fill(1));
  await app.close();
  // connect-redis touched each session (express-session's touch slides the expiry to now + maxAge).
  const onServer = new Map();
  for (const user of users) {
    const sid = sidOf(user.cookie);
    onServer.set(sid, await client.pExpireTime(`sess:${sid}`));
    assert.ok(onServer.get(sid) >= original.get(sid) - 1000);
  }

  // 4. The way back: import from Redis into a new file, the app on our store again.
  const back = join(dir, 'back.db');
  const imported = await cli(['import', url, '--into', back, '--json']);
  assert.equal(imported.code, 0, imported.stderr);
  assert.equal(JSON.parse(imported.stdout).imported, USERS);
  const returned = await expiries(back);
  for (const [sid, at] of onServer) assert.equal(returned.get(sid), at);
  const again = new MemFileStore({ saveFile: back });
  t.after(() => again.close());
  app = await serve(t, again);
  const onOurs = await Promise.all(users.map((u) => me(app.base, u.cookie)));
  assert.deepEqual(onOurs.map((s) => s.user), users.map((u) => u.name));
  await app.close();
  await again.close();
}
