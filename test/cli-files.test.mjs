// The express-memfilestore bin on files only: verify, inspect, export, import (JSON Lines, 1.x), usage errors and
// exit codes, the lock, and that no session id or content is ever printed. Runs the built bin as a child process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemFileStore } from 'express-memfilestore';
import { call, cli, MINUTE_AGO, readStore, sessionFor, staleSession, tempDir, writeStore } from './fixtures/cli/helpers.mjs';

const SECRET_MARK = 'Zq9SecretSid';
/** Sessions whose ids and contents carry a marker that must never show up in any output. */
function sampleSessions(count = 20) {
  const sessions = {};
  for (let i = 0; i < count; i++) {
    const sess = sessionFor(i, (i + 1) * 3_600_000);
    sess.user.email = `person${i}@${SECRET_MARK}.example`;
    sessions[`${SECRET_MARK}-${i}`] = sess;
  }
  return sessions;
}

function assertNoSecrets(result) {
  assert.ok(!result.stdout.includes(SECRET_MARK), 'stdout must not show ids or contents');
  assert.ok(!result.stderr.includes(SECRET_MARK), 'stderr must not show ids or contents');
}

test('verify: exit 0 on a whole file, works while a store holds it, changes nothing', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.snap');
  await writeStore(file, sampleSessions());
  const before = readFileSync(file);
  const running = new MemFileStore({ saveFile: file });
  t.after(() => running.close());
  const result = await cli(['verify', file]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /is whole .*20 records/);
  assert.match(result.stdout, /in use by running process|another store/);
  const json = await cli(['verify', file, '--json']);
  assert.equal(JSON.parse(json.stdout).sessions, 20);
  assert.deepEqual(readFileSync(file), before);
  // The running store still owns its lock: verify did not take it or remove it.
  assert.ok(existsSync(`${file}.lock`));
  assertNoSecrets(result);
});

test('verify: exit 1 on damage, naming the record and byte offset; on a missing or unreadable file', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.snap');
  await writeStore(file, sampleSessions(5));
  const bytes = readFileSync(file);
  // Break the length of the third record's header line.
  const text = bytes.toString('latin1');
  let at = -1;
  for (let n = 0; n < 3; n++) at = text.indexOf('\nr ', at + 1);
  const damaged = Buffer.from(bytes);
  damaged[at + 3] = 'x'.charCodeAt(0);
  writeFileSync(file, damaged);
  const result = await cli(['verify', file]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /damaged: record 3 has a malformed header at byte \d+/);
  assertNoSecrets(result);

  writeFileSync(file, bytes.subarray(0, bytes.length - 30));
  const truncated = await cli(['verify', file, '--json']);
  assert.equal(truncated.code, 1);
  assert.equal(JSON.parse(truncated.stdout).ok, false);
  assert.match(truncated.stderr, /truncated at byte \d+/);

  const missing = await cli(['verify', join(dir, 'nope.snap')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope\.snap.*no such file/);

  if (process.getuid?.() !== 0) {
    writeFileSync(file, bytes);
    chmodSync(file, 0);
    const unreadable = await cli(['verify', file]);
    assert.equal(unreadable.code, 1);
    assert.match(unreadable.stderr, /permission denied/);
  }
  const notOurs = join(dir, 'other.txt');
  writeFileSync(notOurs, 'hello\n');
  const other = await cli(['verify', notOurs]);
  assert.equal(other.code, 1);
  assert.match(other.stderr, /not an express-memfilestore snapshot/);
});

test('inspect: counts, sizes and expiry spread, with --json, never ids', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.snap');
  const sessions = sampleSessions(4);
  sessions.longer = sessionFor(99, 3 * 24 * 3_600_000);
  sessions.forever = sessionFor(98, null);
  // Saved by a store whose clock is a minute behind: the file holds one record expired by now.
  await writeStore(file, { ...sessions, soon: staleSession(97) }, { clock: MINUTE_AGO });
  const result = await cli(['inspect', file, '--json']);
  assert.equal(result.code, 0, result.stderr);
  const info = JSON.parse(result.stdout);
  assert.equal(info.format, 'v2'); // as verify --json and the store's 'load' event name it
  assert.equal(info.version, 2); // the store writes snapshot format 2 (inspect used to say 1 for every snapshot)
  assert.equal(info.sessions, 6);
  assert.equal(info.expired, 1);
  assert.equal(info.bytes, statSync(file).size);
  assert.match(info.writtenAt, /^\d{4}-\d\d-\d\dT/);
  assert.equal(info.expiries.hour, 1);
  assert.equal(info.expiries.day, 4);
  assert.equal(info.expiries.week, 1);
  assert.equal(info.largest.length, 5);
  assert.equal(info.journalRecords, 0);
  assert.equal(info.tornBytes, 0);
  const human = await cli(['inspect', file]);
  assert.match(human.stdout, /sessions: +6 live, 1 expired/);
  assertNoSecrets(human);
  assertNoSecrets(result);
});

