// The package as it is published: `npm pack` in a clone that has not been built (dist/ is not in git), and the tarball
// installed in a fresh project beside only its production dependencies and its express-session peer. No registry:
// those are linked from this repository's node_modules (resolved through their real paths, so their own dependencies
// are found there, while anything else a dist file asked for would fail as it does for a user).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** Runs `args` with this node in `cwd`; resolves { code, stdout, stderr } and never rejects. */
async function runNode(args, cwd) {
  try {
    const { stdout, stderr } = await run(process.execPath, args, { cwd, env: { ...process.env, NO_COLOR: '1' } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? String(err) };
  }
}

test('npm pack in an unbuilt clone gives a tarball that a fresh project can require, import and run', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'memfilestore-tarball-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  // What a fresh clone holds for the build: no dist/.
  const clone = join(dir, 'clone');
  mkdirSync(join(clone, 'scripts'), { recursive: true });
  for (const file of ['package.json', 'README.md', 'LICENSE', 'tsconfig.json', 'src', 'scripts/build.mjs']) {
    cpSync(join(root, file), join(clone, file), { recursive: true });
  }
  symlinkSync(realpathSync(join(root, 'node_modules')), join(clone, 'node_modules'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: clone });
  const [packed] = JSON.parse(stdout);
  const files = packed.files.map((file) => file.path);
  for (const file of ['dist/index.js', 'dist/index.mjs', 'dist/index.d.ts', 'dist/index.d.mts', 'dist/cli/bin.js']) {
    assert.ok(files.includes(file), `${file} is in the tarball (${files.length} files: ${files.slice(0, 5).join(', ')}...)`);
  }
  assert.deepEqual(files.filter((file) => !/^(dist\/.*\.(js|mjs|d\.ts|d\.mts)|package\.json|README\.md|LICENSE)$/.test(file)), [],
    'nothing but the built files, package.json, README and LICENSE');

  // The consumer: the tarball unpacked as npm installs it, its dependencies and express-session linked.
  const app = join(dir, 'app');
  const installed = join(app, 'node_modules', pkg.name);
  mkdirSync(installed, { recursive: true });
  await run('tar', ['xzf', join(dir, packed.filename), '-C', installed, '--strip-components=1']);
  for (const name of [...Object.keys(pkg.dependencies), 'express-session']) {
    symlinkSync(realpathSync(join(root, 'node_modules', name)), join(app, 'node_modules', name));
  }
  writeFileSync(join(app, 'package.json'), '{ "name": "app", "private": true }\n');
  writeFileSync(join(app, 'cjs.js'), `
    const session = require('express-session');
    const Store = require('express-memfilestore')(session);
    const store = new Store({ saveFile: './s.snap' });
    store.set('a', { cookie: { expires: new Date(Date.now() + 60000).toISOString() }, n: 1 }, (err) => {
      if (err) throw err;
      store.close().then(() => console.log('cjs', Store === require('express-memfilestore').MemFileStore));
    });
  `);
  writeFileSync(join(app, 'esm.mjs'), `
    import session from 'express-session';
    import factory, { MemFileStore } from 'express-memfilestore';
    const store = new MemFileStore({ saveFile: './s.snap' });
    store.get('a', (err, sess) => {
      if (err) throw err;
      store.close().then(() => console.log('esm', factory(session) === MemFileStore, sess.n));
    });
  `);
  const cjs = await runNode(['cjs.js'], app);
  assert.equal(cjs.code, 0, cjs.stderr);
  assert.equal(cjs.stdout, 'cjs true\n');
  const esm = await runNode(['esm.mjs'], app);
  assert.equal(esm.code, 0, esm.stderr);
  assert.equal(esm.stdout, 'esm true 1\n');

  const bin = join(installed, pkg.bin['express-memfilestore']);
  const version = await runNode([bin, '--version'], app);
  assert.deepEqual([version.code, version.stdout], [0, `${pkg.version}\n`], version.stderr);
  const verify = await runNode([bin, 'verify', 's.snap'], app);
  assert.equal(verify.code, 0, verify.stderr);
  // redis is an optional peer the app has not installed: the command says what to install, without a stack trace.
  const migrate = await runNode([bin, 'migrate', 's.snap', '--to', 'redis://127.0.0.1:1'], app);
  assert.equal(migrate.code, 1, migrate.stderr);
  assert.match(migrate.stderr, /^error: this command needs the "redis" package.*npm install redis@/m);
  assert.doesNotMatch(migrate.stderr, /^\s+at /m);
});
