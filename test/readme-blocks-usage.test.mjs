// The README's code blocks for an app (Usage, TypeScript, store.ready, from memorystore), taken from README.md as it
// is and run in a fresh project where npm installed the packed package: what a user copies must run, and do what the
// text around it says. test/readme-blocks-cli.test.mjs runs the command-line blocks; every block is claimed below.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { block, getJson, login, packedProject, readmeBlocks, removeProject, ROOT, runIn, startApp } from './fixtures/readme/project.mjs';

const SECRET = { SESSION_SECRET: 'readme blocks test' };
const LISTENING = /^listening .*"port":(\d+)/;

/** Where each README block is run, found by the first line of its code; a block not listed fails the first test. */
const CLAIMED = [
  [/^npm install && npm start/, 'readme-example-app.test.mjs'],
  [/^npm install express-memfilestore express-session$/, 'this file: packedProject installs the tarball with npm'],
  [/^const session = require\('express-session'\);/, 'this file'],
  [/^import session from 'express-session';/, 'this file'],
  [/^const server = app\.listen\(3000\);/, 'readme-graceful-shutdown.test.mjs'],
  [/^store\.ready\.catch\(\(err\) => \{ console\.error\(err\); process\.exit\(1\); \}\);$/, 'process-managers.test.mjs (its cluster worker runs the block)'],
  [/^const store = new MemFileStore\(\{ saveFile \}\);/, 'this file'],
  [/^express-memfilestore-snapshot 2 /, 'format-spec-reader.test.mjs (the format, as a spec)'],
  [/^express-memfilestore-journal 1 /, 'format-spec-reader.test.mjs (the format, as a spec)'],
  [/^npm run build\nnode scripts\/crash-loop\.mjs/, 'this file: each script and npm script it names exists'],
  [/^- const MemoryStore = require\('memorystore'\)/, 'this file'],
  [/^npx express-memfilestore export sessions\.db --out - \|/, 'readme-blocks-cli.test.mjs'],
  [/^npx express-memfilestore verify sessions\.db/, 'readme-blocks-cli.test.mjs'],
  [/^npx express-memfilestore migrate \/var\/lib/, 'readme-blocks-cli.test.mjs'],
  [/^import \{ createClient \} from 'redis';/, 'readme-blocks-cli.test.mjs'],
  [/^npx express-memfilestore import redis:/, 'readme-blocks-cli.test.mjs'],
];

test('every code block of the README is run by a test (a new block needs one)', () => {
  const unclaimed = readmeBlocks().filter((b) => !CLAIMED.some(([pattern]) => pattern.test(b.code.trimEnd())));
  assert.deepEqual(unclaimed.map((b) => `line ${b.line} (${b.section})`), []);
  for (const [pattern, where] of CLAIMED) {
    const file = /^(readme-[\w-]+\.test\.mjs|format-spec-reader\.test\.mjs|process-managers\.test\.mjs)/.exec(where)?.[1];
    if (file) assert.ok(existsSync(join(ROOT, 'test', file)), `${file} exists`);
    assert.equal(readmeBlocks().filter((b) => pattern.test(b.code.trimEnd())).length, 1, `one block for ${pattern}`);
  }
});

test('"To reproduce": every script and npm script the block names exists', () => {
  const { code } = block(/^npm run build\nnode scripts\/crash-loop\.mjs/);
  const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts;
  for (const [, file] of code.matchAll(/\bnode (?:--\S+ )*((?:scripts|test)\/[\w./-]+\.mjs)/g)) assert.ok(existsSync(join(ROOT, file)), file);
  for (const [, file] of code.matchAll(/\s(test\/[\w.-]+\.mjs)/g)) assert.ok(existsSync(join(ROOT, file)), file);
  for (const [, name] of code.matchAll(/npm run (\S+)/g)) assert.ok(scripts[name], `npm run ${name}`);
});

test('every name the package exports at run time is named in the README', () => {
  const require = createRequire(join(ROOT, 'package.json'));
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const names = Object.keys(require(ROOT));
  assert.ok(names.includes('MemFileStore'));
  assert.deepEqual(names.filter((name) => !readme.includes(`\`${name}\``) && !readme.includes(`.${name}\``) && !readme.includes(`{ ${name}`)), []);
});

let project;
before(async () => {
  project = await packedProject();
});
after(() => removeProject(project));

/** The app around a block: `app` made before it (the blocks use it), a login and a page that shows who is logged in. */
const appAround = (code, { esm }) => `${esm ? "import express from 'express';" : "const express = require('express');"}
const app = express();
${code}
app.post('/login', express.urlencoded({ extended: false }), (req, res) => { req.session.user = req.body.name; res.json({ ok: true }); });
app.get('/me', (req, res) => res.json({ user: req.session.user ?? null }));
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => console.log('listening ' + JSON.stringify(server.address())));
`;

