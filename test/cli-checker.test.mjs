// The check of stored values behind migrate and import (session-checker.ts): the same answers as session-value.ts,
// whether a value is checked on the worker thread or on the main one, and through the CLI where the worker is used
// (20k values and more): a value that is not a session among them is still refused (migrate) or counted (import).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, cli, privateRedis, redisClient, sessionFor, tempDir } from './fixtures/cli/helpers.mjs';

const require = createRequire(import.meta.url);
const { checkValues, NO_EXPIRY, SessionChecker } = require('../dist/cli/session-checker.js');
const { sessionExpiry } = require('../dist/cli/session-value.js');

const MARK = 'Qz4PrivateSid';
const AT = '2031-05-06T07:08:09.010Z';

/** Values at every edge of "a session": what sessionExpiry says of each is what the checker must say. */
const TRICKY = [
  JSON.stringify({ cookie: { expires: AT }, user: 1 }),
  JSON.stringify({ cookie: { originalMaxAge: null }, user: 1 }),
  JSON.stringify({ cookie: { expires: Date.parse(AT) } }),
  JSON.stringify({ cookie: { expires: 'not a date' } }),
  JSON.stringify({ cookie: { expires: null } }),
  '{"cookie":{"expires":"2020-01-01T00:00:00.000Z"},"cookie":{"expires":"2031-05-06T07:08:09.010Z"}}',
  '{"cookie":{"expires":"2031-05-06T07:08:09.010Z","expires":"2032-01-01T00:00:00.000Z"}}',
  '{"cook\\u0069e":{"expires":"2031-05-06T07:08:09.010Z"}}',
  ' \n{"cookie":{}}\t',
  '{"cookie":null}', '{"cookie":[]}', '{"cookie":"x"}', '{"user":1}', '[{"cookie":{}}]', 'null', '1', '"s"',
  '{"cookie":{}', '{"cookie":{}}x', 'v1:{"cookie":{}}', '', '{"cookie":{"expires":"2031-05-06T07:08:09.010Z"},}',
];

function expected(value) {
  const session = sessionExpiry(value);
  return session === undefined ? Number.NaN : session.expiry ?? NO_EXPIRY;
}

test('checkValues answers as sessionExpiry: not a session (NaN), no expiry (Infinity), else the cookie expiry', () => {
  const result = checkValues(TRICKY);
  assert.equal(result.length, TRICKY.length);
  for (const [i, value] of TRICKY.entries()) assert.ok(Object.is(result[i], expected(value)), `${i}: ${value}`);
  assert.equal(result[0], Date.parse(AT));
  assert.equal(result[1], NO_EXPIRY);
  assert.ok(Number.isNaN(result[9]));
});

test('SessionChecker: batches checked on the worker and on this thread give the same answers, in order', async () => {
  const values = [];
  for (let i = 0; i < 30_000; i++) {
    values.push(i % 1000 === 7 ? TRICKY[(i / 1000) % TRICKY.length | 0] : JSON.stringify(sessionFor(i, 1000 * i)));
  }
  const want = checkValues(values);
  for (const expectedCount of [values.length, 10]) {
    const checker = new SessionChecker(expectedCount);
    try {
      const got = await checker.checkAll(values, 1234);
      assert.equal(got.length, values.length);
      for (let i = 0; i < values.length; i++) assert.ok(Object.is(got[i], want[i]), `value ${i}`);
      // Single batches too, as import sends them: every other one to the worker.
      const parts = await Promise.all([0, 1, 2, 3].map((k) => checker.check(values.slice(k * 100, k * 100 + 100))));
      assert.deepEqual(parts.flatMap((p) => [...p]), [...want.subarray(0, 400)]);
      // The worker ran (it is the point) only where there are enough values for it.
      if (expectedCount === values.length) assert.ok(checker.workerBatches >= 10, String(checker.workerBatches));
      else assert.equal(checker.workerBatches, 0);
    } finally {
      await checker.close();
    }
  }
});

test('through the CLI with enough sessions for the worker: a value not a session refuses migrate; import counts one', async (t) => {
  const server = await privateRedis(t);
  if (!server) return;
  const client = await redisClient(t, server.port);
  const dir = tempDir(t);
  const file = join(dir, 's.snap');
  const count = 24_000;
  // One value (late in the file: in a batch the worker checks or this thread does, either way) is not JSON.
  const store = new MemFileStore({
    saveFile: file,
    serializer: { stringify: (s) => (s.user.id === count - 3 ? `v1:${JSON.stringify(s)}` : JSON.stringify(s)), parse: JSON.parse },
  });
  for (let i = 0; i < count; i++) await call(store, 'set', `${MARK}${i}`, sessionFor(i, 3_600_000 + i));
  await store.close();
  const url = `redis://127.0.0.1:${server.port}`;

  const refused = await cli(['migrate', file, '--to', url]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /1 sessions .* not JSON objects with a cookie.*nothing was sent/);
  assert.equal(await client.dbSize(), 0);

  // The same sessions, all JSON: every one written and verified.
  const good = join(dir, 'good.snap');
  const plain = new MemFileStore({ saveFile: good });
  for (let i = 0; i < count; i++) await call(plain, 'set', `${MARK}${i}`, sessionFor(i, 3_600_000 + i));
  await plain.close();
  const migrated = await cli(['migrate', good, '--to', url, '--json']);
  assert.equal(migrated.code, 0, migrated.stderr);
  assert.equal(JSON.parse(migrated.stdout).verified, count);

  // Back, with one key that is not a session among them.
  await client.set(`sess:${MARK}x`, 'not json', { PX: 3_600_000 });
  const back = join(dir, 'back.snap');
  const damaged = await cli(['import', url, '--into', back]);
  assert.equal(damaged.code, 1);
  assert.match(damaged.stderr, new RegExp(`1 of ${count + 1} keys .* are not sessions`));
  const skipped = await cli(['import', url, '--into', back, '--skip-damaged', '--json']);
  assert.equal(skipped.code, 0, skipped.stderr);
  const summary = JSON.parse(skipped.stdout);
  assert.equal(summary.imported, count);
  assert.equal(summary.damaged, 1);
  for (const result of [refused, migrated, damaged, skipped]) assert.ok(!`${result.stdout}${result.stderr}`.includes(MARK));
});
