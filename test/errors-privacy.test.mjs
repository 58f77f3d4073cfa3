// Error messages never carry session contents or ids (they are credentials and personal data, and express-session
// hands a store's error to next(err), so to the app's logs), but do name the file at fault. The same stored text that
// cannot be parsed gives the same error through every method that reads it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { callError, session, tempDir, track } from './fixtures/persist/helpers.mjs';
import { call } from './fixtures/store-calls.mjs';

const SID = 'sid-Zq81xK';
const SECRET = 'hunter2-secret';
const base64 = {
  stringify: (s) => Buffer.from(JSON.stringify(s)).toString('base64'),
  parse: (text) => JSON.parse(Buffer.from(text, 'base64').toString()),
};

/** A file written with one serializer, opened with the default JSON one (the README's "change of serializer"). */
async function storeAfterSerializerChange(t) {
  const file = join(tempDir(t), 'sessions.db');
  const before = new MemFileStore({ saveFile: file, serializer: base64 });
  await call(before, 'set', SID, session({ password: SECRET }));
  const stored = before.store.get(SID);
  await before.close();
  return { store: track(t, new MemFileStore({ saveFile: file })), stored };
}

/** Fails when `message` holds any 6 characters in a row of `text`, or the id. */
function assertHoldsNothingOf(message, text, what) {
  assert.ok(!message.includes(SID), `${what}: the session id in "${message}"`);
  for (let i = 0; i + 6 <= text.length; i++) {
    assert.ok(!message.includes(text.slice(i, i + 6)), `${what}: "${text.slice(i, i + 6)}" of the stored session in "${message}"`);
  }
}

test('a stored session the serializer cannot parse: get, all and touch give one error, without its text', async (t) => {
  const { store, stored } = await storeAfterSerializerChange(t);
  const errors = {
    get: await callError(store, 'get', SID),
    all: await callError(store, 'all'),
    touch: await callError(store, 'touch', SID, session({})),
  };
  for (const [method, err] of Object.entries(errors)) {
    assert.ok(err instanceof SyntaxError, `${method}: a SyntaxError, got ${String(err)}`);
    assertHoldsNothingOf(err.message, stored, method);
    assert.equal(err.message, errors.get.message, `${method} words it as get does`);
  }
  // touch changed nothing: the session is still there, as stored.
  assert.equal(store.store.get(SID), stored);
});

test('a 1.x file that is not valid JSON: the byte the message names is the fault\'s, past non-ASCII text', async (t) => {
  // V8 gives a position in characters; a 1.x file holds names and other UTF-8 text before the fault.
  const file = join(tempDir(t), 'sessions.json');
  const text = '{"a":{"cookie":{"originalMaxAge":null},"name":"Zoë Ångström 東京"} x}';
  const bytes = Buffer.from(text);
  writeFileSync(file, bytes);
  const store = track(t, new MemFileStore({ saveFile: file }));
  const err = await store.ready.then(() => assert.fail('loaded'), (e) => e);
  assert.equal(err.code, 'ERR_SNAPSHOT_DAMAGED');
  const at = Number(/at byte (\d+)/.exec(err.message)?.[1]);
  assert.equal(bytes.subarray(at, at + 1).toString(), 'x', `byte ${at} of the file is the fault: ${err.message}`);
  assert.ok(!err.message.includes('Zoë') && !err.message.includes('東京'), err.message);
});
