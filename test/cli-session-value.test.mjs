// migrate and import read only the cookie of a session value in express-session's shape (session-value.ts): on
// any valid JSON, that must say exactly what parsing the whole value says: a session or not, and the same expiry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import fc from 'fast-check';

const require = createRequire(import.meta.url);
const { sessionExpiry, parseSession, cookieExpiry } = require('../dist/cli/session-value.js');

/** The whole-parse answer, the reference. */
function slow(text) {
  const session = parseSession(text);
  return session === undefined ? undefined : { expiry: cookieExpiry(session) };
}

const expires = fc.oneof(
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.integer({ min: -8.64e15, max: 8.64e15 }),
  fc.string(), fc.constant(null), fc.constant(undefined));
// Strings with quotes, backslashes and braces: where a scan for the cookie's end could go wrong.
const tricky = fc.string({ unit: fc.constantFrom('a', '"', '\\', '{', '}', ':', ',', '\u2028', 'é') });
const cookie = fc.record({
  originalMaxAge: fc.option(fc.integer()), expires, path: fc.constant('/'), domain: fc.option(tricky),
  nested: fc.option(fc.dictionary(tricky, fc.jsonValue({ maxDepth: 2 }))),
}, { requiredKeys: [] });
const session = fc.tuple(cookie, fc.dictionary(tricky, fc.jsonValue({ maxDepth: 3 })))
  .map(([c, rest]) => JSON.stringify({ cookie: c, ...Object.fromEntries(Object.entries(rest).filter(([k]) => k !== 'cookie')) }));

test('express-session-shaped values: the cookie alone gives the same answer as the whole value', () => {
  fc.assert(fc.property(session, (text) => {
    assert.deepEqual(sessionExpiry(text), slow(text));
  }), { numRuns: 2000 });
});

test('any other JSON (not an object, no cookie, cookie not first or not an object): the same answer as the whole value', () => {
  fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
    const text = JSON.stringify(value);
    assert.deepEqual(sessionExpiry(text), slow(text));
  }), { numRuns: 2000 });
  for (const text of ['{"cookie":{}}', '{"cookie":{"expires":"2030-01-01T00:00:00.000Z"}}', '{"cookie":[]}', '{"cookie":null}',
    '{"a":1,"cookie":{"expires":1}}', '{"cookie":{"a":"}"},"b":"{"}', '{"cookie":{"a":"\\"}"}}']) {
    assert.deepEqual(sessionExpiry(text), slow(text), text);
  }
  assert.deepEqual(sessionExpiry('{"cookie":{"expires":"2030-01-01T00:00:00.000Z"},"user":1}'), { expiry: Date.parse('2030-01-01T00:00:00.000Z') });
  assert.deepEqual(sessionExpiry('{"cookie":{}}'), { expiry: undefined });
});

test('text that is not JSON is not a session, and a cookie that is not JSON is refused', () => {
  for (const text of ['', 'v1:{"cookie":{}}', '{"cookie":{', '{"cookie":{"a":}}', '{"cookie":{"a":1}', '{"cookie":{"a":1}}x']) {
    assert.equal(sessionExpiry(text), undefined, text);
  }
});