test('export then import: a JSON Lines round trip keeps every session and its expiry; files are 0600', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'a.snap');
  const sessions = sampleSessions(50);
  sessions.forever = sessionFor(1000, null);
  await writeStore(file, sessions, { ttl: 0 });
  const out = join(dir, 'a.jsonl');
  const exported = await cli(['export', file, '--out', out]);
  assert.equal(exported.code, 0, exported.stderr);
  assertNoSecrets(exported);
  assert.equal(statSync(out).mode & 0o777, 0o600);
  const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 51);
  assert.deepEqual(Object.keys(lines[0]), ['sid', 'expires', 'session']);
  // ttl: 0 in the store means never: expires is null.
  assert.ok(lines.every((l) => l.expires === null));

  const again = await cli(['export', file, '--out', out]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /exists.*--force/);

  const target = join(dir, 'b.snap');
  const imported = await cli(['import', out, '--into', target, '--json']);
  assert.equal(imported.code, 0, imported.stderr);
  assert.equal(JSON.parse(imported.stdout).imported, 51);
  assert.equal(statSync(target).mode & 0o777, 0o600);
  assert.deepEqual(await readStore(target), await readStore(file));
});

test('export with expiries: expires in ms survives export and import to the millisecond', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'a.snap');
  await writeStore(file, sampleSessions(10));
  const piped = await cli(['export', file, '--out', '-']);
  assert.equal(piped.code, 0, piped.stderr);
  const lines = piped.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 10);
  const jsonl = join(dir, 'x.jsonl');
  writeFileSync(jsonl, piped.stdout);
  const target = join(dir, 'b.snap');
  assert.equal((await cli(['import', jsonl, '--into', target])).code, 0);
  const back = await cli(['export', target, '--out', '-']);
  assert.deepEqual(back.stdout.trim().split('\n').map((l) => JSON.parse(l)).sort((a, b) => a.expires - b.expires),
    lines.sort((a, b) => a.expires - b.expires));
});

test('import: an express-memfilestore 1.x file, expired ones left out', async (t) => {
  const dir = tempDir(t);
  const legacy = join(dir, 'sessions.json');
  const old = {
    [`${SECRET_MARK}-a`]: sessionFor(1, 3_600_000),
    [`${SECRET_MARK}-b`]: sessionFor(2, 7_200_000),
    [`${SECRET_MARK}-old`]: { cookie: { originalMaxAge: 1000, expires: new Date(Date.now() - 60_000).toISOString(), path: '/' } },
  };
  writeFileSync(legacy, JSON.stringify(old));
  const target = join(dir, 'new.snap');
  const result = await cli(['import', legacy, '--into', target, '--json']);
  assert.equal(result.code, 0, result.stderr);
  const summary = JSON.parse(result.stdout);
  assert.equal(summary.imported, 2);
  assert.equal(summary.expired, 1);
  assert.equal(summary.kind, 'express-memfilestore 1.x file');
  const all = await readStore(target);
  assert.deepEqual(Object.keys(all).sort(), [`${SECRET_MARK}-a`, `${SECRET_MARK}-b`]);
  assert.deepEqual(all[`${SECRET_MARK}-a`].user, old[`${SECRET_MARK}-a`].user);
  assertNoSecrets(result);
});

