// migrate's verification stays honest: a key that another actor changed or removed between the write and the read-back
// fails the migration (exit 1, with the count and how to rerun), whatever the speed-ups in how it writes and reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cli, privateRedis, redisClient, sessionFor, tempDir, writeStore } from './fixtures/cli/helpers.mjs';

const MARK = 'Vf8PrivateSid';

function sessions(count) {
  const out = {};
  for (let i = 0; i < count; i++) out[`${MARK}${i}`] = sessionFor(i, 3_600_000 + i * 1000);
  return out;
}

test('keys evicted by the server after they were written fail the verification', async (t) => {
  const server = await privateRedis(t);
  if (!server) return;
  const client = await redisClient(t, server.port);
  const dir = tempDir(t);
  const file = join(dir, 's.snap');
  await writeStore(file, sessions(3000));
  // Room for a third of the sessions: the server accepts every write and evicts the oldest keys to make room.
  const used = Number(/used_memory:(\d+)/.exec(await client.info('memory'))[1]);
  await client.configSet({ maxmemory: String(used + 400_000), 'maxmemory-policy': 'allkeys-lru' });
  const result = await cli(['migrate', file, '--to', `redis://127.0.0.1:${server.port}`, '--batch', '100']);
  assert.equal(result.code, 1, result.stderr);
  const failed = /verification failed: (\d+) of 3000 sessions written .* do not have the value or expiry sent.*rerun with --replace/.exec(result.stderr);
  assert.ok(failed, result.stderr);
  // Each key found missing was evicted; the server may evict more after the read-back (any command can evict).
  assert.ok(Number(failed[1]) >= 1 && Number(failed[1]) <= 3000 - await client.dbSize(), failed[1]);
  assert.ok(!result.stderr.includes(MARK));
});

test('a value or an expiry another client changes after the write fails the verification', async (t) => {
  const server = await privateRedis(t, ['--notify-keyspace-events', 'E$']);
  if (!server) return;
  const client = await redisClient(t, server.port);
  const watcher = client.duplicate();
  watcher.on('error', () => {});
  await watcher.connect();
  t.after(() => watcher.destroy());
  const dir = tempDir(t);
  const file = join(dir, 's.snap');
  const count = 3000;
  await writeStore(file, sessions(count));
  // As each key is written, another client changes it: the value of even keys (same length), the expiry of odd ones.
  let changed = 0;
  const seen = new Set();
  const changes = [];
  await watcher.subscribe('__keyevent@0__:set', (key) => {
    // Our own change is a SET too: once per key.
    if (seen.has(key)) return;
    seen.add(key);
    const n = Number(key.slice(`sess:${MARK}`.length));
    const change = n % 2 === 0
      ? client.get(key).then((v) => client.set(key, v.replace('"user"', '"User"'), { KEEPTTL: true }))
      : client.pExpire(key, 7_200_000);
    changes.push(change.then(() => { changed++; }, () => {}));
  });
  const result = await cli(['migrate', file, '--to', `redis://127.0.0.1:${server.port}`, '--batch', '100']);
  // Our changes still queued end before the server stops (a client with commands pending would wait for it forever).
  await watcher.unsubscribe();
  await Promise.all(changes);
  assert.equal(result.code, 1, result.stderr);
  const failed = /verification failed: (\d+) of 3000 sessions written/.exec(result.stderr);
  assert.ok(failed, result.stderr);
  // The changes made before the read-back are found (those made after it cannot be), and no more than were made.
  assert.ok(Number(failed[1]) >= 1 && Number(failed[1]) <= changed, `${failed[1]} found, ${changed} changed`);
  assert.ok(!result.stderr.includes(MARK));
});