test('"Usage", CommonJS: the block runs as written, and with the default journal a kill -9 keeps the login', { timeout: 60_000 }, async (t) => {
  const { code } = block(/^const session = require\('express-session'\);/);
  assert.match(code, /journal: 'everysec' \(the default with saveFile\): changes between snapshots survive a crash/);
  const dir = join(project, 'usage-cjs');
  mkdirSync(join(dir, 'data'), { recursive: true }); // "the directory ./data must exist"
  writeFileSync(join(dir, 'app.js'), appAround(code, { esm: false }));
  const first = startApp(t, dir, 'app.js', { env: SECRET });
  const [, port] = await first.line(LISTENING);
  const cookie = await login(port, 'ada');
  assert.ok(cookie.startsWith('connect.sid='), 'express-session\'s default cookie name, as the README says');
  first.proc.kill('SIGKILL');
  await first.exited;
  assert.equal(existsSync(join(dir, 'data/sessions.snapshot')), false, 'no snapshot yet (savePeriod is a minute)');
  assert.deepEqual(readdirSync(join(dir, 'data')).filter((f) => f.includes('.journal.')).length, 1, 'the journal holds the login');

  const second = startApp(t, dir, 'app.js', { env: SECRET });
  const [, port2] = await second.line(LISTENING);
  assert.deepEqual(await getJson(port2, '/me', cookie), { user: 'ada' });
  assert.doesNotMatch(second.stderr(), /deprecated|warning/i);
});

test('"ES modules and TypeScript": the block type-checks (strict, nodenext) and runs; closeOnSignals saves at SIGTERM', { timeout: 120_000 }, async (t) => {
  const { code, lang } = block(/^import session from 'express-session';/);
  assert.equal(lang, 'ts');
  const dir = join(project, 'usage-ts');
  mkdirSync(join(dir, 'data'), { recursive: true });
  // The field the app's routes use, declared as the README's migration notes say (module augmentation).
  writeFileSync(join(dir, 'app.mts'), `${appAround(code, { esm: true })}
declare module 'express-session' { interface SessionData { user: string } }
`);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', types: ['node'], skipLibCheck: false },
    files: ['app.mts'],
  }));
  const tsc = await runIn(dir, process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', '.']);
  assert.equal(tsc.code, 0, tsc.stdout + tsc.stderr);

  const first = startApp(t, dir, 'app.mjs', { env: SECRET });
  const [, port] = await first.line(LISTENING);
  const cookie = await login(port, 'grace');
  first.proc.kill('SIGTERM');
  assert.deepEqual(await first.exited, { code: null, signal: 'SIGTERM' }, 'the signal ends the process as it would have');
  const files = readdirSync(join(dir, 'data')).sort();
  assert.deepEqual(files, ['sessions.snapshot'], 'a final snapshot that stands alone: no journal, no lock');
  assert.match(readFileSync(join(dir, 'data/sessions.snapshot'), 'latin1'), /^express-memfilestore-snapshot 2 \S+ nojournal/);

  const second = startApp(t, dir, 'app.mjs', { env: SECRET });
  const [, port2] = await second.line(LISTENING);
  assert.deepEqual(await getJson(port2, '/me', cookie), { user: 'grace' });
});

test('"store.ready": the block throws on a damaged file, and passes on a good one', { timeout: 60_000 }, async () => {
  const { code } = block(/^const store = new MemFileStore\(\{ saveFile \}\);/);
  const dir = join(project, 'ready');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'app.mjs'), `import { MemFileStore } from 'express-memfilestore';
const saveFile = process.argv[2];
${code}console.log('ready');
await store.close();
`);
  const fresh = await runIn(dir, process.execPath, ['app.mjs', 'sessions.db']);
  assert.deepEqual([fresh.code, fresh.stdout], [0, 'ready\n'], fresh.stderr);
  writeFileSync(join(dir, 'damaged.db'), 'express-memfilestore-snapshot 2 junk\n');
  const damaged = await runIn(dir, process.execPath, ['app.mjs', 'damaged.db']);
  assert.equal(damaged.code, 1);
  assert.equal(damaged.stdout, '');
  assert.match(damaged.stderr, /ERR_SNAPSHOT_DAMAGED/);
  assert.equal(readFileSync(join(dir, 'damaged.db'), 'utf8'), 'express-memfilestore-snapshot 2 junk\n', 'left untouched');
});

test('"From memorystore": the + line of the diff gives a store that takes memorystore\'s options and calls', async () => {
  const { code } = block(/^- const MemoryStore = require\('memorystore'\)/);
  const added = code.split('\n').filter((l) => l.startsWith('+')).map((l) => l.slice(1).trim());
  assert.equal(added.length, 1);
  const dir = join(project, 'memorystore');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'app.js'), `const session = require('express-session');
${added[0]}
const store = new MemoryStore({ checkPeriod: 86400000, max: 100, ttl: 60000, stale: false, noDisposeOnSet: false });
store.set(1, { cookie: { maxAge: 60000 }, n: 1 }, (err) => {
  if (err) throw err;
  store.get('1', (err2, sess) => { store.stopInterval(); console.log(err2, sess.n, store instanceof session.Store, store.options.max); });
});
`);
  const result = await runIn(dir, process.execPath, ['app.js']);
  assert.deepEqual([result.code, result.stdout, result.stderr], [0, 'null 1 true 100\n', '']);
});
