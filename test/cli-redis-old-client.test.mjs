// An app that still has node-redis 3 (what connect-redis 5 and 6 used) runs `import redis://` for the way back, or
// `migrate`: node-redis 3 has no connect() and opens its socket as soon as the client is made, so the command printed
// "client.connect is not a function" and then hung on that open socket until killed. It must refuse the package
// before making a client, naming the installed version and what to install, and exit 1.
//
// node-redis 3 itself is not in this repository's node_modules and the tests do not use the network: the app gets a
// stand-in that does what node-redis 3's createClient does here (connect at once, no connect() method) against a
// plain TCP server. The bin runs from a copy of dist/ installed in the app, so `redis` resolves to the app's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sessionFor, tempDir, writeStore } from './fixtures/cli/helpers.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

const NODE_REDIS_3 = `
const net = require('node:net');
exports.createClient = (options) => {
  const url = new URL(options.url);
  const socket = net.connect(Number(url.port), url.hostname);
  socket.on('error', () => {});
  return { on() {}, quit() {}, end() {}, connected: false, stream: socket };
};
`;

test('migrate and import with node-redis 3 installed: refused at once with the version and what to install', async (t) => {
  const dir = tempDir(t);
  const server = createServer((socket) => socket.on('error', () => {}));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  server.unref();
  const { port } = server.address();

  const app = join(dir, 'app');
  const installed = join(app, 'node_modules', 'express-memfilestore');
  mkdirSync(installed, { recursive: true });
  cpSync(join(root, 'package.json'), join(installed, 'package.json'));
  cpSync(join(root, 'dist'), join(installed, 'dist'), { recursive: true });
  for (const name of ['debug', 'lru-cache', 'express-session']) {
    symlinkSync(realpathSync(join(root, 'node_modules', name)), join(app, 'node_modules', name));
  }
  const redis = join(app, 'node_modules', 'redis');
  mkdirSync(redis);
  writeFileSync(join(redis, 'package.json'), '{ "name": "redis", "version": "3.1.2", "main": "./index.js" }\n');
  writeFileSync(join(redis, 'index.js'), NODE_REDIS_3);
  const file = join(app, 's.snap');
  await writeStore(file, { a: sessionFor('a') });

  const bin = join(installed, 'dist', 'cli', 'bin.js');
  const url = `redis://127.0.0.1:${port}`;
  for (const args of [['migrate', file, '--to', url], ['import', url, '--into', join(app, 'back.snap')]]) {
    const started = Date.now();
    const result = await new Promise((resolve) => {
      // 60 s only bounds the hang this guards against: the whole test, both runs with its setup, took 6.8 s at load 15.
      execFile(process.execPath, [bin, ...args], { cwd: app, env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 },
        (err, stdout, stderr) => resolve({ code: err ? err.code : 0, signal: err?.signal ?? null, stderr }));
    });
    assert.equal(result.signal, null, `${args[0]} ended by itself (it hung, killed after ${Date.now() - started} ms): ${result.stderr}`);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^error: the installed "redis" package is 3\.1\.2, .*npm install redis@5/m, result.stderr);
    assert.doesNotMatch(result.stderr, /^\s+at /m);
  }
});