test('import: refuses a locked target, a target with sessions unless --merge; --merge adds', async (t) => {
  const dir = tempDir(t);
  const source = join(dir, 's.snap');
  await writeStore(source, { one: sessionFor(1), two: sessionFor(2) });
  const jsonl = join(dir, 's.jsonl');
  assert.equal((await cli(['export', source, '--out', jsonl])).code, 0);
  const target = join(dir, 't.snap');
  await writeStore(target, { three: sessionFor(3) });
  const before = readFileSync(target);

  const refused = await cli(['import', jsonl, '--into', target]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /already holds 1 session: .*--replace.*logged out since.*--merge/);
  assert.deepEqual(readFileSync(target), before);

  const running = new MemFileStore({ saveFile: target });
  const locked = await cli(['import', jsonl, '--into', target, '--merge']);
  await running.close();
  assert.equal(locked.code, 1);
  assert.match(locked.stderr, /in use by .*stop the app first/);
  assert.deepEqual(readFileSync(target), before);

  const merged = await cli(['import', jsonl, '--into', target, '--merge']);
  assert.equal(merged.code, 0, merged.stderr);
  assert.deepEqual(Object.keys(await readStore(target)).sort(), ['one', 'three', 'two']);

  // An imported id replaces the saved one (README: "an imported id then replaces the saved one").
  const newer = join(dir, 'newer.snap');
  const replacement = sessionFor(30);
  await writeStore(newer, { three: replacement });
  const newerJsonl = join(dir, 'newer.jsonl');
  assert.equal((await cli(['export', newer, '--out', newerJsonl])).code, 0);
  const replaced = await cli(['import', newerJsonl, '--into', target, '--merge', '--json']);
  assert.equal(replaced.code, 0, replaced.stderr);
  assert.equal(JSON.parse(replaced.stdout).sessions, 3);
  assert.equal(JSON.parse(replaced.stdout).kept, 2, 'the saved session the import replaced is not counted as kept');
  const all = await readStore(target);
  assert.deepEqual(Object.keys(all).sort(), ['one', 'three', 'two']);
  assert.deepEqual(all.three.user, replacement.user);
  // The lock was released: a store can open the file.
  const store = new MemFileStore({ saveFile: target });
  assert.equal(await call(store, 'length'), 3);
  await store.close();
});

test('import --replace writes only the imported sessions (the way back into the file a migration came from); with --merge it is refused', async (t) => {
  const dir = tempDir(t);
  // What Redis holds by the way back: 'one' only, newer than the file's.
  const redisState = join(dir, 'redis-state.snap');
  await writeStore(redisState, { one: sessionFor(1) });
  const fromRedis = join(dir, 'from-redis.jsonl');
  assert.equal((await cli(['export', redisState, '--out', fromRedis])).code, 0);
  // The file as the migration left it: 'two' and 'three' were logged out since.
  const target = join(dir, 't.snap');
  await writeStore(target, { one: sessionFor(10), two: sessionFor(20), three: sessionFor(3) });
  const before = readFileSync(target);

  const both = await cli(['import', fromRedis, '--into', target, '--merge', '--replace']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--merge and --replace cannot be used together/);
  assert.deepEqual(readFileSync(target), before);

  const result = await cli(['import', fromRedis, '--into', target, '--replace', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const summary = JSON.parse(result.stdout);
  assert.equal(summary.sessions, 1);
  assert.equal(summary.kept, 0);
  const all = await readStore(target);
  assert.deepEqual(Object.keys(all), ['one']);
  assert.deepEqual(all.one.user, sessionFor(1).user);
});

test('import: a damaged JSON Lines file is refused with its line number, nothing written', async (t) => {
  const dir = tempDir(t);
  const jsonl = join(dir, 'bad.jsonl');
  const good = JSON.stringify({ sid: `${SECRET_MARK}-1`, expires: Date.now() + 60_000, session: sessionFor(1) });
  writeFileSync(jsonl, `${good}\n{"sid":"${SECRET_MARK}-2","expires":1,"session":{"cookie":{}}\n`);
  const target = join(dir, 't.snap');
  const result = await cli(['import', jsonl, '--into', target]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /line 2: not valid JSON/);
  assert.equal(existsSync(target), false);
  assertNoSecrets(result);

  writeFileSync(jsonl, `${good}\n{"sid":"x","expires":"soon","session":{"cookie":{}}}\n`);
  const wrongShape = await cli(['import', jsonl, '--into', target]);
  assert.equal(wrongShape.code, 1);
  assert.match(wrongShape.stderr, /line 2: not a session line/);

  writeFileSync(jsonl, `${good}\n${good}\n`);
  const repeated = await cli(['import', jsonl, '--into', target]);
  assert.equal(repeated.code, 1);
  assert.match(repeated.stderr, /line 2: repeats the sid/);
  assert.equal(existsSync(target), false);

  const damagedLegacy = join(dir, 'old.json');
  writeFileSync(damagedLegacy, '{"a":{"cookie":{}}');
  const legacy = await cli(['import', damagedLegacy, '--into', target]);
  assert.equal(legacy.code, 1);
  assert.match(legacy.stderr, /damaged: .*1\.x file but is not valid JSON/);
  const missing = await cli(['import', join(dir, 'none.jsonl'), '--into', target]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /none\.jsonl.*no such file/);
  const noDir = await cli(['import', jsonl.replace('bad', 'x'), '--into', join(dir, 'no', 'such', 't.snap')]);
  assert.equal(noDir.code, 1);
});

test('usage errors exit 2: unknown command or flag, missing argument or flag, bad URL scheme, bad numbers', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 's.snap');
  await writeStore(file, { a: sessionFor(1) });
  const cases = [
    [['frobnicate'], /unknown command "frobnicate"/],
    [[], /Usage: express-memfilestore <command>/],
    [['verify'], /missing <file>/],
    [['verify', file, 'extra'], /unexpected argument/],
    [['inspect', file, '--colour'], /Unknown option '--colour'/],
    [['export', file], /needs --out/],
    [['import', file], /needs --into/],
    [['migrate', file], /needs --to/],
    [['migrate', file, '--to', 'http://127.0.0.1:6379'], /unsupported URL scheme "http:"/],
    [['migrate', file, '--to', 'not a url'], /not a URL/],
    [['migrate', file, '--to', 'redis://127.0.0.1:1', '--ttl=-5'], /--ttl expects a positive whole number/],
    // parseArgs's several-line explanation, on one line, with the way to pass a value starting with a dash.
    [['migrate', file, '--to', 'redis://127.0.0.1:1', '--ttl', '-5'], /argument is ambiguous\. .* use '--ttl=-XYZ'; see express-memfilestore migrate --help/],
    [['migrate', file, '--to', 'redis://127.0.0.1:1', '--replace', '--skip-existing'], /exclude each other/],
    [['import', 'mongodb://h/db', '--into', join(dir, 't.snap')], /unsupported source URL scheme/],
    // A "//" forgotten: not a file name to print back (password included), not a host-less URL for node-redis.
    [['import', 'redis:/:pw-Secr3t@h', '--into', join(dir, 't.snap')], /"redis:" must be followed by "\/\/"/],
    [['migrate', file, '--to', 'valkey:pw-Secr3t@h'], /"valkey:" must be followed by "\/\/"/],
    [['export', file, '--out'], /argument missing|requires|argument/i],
  ];
  for (const [args, message] of cases) {
    const result = await cli(args);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message, args.join(' '));
    assert.doesNotMatch(result.stderr, /Secr3t/, 'no password echoed');
  }
  const json = await cli(['verify', '--json']);
  assert.equal(JSON.parse(json.stdout).error.exitCode, 2);
});

