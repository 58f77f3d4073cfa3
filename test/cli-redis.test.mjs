// migrate and import against a real, private redis-server (Debian's package) on a free loopback port. Keys, values
// and expiries are checked with a plain node-redis client, as connect-redis would read them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemFileStore } from 'express-memfilestore';
import { freePort } from '../bench/redis-server.mjs';
import { BIN, capMemory, cli, MINUTE_AGO, privateRedis, readStore, redisClient, serverAndStore, sessionFor, staleSession, tempDir, writeStore } from './fixtures/cli/helpers.mjs';

const MARK = 'Kx7PrivateSid';

function sessions(count, inMs = 3_600_000) {
  const out = {};
  for (let i = 0; i < count; i++) out[`${MARK}${i}`] = sessionFor(i, inMs + i * 1000);
  return out;
}

function assertNoSecrets(result, password) {
  for (const text of [result.stdout, result.stderr]) {
    assert.ok(!text.includes(MARK), 'no session id or content printed');
    if (password) assert.ok(!text.includes(password), 'no password printed');
  }
}

test('migrate writes every live session as connect-redis would, verifies, refuses a second run, --replace reruns', async (t) => {
  const server = await privateRedis(t);
  if (!server) return;
  const dir = tempDir(t);
  const file = join(dir, 's.snap');
  const all = sessions(250);
  all.browser = sessionFor(999, null);
  await writeStore(file, { ...all, gone: staleSession(1) }, { clock: MINUTE_AGO });
  const url = `redis://127.0.0.1:${server.port}`;
  const before = Date.now();
  const result = await cli(['migrate', file, '--to', url, '--json', '--batch', '64']);
  const after = Date.now();
  assert.equal(result.code, 0, result.stderr);
  const summary = JSON.parse(result.stdout);
  assert.equal(summary.written, 251);
  assert.equal(summary.verified, 251);
  assert.equal(summary.expired, 1);
  // --json's phases (bench/cli.mjs reports them): each step once, in order, none negative, within the total.
  assertPhases(summary.phases, ['read', 'connect', 'write', 'verify']);
  assert.ok(summary.phases.write + summary.phases.verify <= summary.seconds + 0.002, JSON.stringify(summary));
  assertNoSecrets(result);

  const client = await redisClient(t, server.port);
  const keys = [];
  for await (const batch of client.scanIterator({ MATCH: 'sess:*', COUNT: 1000 })) keys.push(...batch);
  assert.equal(keys.length, 251);
  const stored = JSON.parse(readFileSync(file, 'latin1').split('\n').find((l, i, lines) => lines[i - 1] === `${MARK}7`));
  assert.deepEqual(JSON.parse(await client.get(`sess:${MARK}7`)), stored);
  // Absolute expiry = cookie.expires, to the millisecond.
  assert.equal(await client.pExpireTime(`sess:${MARK}7`), Date.parse(all[`${MARK}7`].cookie.expires));
  // A browser-session cookie gets --ttl (default 86400 s), as connect-redis does.
  const at = await client.pExpireTime('sess:browser');
  assert.ok(at >= before + 86_400_000 && at <= after + 86_400_000, String(at));
  assert.equal(await client.exists(`sess:${MARK}gone`), 0);

  const again = await cli(['migrate', file, '--to', url]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already holds keys under the prefix "sess:".*--replace.*--skip-existing/);

  await client.set(`sess:${MARK}3`, 'changed');
  const skipped = await cli(['migrate', file, '--to', url, '--skip-existing', '--json']);
  assert.equal(skipped.code, 0, skipped.stderr);
  assert.equal(JSON.parse(skipped.stdout).existing, 251);
  assert.equal(await client.get(`sess:${MARK}3`), 'changed');

  const replaced = await cli(['migrate', file, '--to', url, '--replace', '--json']);
  assert.equal(replaced.code, 0, replaced.stderr);
  assert.equal(JSON.parse(replaced.stdout).written, 251);
  assert.equal(JSON.parse(replaced.stdout).existing, null, '--replace does not count what it overwrote: not 0');
  assert.notEqual(await client.get(`sess:${MARK}3`), 'changed');
  assert.equal(await client.dbSize(), 251);
});

