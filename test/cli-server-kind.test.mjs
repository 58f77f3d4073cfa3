// The CLI's server tests run against Redis, and in .ci/run's Node 24 suite against Valkey (REDIS_SERVER_BIN=
// valkey-server): this checks that the server those tests start is the one asked for, so the Valkey run cannot
// quietly test Redis again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { privateRedis, redisClient } from './fixtures/cli/helpers.mjs';

test('the private server the CLI tests use is the one REDIS_SERVER_BIN names', async (t) => {
  const server = await privateRedis(t);
  if (!server) return;
  const client = await redisClient(t, server.port);
  const info = await client.info('server');
  if (process.env.REDIS_SERVER_BIN === 'valkey-server') assert.match(info, /^valkey_version:\d/m);
  else assert.doesNotMatch(info, /^valkey_version:/m);
  assert.match(info, /^redis_version:\d/m, 'Valkey reports a redis_version too, for clients such as node-redis');
});
