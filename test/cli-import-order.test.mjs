// A snapshot lists sessions least recently used first, and a start rebuilds the LRU from that order, so with `max`
// the first to go are the least recently used. Redis (SCAN) and a session-file-store directory (readdir) hand their
// sessions over in no order of use; an import wrote them so, and a store whose `max` is below the count evicted at
// random. A session that expires later was used more recently (express-session moves the expiry on each request
// that touches or saves it), so an import lists them by expiry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, cli, privateRedis, redisClient, sessionFor, tempDir } from './fixtures/cli/helpers.mjs';

// Expiries in minutes from now, in an order that is neither by name nor by expiry.
const MINUTES = { u0: 50, u1: 10, u2: 40, u3: 30, u4: 60, u5: 20 };
const BY_RECENT_USE = Object.keys(MINUTES).sort((a, b) => MINUTES[b] - MINUTES[a]);

async function idsOf(file, options = {}) {
  const store = new MemFileStore({ saveFile: file, ...options });
  await store.ready;
  const ids = await call(store, 'ids');
  await store.close();
  return ids;
}

test('import from Redis lists sessions by expiry: the store rebuilds its LRU from them, max keeps the latest', async (t) => {
  const server = await privateRedis(t);
  if (!server) return;
  const client = await redisClient(t, server.port);
  const now = Date.now();
  for (const [id, minutes] of Object.entries(MINUTES)) {
    await client.set(`sess:${id}`, JSON.stringify(sessionFor(id, minutes * 60_000)), { PXAT: now + minutes * 60_000 });
  }
  const file = join(tempDir(t), 's.snap');
  const result = await cli(['import', `redis://127.0.0.1:${server.port}`, '--into', file]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(await idsOf(file), BY_RECENT_USE, 'most recently used first');
  assert.deepEqual(await idsOf(file, { max: 3 }), BY_RECENT_USE.slice(0, 3));
});

test('import from a session-file-store directory lists sessions by expiry too', async (t) => {
  const dir = tempDir(t);
  const sfs = join(dir, 'sessions');
  mkdirSync(sfs);
  const now = Date.now();
  for (const [id, minutes] of Object.entries(MINUTES)) {
    // As session-file-store saves them: the cookie's expiry moved at the session's last use.
    const session = sessionFor(id, minutes * 60_000);
    writeFileSync(join(sfs, `${id}.json`), JSON.stringify({ ...session, __lastAccess: now }));
  }
  const file = join(dir, 's.snap');
  const result = await cli(['import', sfs, '--into', file]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(await idsOf(file), BY_RECENT_USE);
});