test('migrate then import redis:// round trip, with a prefix, a db number and valkey:// spelling', async (t) => {
  const server = await privateRedis(t);
  if (!server) return;
  const dir = tempDir(t);
  const file = join(dir, 's.snap');
  await writeStore(file, sessions(40));
  const migrated = await cli(['migrate', file, '--to', `valkey://127.0.0.1:${server.port}/3`, '--prefix', 'app:sess:']);
  assert.equal(migrated.code, 0, migrated.stderr);
  assert.match(migrated.stdout, /40 written/);
  const target = join(dir, 'back.snap');
  const imported = await cli(['import', `redis://127.0.0.1:${server.port}/3`, '--prefix', 'app:sess:', '--into', target, '--json']);
  assert.equal(imported.code, 0, imported.stderr);
  assert.equal(JSON.parse(imported.stdout).imported, 40);
  assertPhases(JSON.parse(imported.stdout).phases, ['scan', 'fetch', 'write']);
  assert.deepEqual(await readStore(target), await readStore(file));
  const before = await cli(['export', file, '--out', '-']);
  const after = await cli(['export', target, '--out', '-']);
  const expiries = (r) => Object.fromEntries(r.stdout.trim().split('\n').map((l) => JSON.parse(l)).map((l) => [l.sid, l.expires]));
  const a = expiries(before);
  const b = expiries(after);
  // Ours: the store's expiry; back from Redis: cookie.expires, which the store computed the same instant.
  for (const sid of Object.keys(a)) assert.ok(Math.abs(a[sid] - b[sid]) <= 1000, `${a[sid]} vs ${b[sid]}`);
  // Keys of another prefix are not imported; db 0 holds nothing.
  const empty = await cli(['import', `redis://127.0.0.1:${server.port}`, '--into', join(dir, 'empty.snap'), '--json']);
  assert.equal(JSON.parse(empty.stdout).imported, 0);
});

