// The README: "The command line speaks to one server ..., not to a Redis Cluster". A cluster node answers SCAN with its
// own keys only, so an import from it that met no CROSSSLOT refusal (--batch 1, or a node holding one key) read part of
// the sessions, wrote them with exit 0, and --replace dropped the rest: users logged out, with no word said. migrate and
// import now refuse a cluster node at connect, naming what to do instead.
// Real redis-server nodes (two, each owning half of the slots), the real bin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cli, privateRedis, redisClient, sessionFor, tempDir, writeStore } from './fixtures/cli/helpers.mjs';

/** Two cluster nodes sharing the slots, or undefined where the test is skipped (no redis-server outside CI). */
async function twoNodeCluster(t) {
  const servers = [await privateRedis(t, ['--cluster-enabled', 'yes']), await privateRedis(t, ['--cluster-enabled', 'yes'])];
  if (servers.includes(null)) return undefined;
  const clients = await Promise.all(servers.map((server) => redisClient(t, server.port)));
  await clients[0].sendCommand(['CLUSTER', 'ADDSLOTSRANGE', '0', '8191']);
  await clients[1].sendCommand(['CLUSTER', 'ADDSLOTSRANGE', '8192', '16383']);
  await clients[0].sendCommand(['CLUSTER', 'MEET', '127.0.0.1', String(servers[1].port)]);
  for (let i = 0; ; i++) {
    const states = await Promise.all(clients.map((client) => client.sendCommand(['CLUSTER', 'INFO'])));
    if (states.every((info) => /cluster_state:ok/.test(info))) break;
    assert.ok(i < 200, 'the cluster came up');
    await sleep(50);
  }
  return { servers, clients };
}

test('import from a Redis Cluster node is refused, not a part of the sessions imported with exit 0', async (t) => {
  const cluster = await twoNodeCluster(t);
  if (!cluster) return;
  const { servers, clients } = cluster;
  const owners = [0, 0];
  for (let i = 0; i < 20; i++) {
    const key = `sess:id${i}`;
    const slot = await clients[0].sendCommand(['CLUSTER', 'KEYSLOT', key]);
    const node = slot < 8192 ? 0 : 1;
    owners[node] += 1;
    await clients[node].sendCommand(['SET', key, JSON.stringify(sessionFor(`u${i}`)), 'PX', '3600000']);
  }
  assert.ok(owners[0] > 0 && owners[1] > 0, 'each node holds some of the sessions');

  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  for (const batch of [['--batch', '1'], []]) {
    const result = await cli(['import', `redis://127.0.0.1:${servers[0].port}`, '--into', file, '--replace', ...batch]);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stderr, /Redis Cluster/);
    assert.equal(existsSync(file), false, 'nothing was written');
  }
});

test('migrate to a Redis Cluster node is refused at connect, saying what to do instead', async (t) => {
  const cluster = await twoNodeCluster(t);
  if (!cluster) return;
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  await writeStore(file, { a: sessionFor('a'), b: sessionFor('b') });
  const result = await cli(['migrate', file, '--to', `redis://127.0.0.1:${cluster.servers[0].port}`]);
  assert.equal(result.code, 1, result.stdout + result.stderr);
  assert.match(result.stderr, /Redis Cluster.*redis-cli --cluster import/);
  assert.equal(await cluster.clients[0].sendCommand(['DBSIZE']) + await cluster.clients[1].sendCommand(['DBSIZE']), 0);
});
