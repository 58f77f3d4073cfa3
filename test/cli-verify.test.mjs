// migrate's verification stays honest: a key that another actor changed or removed between the write and the read-back
// fails the migration (exit 1, with the count and how to rerun), whatever the speed-ups in how it writes and reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect } from 'node:net';
import { capMemory, cli, serverAndStore, sessionFor } from './fixtures/cli/helpers.mjs';

const MARK = 'Vf8PrivateSid';

function sessions(count) {
  const out = {};
  for (let i = 0; i < count; i++) out[`${MARK}${i}`] = sessionFor(i, 3_600_000 + i * 1000);
  return out;
}

test('keys evicted by the server after they were written fail the verification', async (t) => {
  const setup = await serverAndStore(t, sessions(3000));
  if (!setup) return;
  const { server, client, file } = setup;
  // Room for a third of the sessions: the server accepts every write and evicts the oldest keys to make room.
  await capMemory(client, 400_000, 'allkeys-lru');
  const result = await cli(['migrate', file, '--to', `redis://127.0.0.1:${server.port}`, '--batch', '100']);
  assert.equal(result.code, 1, result.stderr);
  const failed = /verification failed: (\d+) of 3000 sessions written .* do not have the value or expiry sent.*rerun with --replace/.exec(result.stderr);
  assert.ok(failed, result.stderr);
  // Each key found missing was evicted; the server may evict more after the read-back (any command can evict).
  assert.ok(Number(failed[1]) >= 1 && Number(failed[1]) <= 3000 - await client.dbSize(), failed[1]);
  assert.ok(!result.stderr.includes(MARK));
});

test('a value or an expiry another client changes after the write fails the verification', async (t) => {
  const setup = await serverAndStore(t, sessions(300));
  if (!setup) return;
  const { server, client, file } = setup;
  // The CLI talks to the server through this proxy, which holds its first read-back (MGET) until another client has
  // changed one value (same length) and one expiry: every write is done by then, so the change falls between the two.
  let tampered = false;
  const proxy = createServer((down) => {
    const up = connect(server.port, '127.0.0.1');
    up.on('error', () => down.destroy());
    down.on('error', () => up.destroy());
    up.pipe(down);
    let tail = '';
    down.on('data', (chunk) => {
      const text = tail + chunk.toString('latin1');
      tail = text.slice(-8);
      if (tampered || !text.includes('\r\nMGET\r\n')) {
        up.write(chunk);
        return;
      }
      tampered = true;
      down.pause();
      const key = `sess:${MARK}0`;
      client.get(key)
        .then((value) => client.set(key, value.replace('"user"', '"User"'), { KEEPTTL: true }))
        .then(() => client.pExpire(`sess:${MARK}1`, 7_200_000))
        .finally(() => {
          up.write(chunk);
          down.resume();
        });
    });
  }).listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  t.after(() => proxy.close());
  const result = await cli(['migrate', file, '--to', `redis://127.0.0.1:${proxy.address().port}`, '--batch', '100']);
  assert.ok(tampered, 'the read-back went through the proxy');
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /verification failed: 2 of 300 sessions written .* do not have the value or expiry sent.*rerun with --replace/);
  assert.ok(!result.stderr.includes(MARK));
});