test('import redis: keys that are not sessions are refused unless --skip-damaged; expired and no-TTL keys', async (t) => {
  const server = await privateRedis(t);
  if (!server) return;
  const client = await redisClient(t, server.port);
  const dir = tempDir(t);
  const good = sessionFor(1);
  await client.set('sess:a', JSON.stringify(good), { PXAT: Date.parse(good.cookie.expires) });
  await client.set('sess:noexpiry', JSON.stringify(sessionFor(2, null)));
  await client.set('sess:junk', 'not json');
  await client.hSet('sess:hash', 'f', 'v');
  const target = join(dir, 't.snap');
  const refused = await cli(['import', `redis://127.0.0.1:${server.port}`, '--into', target]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /2 of 4 keys .* are not sessions.*--skip-damaged/);
  assert.equal(existsSync(target), false);
  const before = Date.now();
  const ok = await cli(['import', `redis://127.0.0.1:${server.port}`, '--into', target, '--skip-damaged', '--ttl', '600', '--json']);
  const after = Date.now();
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(JSON.parse(ok.stdout).damaged, 2);
  const exported = (await cli(['export', target, '--out', '-'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
  const bySid = Object.fromEntries(exported.map((l) => [l.sid, l.expires]));
  assert.equal(bySid.a, Date.parse(good.cookie.expires));
  // No TTL on the key and no cookie expiry: --ttl.
  assert.ok(bySid.noexpiry >= before + 600_000 && bySid.noexpiry <= after + 600_000);
});

test('one script call per batch; where scripts are refused (an ACL without @scripting), plain pipelined commands do the same', async (t) => {
  const server = await privateRedis(t);
  if (!server) return;
  const client = await redisClient(t, server.port);
  const dir = tempDir(t);
  const file = join(dir, 's.snap');
  const all = sessions(120);
  all.browser = sessionFor(999, null);
  await writeStore(file, all);
  const stats = async () => {
    const text = await client.info('commandstats');
    const stat = (name, field) => Number(new RegExp(`cmdstat_${name}:.*\\b${field}=(\\d+)`).exec(text)?.[1] ?? 0);
    // calls counts what ran (failed_calls of them with an error reply); rejected_calls never ran (ACL).
    const ran = (name) => stat(name, 'calls') - stat(name, 'failed_calls');
    const refused = (name) => stat(name, 'rejected_calls') + stat(name, 'failed_calls');
    return { scripts: ran('eval') + ran('evalsha'), refused: refused('eval') + refused('evalsha'), set: stat('set', 'calls') };
  };

  // The default user runs scripts: 121 sessions in batches of 50 are 3 write calls and 3 expiry reads.
  const scripted = await cli(['migrate', file, '--to', `redis://127.0.0.1:${server.port}/1`, '--batch', '50', '--json']);
  assert.equal(scripted.code, 0, scripted.stderr);
  assert.equal(JSON.parse(scripted.stdout).verified, 121);
  const after = await stats();
  assert.equal(after.scripts, 6);
  assert.equal(after.refused, 0);
  assert.equal(after.set, 121);

  await client.sendCommand(['ACL', 'SETUSER', 'noscripts', 'on', '>pw', '~*', '+@all', '-@scripting']);
  await client.sendCommand(['CONFIG', 'RESETSTAT']);
  const pw = join(dir, 'pw');
  writeFileSync(pw, 'pw');
  const url = `redis://noscripts@127.0.0.1:${server.port}/2`;
  const plain = await cli(['migrate', file, '--to', url, '--password-file', pw, '--batch', '50', '--json']);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(JSON.parse(plain.stdout).verified, 121);
  const refused = await stats();
  assert.ok(refused.refused >= 1, 'a script was tried and refused');
  assert.equal(refused.scripts, 0);
  assert.equal(refused.set, 121);
  await client.sendCommand(['SELECT', '2']);
  assert.equal(await client.pExpireTime(`sess:${MARK}7`), Date.parse(all[`${MARK}7`].cookie.expires));
  await client.sendCommand(['SELECT', '0']);
  // And back, by the same plain commands: the same sessions, the same expiries.
  const target = join(dir, 'back.snap');
  const back = await cli(['import', url, '--password-file', pw, '--into', target, '--batch', '50', '--json']);
  assert.equal(back.code, 0, back.stderr);
  assert.equal(JSON.parse(back.stdout).imported, 121);
  assert.deepEqual(await readStore(target), await readStore(file));
  assertNoSecrets(plain);
  assertNoSecrets(back);

  // A least-privilege user: its keys and data commands only, not even INFO. The version is then unknown, and the
  // commands every server has (SET PX, PTTL) do the same job.
  await client.sendCommand(['ACL', 'SETUSER', 'least', 'on', '>pw', '~sess:*', '+@read', '+@write', '+@keyspace', '+@connection', '-info', '-@scripting']);
  const least = `redis://least@127.0.0.1:${server.port}/3`;
  const narrow = await cli(['migrate', file, '--to', least, '--password-file', pw, '--batch', '50', '--json']);
  assert.equal(narrow.code, 0, narrow.stderr);
  assert.equal(JSON.parse(narrow.stdout).verified, 121);
  const narrowBack = join(dir, 'narrow-back.snap');
  const home = await cli(['import', least, '--password-file', pw, '--into', narrowBack, '--batch', '50', '--json']);
  assert.equal(home.code, 0, home.stderr);
  const returned = await readStore(narrowBack);
  assert.deepEqual(Object.keys(returned).sort(), Object.keys(await readStore(file)).sort());
  assert.deepEqual(returned[`${MARK}7`], (await readStore(file))[`${MARK}7`]);
});

test('migrate: unreachable server fails fast, exit 1, the file unchanged; wrong password gives the server word, masked', async (t) => {
  const password = 'pw-Secr3t-9';
  const server = await privateRedis(t, ['--requirepass', password]);
  if (!server) return;
  const dir = tempDir(t);
  const file = join(dir, 's.snap');
  await writeStore(file, sessions(5));
  const before = readFileSync(file);
  const port = await freePort();
  const down = await cli(['migrate', file, '--to', `redis://127.0.0.1:${port}`]);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /cannot connect to redis:\/\/127\.0\.0\.1:\d+.*ECONNREFUSED.*Nothing was changed/);

  // A server that accepts the connection and never answers: the connect deadline.
  const { createServer } = await import('node:net');
  const silent = createServer(() => {}).listen(0, '127.0.0.1');
  await new Promise((resolve) => silent.once('listening', resolve));
  t.after(() => silent.close());
  // No wall-clock assertion (a loaded machine starts node slowly): the message proves the deadline ended it.
  const hung = await cli(['migrate', file, '--to', `redis://127.0.0.1:${silent.address().port}`]);
  assert.equal(hung.code, 1);
  assert.match(hung.stderr, /cannot connect to .*no answer within 6 s/);
  silent.closeAllConnections?.();

  const wrong = await cli(['migrate', file, '--to', `redis://default:${password}x@127.0.0.1:${server.port}`]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /WRONGPASS|invalid password|invalid username-password/i);
  assert.match(wrong.stderr, /redis:\/\/default:\*\*\*@/);
  assertNoSecrets(wrong, password);

  const pwFile = join(dir, 'pw');
  writeFileSync(pwFile, `${password}\n`);
  const good = await cli(['migrate', file, '--to', `redis://127.0.0.1:${server.port}`, '--password-file', pwFile, '--json']);
  assert.equal(good.code, 0, good.stderr);
  assert.equal(JSON.parse(good.stdout).written, 5);
  assertNoSecrets(good, password);
  const inUrl = await cli(['import', `redis://:${password}@127.0.0.1:${server.port}`, '--into', join(dir, 'b.snap'), '--json']);
  assert.equal(inUrl.code, 0, inUrl.stderr);
  assert.equal(JSON.parse(inUrl.stdout).source, `redis://:***@127.0.0.1:${server.port}`);
  assert.match(inUrl.stderr, /password in the URL can be seen .*--password-file/);
  assertNoSecrets(inUrl, password);
  // "-" reads the password from standard input (a pipe), and the file's password replaces the (wrong) URL's.
  const piped = await cli(['migrate', file, '--to', `redis://:wrong@127.0.0.1:${server.port}`, '--password-file', '-', '--replace', '--json'],
    { input: `${password}\n` });
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal(JSON.parse(piped.stdout).written, 5);
  assert.doesNotMatch(piped.stderr, /password in the URL/);
  assertNoSecrets(piped, password);
  assert.deepEqual(readFileSync(file), before);
});

test('migrate: refuses while a store holds the file, and a damaged file (nothing sent); values not JSON', async (t) => {
  const setup = await serverAndStore(t, sessions(5));
  if (!setup) return;
  const { server, client, dir, file } = setup;
  const url = `redis://127.0.0.1:${server.port}`;
  const running = new MemFileStore({ saveFile: file });
  const locked = await cli(['migrate', file, '--to', url]);
  await running.close();
  assert.equal(locked.code, 1);
  assert.match(locked.stderr, /in use by running process \d+: stop the app first/);

  const bytes = readFileSync(file);
  const damaged = Buffer.from(bytes);
  damaged[damaged.length - 10] ^= 1;
  writeFileSync(file, damaged);
  const bad = await cli(['migrate', file, '--to', url]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /damaged: (checksum mismatch|the trailer)/);
  assert.equal(await client.dbSize(), 0);

  const custom = join(dir, 'custom.snap');
  const store = new MemFileStore({ saveFile: custom, serializer: { stringify: (s) => `v1:${JSON.stringify(s)}`, parse: (s) => JSON.parse(s.slice(3)) } });
  await new Promise((resolve) => store.set('x', sessionFor(1), resolve));
  await store.close();
  const notJson = await cli(['migrate', custom, '--to', url]);
  assert.equal(notJson.code, 1);
  assert.match(notJson.stderr, /1 session .* is not JSON objects with a cookie.*nothing was sent/);
  assert.equal(await client.dbSize(), 0);
});

test('migrate: a failure mid-way prints the counts so far and how to resume; the rerun finishes', async (t) => {
  const setup = await serverAndStore(t, sessions(3000));
  if (!setup) return;
  const { server, client, file } = setup;
  // 3000 keys take about 1 MB: room for some batches, then the server refuses writes (OOM).
  await capMemory(client, 300_000, 'noeviction');
  const url = `redis://127.0.0.1:${server.port}`;
  const failed = await cli(['migrate', file, '--to', url, '--batch', '100']);
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /writing failed after \d+ of 3000 sessions: OOM.*unchanged.*--replace to finish/);
  const written = Number(/after (\d+) of/.exec(failed.stderr)[1]);
  assert.ok(written > 0 && written < 3000, String(written));
  await client.configSet('maxmemory', '0');
  const resumed = await cli(['migrate', file, '--to', url, '--replace', '--json']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(JSON.parse(resumed.stdout).verified, 3000);
  assert.equal(await client.dbSize(), 3000);
});

test('without the optional redis package, migrate says what to install (exit 1); file commands still work', async (t) => {
  // A copy of the package in an app without node_modules/redis.
  const app = tempDir(t);
  const root = fileURLToPath(new URL('..', import.meta.url));
  const pkgDir = join(app, 'node_modules', 'express-memfilestore');
  mkdirSync(pkgDir, { recursive: true });
  cpSync(join(root, 'dist'), join(pkgDir, 'dist'), { recursive: true });
  cpSync(join(root, 'package.json'), join(pkgDir, 'package.json'));
  for (const dep of ['lru-cache', 'debug', 'ms']) symlinkSync(join(root, 'node_modules', dep), join(app, 'node_modules', dep));
  const file = join(app, 's.snap');
  await writeStore(file, sessions(2));
  const { execFile } = await import('node:child_process');
  const run = (args) => new Promise((resolve) => {
    execFile(process.execPath, [join(pkgDir, 'dist', 'cli', 'bin.js'), ...args], { cwd: app }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, stdout, stderr });
    });
  });
  const result = await run(['migrate', file, '--to', 'redis://127.0.0.1:1']);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /needs the "redis" package.*npm install redis@5.*redis@6/);
  assert.equal((await run(['verify', file])).code, 0);
  assert.ok(BIN);
});