test('--help on every command, --version, and NO_COLOR / --no-color', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  assert.equal((await cli(['--version'])).stdout.trim(), pkg.version);
  // The global flags the top-level help lists work before the command too.
  assert.equal((await cli(['--json', '--version'])).stdout.trim(), pkg.version);
  const saved = join(tempDir(t), 's.snap');
  await writeStore(saved, { a: sessionFor(1) });
  const before = await cli(['--json', '-q', 'verify', saved]);
  assert.equal(before.code, 0, before.stderr);
  assert.equal(JSON.parse(before.stdout).ok, true);
  const alone = await cli(['--json']);
  assert.equal(alone.code, 2, 'global flags without a command: usage');
  assert.match(alone.stderr, /Usage: express-memfilestore <command>/);
  const top = await cli(['--help']);
  assert.equal(top.code, 0);
  for (const name of ['verify', 'inspect', 'export', 'import', 'migrate']) {
    assert.match(top.stdout, new RegExp(`^  ${name} `, 'm'));
    const help = await cli([name, '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, new RegExp(`^Usage: express-memfilestore ${name} `));
    // One column for the descriptions, the command's flags and the global ones alike.
    const flags = help.stdout.split('\n').filter((line) => /^ {2}-/.test(line));
    const columns = new Set(flags.map((line) => /^ {2}\S.*? {2,}(?=\S)/.exec(line)?.[0].length));
    assert.equal(columns.size, 1, `${name} --help aligns its descriptions:\n${flags.join('\n')}`);
  }
  // Not a terminal: no escape codes, no progress, whatever the colour settings.
  const dir = tempDir(t);
  const result = await cli(['verify', join(dir, 'missing')], { env: { NO_COLOR: '', FORCE_COLOR: '1' } });
  assert.equal(result.stderr.includes('\x1b'), false);
});

test('a running store cannot start on a file while import writes it, and import leaves no temp files', async (t) => {
  const dir = tempDir(t);
  const source = join(dir, 's.snap');
  const sessions = sampleSessions(200);
  await writeStore(source, sessions);
  const target = join(dir, 't.snap');
  copyFileSync(source, join(dir, 'copy.snap'));
  const result = await cli(['import', join(dir, 'copy.snap'), '--into', target]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(readdirSync(dir).sort(), ['copy.snap', 's.snap', 't.snap']);
  assert.equal(Object.keys(await readStore(target)).length, 200);
});

/**
 * The files a crashed store leaves: a store on `<dir>/crashed/<name>` that is never closed (its last changes live
 * only in its journal, as after a kill -9) makes `changes`, and its files but the lock are copied into `dir` (the
 * running store keeps its own lock). Returns the running store, for the test to close at its end.
 */
async function crashedCopy(dir, name, changes) {
  const crashed = join(dir, 'crashed');
  mkdirSync(crashed);
  const running = new MemFileStore({ saveFile: join(crashed, name), savePeriod: 0 });
  await changes(running);
  for (const file of readdirSync(crashed).filter((n) => !n.endsWith('.lock'))) {
    copyFileSync(join(crashed, file), join(dir, file));
  }
  return running;
}

test('verify and import read the journals a crashed store left; import --merge absorbs them into a snapshot that stands alone', async (t) => {
  const dir = tempDir(t);
  const target = join(dir, 't.snap');
  const running = await crashedCopy(dir, 't.snap', async (store) => {
    await call(store, 'set', 'saved', sessionFor('saved'));
    await store.flush();
    await call(store, 'set', 'journaled', sessionFor('journaled'));
  });
  const journals = () => readdirSync(dir).filter((n) => n.startsWith('t.snap.journal.'));
  assert.ok(journals().length > 0, 'the copy has a journal');

  const verified = await cli(['inspect', target, '--json']);
  assert.equal(verified.code, 0, verified.stderr);
  assert.equal(JSON.parse(verified.stdout).sessions, 2, 'the journaled session counts');

  const source = join(dir, 's.snap');
  await writeStore(source, { imported: sessionFor('imported') });
  const jsonl = join(dir, 's.jsonl');
  assert.equal((await cli(['export', source, '--out', jsonl])).code, 0);
  const merged = await cli(['import', jsonl, '--into', target, '--merge']);
  assert.equal(merged.code, 0, merged.stderr);
  assert.deepEqual(journals(), [], 'the journals were absorbed and removed');
  assert.match(readFileSync(target, 'latin1').split('\n')[0], / nojournal/);
  const store = new MemFileStore({ saveFile: target });
  await store.ready;
  assert.deepEqual((await call(store, 'ids')).sort(), ['imported', 'journaled', 'saved']);
  await store.close();
  await running.close();
});

test('verify, inspect and export read a store that crashed before its first snapshot: its journal alone, as a start does', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'j.snap');
  // A store killed within its first savePeriod leaves a journal and no snapshot; a start loads the journal's sessions.
  const running = await crashedCopy(dir, 'j.snap', async (store) => {
    await call(store, 'set', 'a', sessionFor('a'));
    await call(store, 'set', 'b', sessionFor('b'));
  });
  assert.ok(!existsSync(file), 'no snapshot yet');
  assert.ok(readdirSync(dir).some((n) => n.startsWith('j.snap.journal.')), 'a journal');

  const verified = await cli(['verify', file, '--json']);
  assert.equal(verified.code, 0, verified.stderr);
  assert.equal(JSON.parse(verified.stdout).sessions, 2);
  const inspected = await cli(['inspect', file, '--json']);
  assert.equal(inspected.code, 0, inspected.stderr);
  assert.equal(JSON.parse(inspected.stdout).sessions, 2);
  assert.equal(JSON.parse(inspected.stdout).format, 'none');
  // One name for one fact: what inspect and verify both report, they report under the same keys with the same values.
  const [v, i] = [JSON.parse(verified.stdout), JSON.parse(inspected.stdout)];
  const shared = ['file', 'format', 'sessions', 'expired', 'bytes', 'journalFiles', 'journalRecords', 'tornBytes', 'heldBy'];
  assert.deepEqual(Object.fromEntries(shared.map((k) => [k, i[k]])), Object.fromEntries(shared.map((k) => [k, v[k]])));
  assert.ok(i.journalFiles >= 1 && i.journalRecords >= 2, 'the journal is reported');
  assert.match((await cli(['inspect', file])).stdout, /format: +no snapshot yet \(journal only\)/);
  const out = join(dir, 'j.jsonl');
  const exported = await cli(['export', file, '--out', out]);
  assert.equal(exported.code, 0, exported.stderr);
  assert.deepEqual(readFileSync(out, 'utf8').trim().split('\n').map((line) => JSON.parse(line).sid).sort(), ['a', 'b']);

  // What a start of the store sees, for comparison.
  const store = new MemFileStore({ saveFile: file });
  await store.ready;
  assert.deepEqual((await call(store, 'ids')).sort(), ['a', 'b']);
  await store.close();

  // Still: no snapshot and no journal is a missing file.
  const missing = await cli(['verify', join(dir, 'none.snap')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /none\.snap.*no such file/);
  await running.close();
});
