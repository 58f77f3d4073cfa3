// Option values at the edges of what the constructor checks: the TypeError for a wrong value stays readable whatever
// was passed (an environment variable or a file's content can be long), and a value that can only fail later (a path
// no file can have, a signal list with holes) is refused at construction like any other wrong option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { callError } from './fixtures/store-calls.mjs';

/** The TypeError the constructor throws for `options`. */
function constructionError(options) {
  let caught;
  assert.throws(() => new MemFileStore(options), (err) => {
    caught = err;
    return true;
  });
  assert.ok(caught instanceof TypeError, `a TypeError, got ${caught}`);
  return caught;
}

const huge = 'x'.repeat(100_000);

for (const [name, value, shownStart] of [
  ['checkPeriod', huge, '"xxxx'],
  ['journal', `everySec${huge}`, '"everySec'],
  ['onDamagedFile', huge, '"xxxx'],
  ['closeOnSignals', Symbol(huge), 'Symbol(xxxx'],
  ['max', 10n ** 5000n, '1000'],
]) {
  test(`a huge value for ${name} is shown cut short, with its length, not whole in the message`, () => {
    const err = constructionError({ [name]: value });
    assert.ok(err.message.length < 300, `message of ${err.message.length} characters`);
    assert.match(err.message, new RegExp(`option "${name}" must be .*, got ${shownStart.replace(/[()]/g, '\\$&')}`));
    assert.match(err.message, /characters\)$/, err.message.slice(-80));
  });
}

test('a short value is still shown whole', () => {
  assert.match(constructionError({ checkPeriod: '60000' }).message, /, got "60000"$/);
  assert.match(constructionError({ journal: 'everySec' }).message, /, got "everySec"$/);
});

test('a ttl function returning a huge string: the set caller\'s TypeError is short too', async () => {
  const store = new MemFileStore({ ttl: () => huge });
  const err = await callError(store, 'set', 'sid', { cookie: { path: '/' } });
  assert.ok(err instanceof TypeError);
  assert.ok(err.message.length < 300, `message of ${err.message.length} characters`);
});

test('a saveFile with a NUL character: a TypeError naming saveFile at construction, not a rejected ready that names no option', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'memfilestore-options-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const err = constructionError({ saveFile: join(dir, 'sessions\0.db') });
  assert.match(err.message, /option "saveFile" must be .*, got ".*sessions\\u0000\.db"$/);
  assert.deepEqual(readdirSync(dir), [], 'nothing created');
});

// eslint-disable-next-line no-sparse-arrays
const withHoles = [['new Array(2)', new Array(2)], ['[, "SIGTERM"]', [, 'SIGTERM']]];
for (const [label, signals] of withHoles) {
  test(`closeOnSignals ${label} (an array with holes): a TypeError, not a listener for an "undefined" event`, () => {
    const before = process.eventNames();
    const err = constructionError({ closeOnSignals: signals });
    assert.match(err.message, /option "closeOnSignals" must be /);
    assert.deepEqual(process.eventNames(), before);
  });
}

for (const [signals, shown] of [[['SIGTERM', 'SIGKIL'], '"SIGKIL"'], [['SIGKILL'], '"SIGKILL"'], [['sigterm'], '"sigterm"'], [[15], '15']]) {
  test(`closeOnSignals ${JSON.stringify(signals)}: the TypeError shows the element that is wrong, ${shown}`, () => {
    const err = constructionError({ closeOnSignals: signals });
    assert.match(err.message, /option "closeOnSignals" must be /);
    assert.ok(err.message.endsWith(`got an array holding ${shown}`), err.message);
  });
}

for (const [label, serializer, shown] of [
  ['{ stringify }', { stringify: JSON.stringify }, 'an object without a parse function'],
  ['{ parse, stringify: "JSON" }', { parse: JSON.parse, stringify: 'JSON' }, 'an object without a stringify function'],
  ['{}', {}, 'an object without a stringify function'],
  ['a class without static methods', class Nothing {}, 'a function without a stringify function'],
]) {
  test(`serializer ${label}: the TypeError says which function is missing`, () => {
    const err = constructionError({ serializer });
    assert.ok(err.message.endsWith(`got ${shown}`), err.message);
  });
}

/** Process warnings emitted while `fn` runs (emitWarning emits on a later tick). */
async function warningsDuring(fn) {
  const seen = [];
  const onWarning = (w) => seen.push(w.message);
  process.on('warning', onWarning);
  try {
    fn();
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', onWarning);
  }
  return seen;
}

for (const [typo, known] of [['savefile', 'saveFile'], ['save_file', 'saveFile'], ['SaveFile', 'saveFile'], ['check-period', 'checkPeriod'], ['max_size', 'maxSize']]) {
  test(`unknown option "${typo}": the warning names the option it is likely a typo of, "${known}"`, async () => {
    const warnings = await warningsDuring(() => new MemFileStore({ [typo]: 1 }));
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], new RegExp(`unknown option "${typo}" is ignored \\(did you mean "${known}"\\?\\)`));
  });
}

test('an unknown option that is no typo of one: the warning suggests nothing', async () => {
  const warnings = await warningsDuring(() => new MemFileStore({ secret: 'x', maxAge: 1000 }));
  assert.deepEqual(warnings, ['express-memfilestore: unknown option "secret" is ignored', 'express-memfilestore: unknown option "maxAge" is ignored']);
});
