// Tests on the built package (dist/), loaded by its name as users load it: require and import, the
// factory and the class, TypeScript consumers of both module kinds, and the packaging linters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import memFileStoreDefault, { MemFileStore, StoreClosedError } from 'express-memfilestore';
import * as namespace from 'express-memfilestore';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('..', import.meta.url));
const session = require('express-session');

const call = (store, method, ...args) => new Promise((resolve, reject) => {
  store[method](...args, (err, value) => (err ? reject(err) : resolve(value)));
});

/** node_modules/.bin/<name>: on POSIX a symlink to the package's JS entry, which node runs as is. */
const bin = (name) => `${root}node_modules/.bin/${name}`;

/** Runs a node script of this repository's node_modules; resolves { code, output } and never rejects. */
async function runNode(args) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, args, {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    return { code: err.code ?? 1, output: `${err.stdout ?? ''}${err.stderr ?? ''}${err.message}` };
  }
}

test('require and import resolve to the built files named in package.json', () => {
  assert.equal(require.resolve('express-memfilestore'), `${root}dist/index.js`);
  assert.equal(fileURLToPath(import.meta.resolve('express-memfilestore')), `${root}dist/index.mjs`);
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
  assert.equal(require('express-memfilestore/package.json').version, pkg.version);
});

test("require('express-memfilestore') is a factory function", () => {
  const factory = require('express-memfilestore');
  assert.equal(typeof factory, 'function');
});

test("require('express-memfilestore')(require('express-session')) returns the store class", async () => {
  const Store = require('express-memfilestore')(session);
  assert.equal(typeof Store, 'function');
  assert.equal(Store.name, 'MemFileStore');
  const store = new Store({ checkPeriod: 60_000 });
  try {
    await call(store, 'set', 'a', { cookie: { maxAge: 60_000 }, n: 1 });
    assert.equal((await call(store, 'get', 'a')).n, 1);
  } finally {
    await store.close();
  }
});

test("require('express-memfilestore').MemFileStore is the same class", () => {
  const factory = require('express-memfilestore');
  assert.equal(factory.MemFileStore, factory(session));
  assert.equal(typeof factory.StoreClosedError, 'function');
});

test('import (named, default, namespace) and require give the same class: no dual-package hazard', () => {
  const factory = require('express-memfilestore');
  assert.equal(memFileStoreDefault, factory, 'the default import is module.exports');
  assert.equal(MemFileStore, factory.MemFileStore);
  assert.equal(MemFileStore, factory(session));
  assert.equal(namespace.MemFileStore, factory.MemFileStore);
  assert.equal(namespace.default, factory);
  assert.equal(StoreClosedError, factory.StoreClosedError);
  // An instance made by one form is an instance of the class reached by the other.
  const store = new factory.MemFileStore();
  assert.ok(store instanceof MemFileStore);
  assert.ok(new MemFileStore() instanceof factory(session));
});

test("the class extends express-session's Store (an EventEmitter)", () => {
  assert.equal(Object.getPrototypeOf(MemFileStore.prototype), session.Store.prototype);
  const store = new MemFileStore();
  assert.ok(store instanceof session.Store);
  assert.ok(store instanceof EventEmitter);
  for (const method of ['get', 'set', 'destroy', 'touch', 'all', 'length', 'clear', 'ids', 'prune',
    'startInterval', 'stopInterval', 'close']) {
    assert.equal(typeof store[method], 'function', method);
  }
  // What express-session adds to every store still works on ours.
  for (const method of ['regenerate', 'load', 'createSession']) {
    assert.equal(typeof store[method], 'function', method);
  }
});

test('the factory accepts a bare { Store: class {} }, as memorystore\'s own tests pass', async () => {
  const factory = require('express-memfilestore');
  const Store = factory({ Store: class {} });
  assert.equal(Store, MemFileStore);
  const store = new Store();
  try {
    await call(store, 'set', 'x', { cookie: { maxAge: 1000 }, ok: true });
    assert.equal((await call(store, 'get', 'x')).ok, true);
  } finally {
    await store.close();
  }
});

test('the factory throws a TypeError for anything that is not express-session', () => {
  const factory = require('express-memfilestore');
  for (const garbage of [null, 42, 'express-session', true, {}, [], { Store: 'x' }, { Store: {} }, () => {}]) {
    assert.throws(() => factory(garbage), TypeError, `factory(${String(garbage)})`);
  }
  assert.throws(() => memFileStoreDefault(null), /express-session/, 'the message says what to pass');
});

test('TypeScript consumers (ESM .mts and CJS .cts, module nodenext, strict) type-check against dist', async () => {
  const { code, output } = await runNode([
    bin('tsc'), '--noEmit', '-p', 'test/fixtures/ts-consumer/tsconfig.json', '--listFiles',
  ]);
  assert.equal(code, 0, output);
  // The import condition gives the .d.mts, the require condition the .d.ts.
  const files = output.split('\n').map((line) => line.trim());
  assert.ok(files.includes(`${root}dist/index.d.mts`), 'resolved dist/index.d.mts');
  assert.ok(files.includes(`${root}dist/index.d.ts`), 'resolved dist/index.d.ts');
});

test('the TypeScript consumers type-check with verbatimModuleSyntax and isolatedModules, under nodenext and a bundler\'s settings', async () => {
  // dist/index.d.mts re-exports with `export import X = memFileStore.X` (an alias an editor follows to the doc
  // comment): named imports of values and types, and the default import, must keep working where each file is
  // compiled alone and imports are kept as written.
  for (const config of ['tsconfig.verbatim.json', 'tsconfig.bundler.json']) {
    const { code, output } = await runNode([bin('tsc'), '--noEmit', '-p', `test/fixtures/ts-consumer/${config}`, '--listFiles']);
    assert.equal(code, 0, `${config}: ${output}`);
    assert.ok(output.split('\n').map((line) => line.trim()).includes(`${root}dist/index.d.mts`), `${config}: resolved dist/index.d.mts`);
  }
});

test('publint --strict finds nothing', async () => {
  const { code, output } = await runNode([bin('publint'), '--strict']);
  assert.equal(code, 0, output);
  assert.match(output, /All good/);
});

test('@arethetypeswrong/cli finds no problems in the packed tarball', async (t) => {
  // Packed into a temp dir: `attw --pack .` writes and deletes the tarball beside package.json, and CI runs the
  // suite on two Node versions at once in the same clone (one run deleted the other's tarball).
  const dir = mkdtempSync(join(tmpdir(), 'memfilestore-pack-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { stdout } = await promisify(execFile)('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root });
  const tarball = join(dir, JSON.parse(stdout)[0].filename);
  const { code, output } = await runNode([bin('attw'), tarball]);
  assert.equal(code, 0, output);
  assert.match(output, /No problems found/);
});
