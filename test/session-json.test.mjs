// sessionJson/cookieJson write the cookie by hand for speed: they must give exactly JSON.stringify's text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import fc from 'fast-check';

const require = createRequire(import.meta.url);
const { sessionJson, cookieJson } = require('../dist/json/session-json.js');
const Cookie = require('express-session/session/cookie');
const Session = require('express-session/session/session');

const date = fc.oneof(
  fc.date({ min: new Date(-62198755200000), max: new Date(253402300799999) }),
  fc.date(), // any year, including the six-digit ones toISOString writes with a sign
  fc.constant(new Date(NaN)),
);
const cookieOptions = fc.record({
  maxAge: fc.option(fc.integer({ min: -1e10, max: 1e12 }), { nil: undefined }),
  httpOnly: fc.option(fc.boolean(), { nil: undefined }),
  secure: fc.option(fc.oneof(fc.boolean(), fc.constant('auto')), { nil: undefined }),
  path: fc.option(fc.string(), { nil: undefined }),
  domain: fc.option(fc.string(), { nil: undefined }),
  sameSite: fc.option(fc.oneof(fc.boolean(), fc.constantFrom('lax', 'strict', 'none')), { nil: undefined }),
  partitioned: fc.option(fc.boolean(), { nil: undefined }),
  priority: fc.option(fc.constantFrom('low', 'medium', 'high'), { nil: undefined }),
}, { requiredKeys: [] });
const userData = fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 6 });

test('sessionJson equals JSON.stringify for real express-session sessions', () => {
  fc.assert(fc.property(cookieOptions, userData, fc.option(date, { nil: undefined }), (options, data, expires) => {
    const req = { sessionID: 'sid', sessionStore: null };
    const sess = new Session(req);
    sess.cookie = new Cookie(options);
    if (expires !== undefined) sess.cookie.expires = expires;
    Object.assign(sess, data);
    let expected;
    try {
      expected = JSON.stringify(sess);
    } catch {
      return; // the fallback (JSON.stringify) throws the same error
    }
    const fast = sessionJson(sess);
    if (fast !== undefined) assert.equal(fast, expected);
    if (Object.keys(sess)[0] === 'cookie') assert.notEqual(fast, undefined, 'a cookie-first session takes the fast path');
  }), { numRuns: 2000, seed: 20261127 });
});

test('sessionJson equals JSON.stringify for plain objects of any shape, or declines', () => {
  fc.assert(fc.property(fc.record({ cookie: fc.oneof(fc.dictionary(fc.string(), fc.oneof(fc.jsonValue(), date)), fc.jsonValue()) }), userData,
    (head, data) => {
      const sess = { ...head, ...data };
      const fast = sessionJson(sess);
      if (fast !== undefined) assert.equal(fast, JSON.stringify(sess));
    }), { numRuns: 2000, seed: 7 });
});

test('cookieJson equals JSON.stringify of the cookie and declines what it cannot write', () => {
  const cookie = new Cookie({ maxAge: 60_000, httpOnly: true, path: '/' });
  assert.equal(cookieJson(cookie), JSON.stringify(cookie));
  assert.equal(sessionJson({ 1: 'integer key first', cookie }), undefined);
  assert.equal(sessionJson({ n: 1, cookie }), undefined);
  assert.equal(cookieJson({ nested: { a: 1 } }), undefined);
  assert.equal(cookieJson(null), undefined);
  // An own "__proto__" field (JSON.parse makes one) must stay a field.
  const withProto = JSON.parse('{"cookie":null,"__proto__":{"x":1},"a":2}');
  withProto.cookie = cookie;
  const protoJson = sessionJson(withProto);
  if (protoJson !== undefined) assert.equal(protoJson, JSON.stringify(withProto));
  assert.ok(JSON.stringify(withProto).includes('"__proto__":{"x":1}'));
  const patched = new Date(0);
  patched.toJSON = () => 'patched';
  assert.equal(cookieJson({ expires: patched }), undefined);
});