test('migrate and import redis:// work on a server where KEYS is disabled: keys are found with SCAN, never KEYS', async (t) => {
  // KEYS blocks the server while it walks every key; operators rename it away, as here.
  const setup = await serverAndStore(t, sessions(30), ['--rename-command', 'KEYS', '']);
  if (!setup) return;
  const { server, client, dir, file } = setup;
  await assert.rejects(client.sendCommand(['KEYS', '*']), /unknown command/i, 'KEYS is disabled on this server');
  const url = `redis://127.0.0.1:${server.port}`;
  const migrated = await cli(['migrate', file, '--to', url, '--json']);
  assert.equal(migrated.code, 0, migrated.stderr);
  assert.equal(JSON.parse(migrated.stdout).verified, 30);
  const rerun = await cli(['migrate', file, '--to', url]);
  assert.equal(rerun.code, 1, 'keys already there are found without KEYS');
  assert.match(rerun.stderr, /already holds keys/);
  const back = join(dir, 'back.snap');
  const imported = await cli(['import', url, '--into', back, '--json']);
  assert.equal(imported.code, 0, imported.stderr);
  assert.equal(JSON.parse(imported.stdout).imported, 30);
});

/** The phases of a `--json` summary: exactly `names`, in that order, each a number of seconds >= 0. */
function assertPhases(phases, names) {
  assert.deepEqual(Object.keys(phases), names);
  for (const name of names) assert.ok(Number.isFinite(phases[name]) && phases[name] >= 0, `${name}: ${phases[name]}`);
}
