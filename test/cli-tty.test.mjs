// The progress line and colours as a person at a terminal sees them: the bin runs under a real pseudo-terminal
// (util-linux `script`, from Debian's essential bsdutils package), so `process.stderr.isTTY` is true for real.
// Progress (count, rate, bar) shows on a terminal; not when stderr is piped, not with --quiet; NO_COLOR removes
// colour codes. `script` merges stdout and stderr into the one terminal, which is why stdout goes to a file
// where a test needs them apart.
//
// Progress only draws after 300 ms of work, and a few hundred sessions go faster than that: the test pauses the
// server's writes (CLIENT PAUSE … WRITE), waits until the bin's first batch is held by the pause (CLIENT LIST
// flag b), and only lets it go 500 ms later, so every run lasts long enough to draw, on any machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, privateRedis, redisClient, sessionFor, tempDir, writeStore } from './fixtures/cli/helpers.mjs';

const MARK = 'Tt4PrivateSid';
const HOLD_MS = 500;
/** A progress frame: label, bar, count/total and rate. */
const ESC = '\x1b';
const PROGRESS = new RegExp(`\\r${ESC}\\[K(migrate|verify) \\[[#-]{24}\\] \\d+/300 \\d+/s`);
/** An SGR sequence (colour, bold): what NO_COLOR forbids. `\x1b[K` (clear line) is not one. */
const COLOUR = new RegExp(`${ESC}\\[[\\d;]*m`);

function hasScript() {
  const found = spawnSync('script', ['--version'], { encoding: 'utf8' });
  return !found.error && found.status === 0;
}

/** Whether `script` is here; in CI its absence fails the test (.ci/run installs it), elsewhere it skips. */
function canUseTty(t) {
  if (hasScript()) return true;
  if (process.env.CI === 'true') throw new Error('script (util-linux, Debian package bsdutils) is not installed; .ci/run installs it');
  t.skip('script (util-linux) is not installed');
  return false;
}

const quote = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

/**
 * Runs `shellCommand` under a pseudo-terminal; resolves to { code, tty } where `tty` is what the terminal showed.
 * stdin stays an open pipe until the end: `script` stops copying when its input closes.
 */
function underTty(shellCommand, env = {}) {
  return new Promise((resolve) => {
    const child = execFile('script', ['-qfec', shellCommand, '/dev/null'], {
      // A user's colour terminal: Node reports no colours when CI is set (tty.getColorDepth), as .ci/run sets it.
      env: { ...process.env, TERM: 'xterm-256color', COLUMNS: '120', NO_COLOR: undefined, FORCE_COLOR: undefined, CI: undefined, ...env },
      timeout: 60_000, maxBuffer: 64 * 1024 * 1024,
    }, (err, stdout) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, tty: stdout });
    });
    child.stdin.on('error', () => {});
  });
}

test('progress on a terminal; none when stderr is piped or with --quiet; NO_COLOR removes colour', async (t) => {
  if (!canUseTty(t)) return;
  const server = await privateRedis(t);
  if (!server) return;
  const client = await redisClient(t, server.port);
  const dir = tempDir(t);
  const file = join(dir, 's.snap');
  const sessions = {};
  for (let i = 0; i < 300; i++) sessions[`${MARK}${i}`] = sessionFor(i);
  await writeStore(file, sessions);
  const url = `redis://127.0.0.1:${server.port}`;
  const migrate = (extra) => `${quote(process.execPath)} ${quote(BIN)} migrate ${quote(file)} --to ${url} --replace --batch 50 ${extra}`;
  const run = async (shellCommand, env) => {
    await client.sendCommand(['CLIENT', 'PAUSE', '30000', 'WRITE']);
    const done = underTty(shellCommand, env);
    try {
      const until = Date.now() + 20_000;
      while (!/flags=\w*b/.test(await client.sendCommand(['CLIENT', 'LIST']))) {
        if (Date.now() > until) throw new Error('the bin never wrote');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
    } finally {
      await client.sendCommand(['CLIENT', 'UNPAUSE']);
    }
    return done;
  };

  // stdout to a file, stderr on the terminal: the terminal shows progress frames, cleared at the end.
  const out = join(dir, 'out.txt');
  const shown = await run(`${migrate('')} >${quote(out)}`);
  assert.equal(shown.code, 0, shown.tty);
  assert.match(shown.tty, PROGRESS);
  const tail = shown.tty.slice(shown.tty.lastIndexOf('\r\x1b[K'));
  assert.doesNotMatch(tail, /\[[#-]{24}\]/, 'the line is cleared at the end');
  assert.match(readFileSync(out, 'utf8'), /^migrated 300 sessions/);
  assert.ok(!readFileSync(out, 'utf8').includes(ESC), 'no escape codes in the result');
  assert.ok(!shown.tty.includes(MARK), 'no session id on the terminal');

  // stderr piped (stdout still a terminal): no progress anywhere.
  const errFile = join(dir, 'err.txt');
  const piped = await run(`${migrate('')} 2>${quote(errFile)}`);
  assert.equal(piped.code, 0, piped.tty);
  assert.match(piped.tty, /migrated 300 sessions/);
  assert.doesNotMatch(piped.tty + readFileSync(errFile, 'utf8'), /\[[#-]{24}\]/);
  assert.ok(!readFileSync(errFile, 'utf8').includes(ESC));

  // --quiet on a terminal: no progress.
  const quiet = await run(migrate('--quiet'));
  assert.equal(quiet.code, 0, quiet.tty);
  assert.match(quiet.tty, /migrated 300 sessions/);
  assert.doesNotMatch(quiet.tty, /\[[#-]{24}\]/);

  // Colour on a terminal that has it; none at all with NO_COLOR (progress still shows: it is not colour).
  const failing = `${quote(process.execPath)} ${quote(BIN)} verify ${quote(join(dir, 'missing.snap'))}`;
  const coloured = await underTty(failing);
  assert.equal(coloured.code, 1);
  assert.match(coloured.tty, COLOUR, 'an error is coloured on a colour terminal');
  const plainError = await underTty(failing, { NO_COLOR: '1' });
  assert.equal(plainError.code, 1);
  assert.match(plainError.tty, /error: cannot read/);
  assert.doesNotMatch(plainError.tty, COLOUR);
  const plain = await run(migrate(''), { NO_COLOR: '1' });
  assert.equal(plain.code, 0, plain.tty);
  assert.match(plain.tty, PROGRESS);
  assert.doesNotMatch(plain.tty, COLOUR);
  assert.equal(await client.dbSize(), 300);
});

test('export --out - refuses a terminal (sessions are credentials), exit 2, and prints none; stdout to a file gets them', async (t) => {
  if (!canUseTty(t)) return;
  const dir = tempDir(t);
  const file = join(dir, 's.snap');
  await writeStore(file, { [`${MARK}1`]: sessionFor(1) });
  const exportTo = (tail) => `${quote(process.execPath)} ${quote(BIN)} export ${quote(file)} --out - ${tail}`;
  const shown = await underTty(exportTo(''));
  assert.equal(shown.code, 2, shown.tty);
  assert.match(shown.tty, /refusing to print sessions \(credentials\) on a terminal/);
  assert.ok(!shown.tty.includes(MARK), 'no session id on the terminal');
  const out = join(dir, 'out.jsonl');
  const redirected = await underTty(`${exportTo(`>${quote(out)}`)}; echo "exit $?"`);
  assert.match(redirected.tty, /exit 0/);
  assert.match(redirected.tty, /exported 1 session /);
  assert.ok(!redirected.tty.includes(MARK));
  assert.equal(JSON.parse(readFileSync(out, 'utf8')).sid, `${MARK}1`);
});

test('--password-file - refuses a terminal (it would wait for the password, echoed), exit 2, before connecting', async (t) => {
  if (!canUseTty(t)) return;
  const dir = tempDir(t);
  const file = join(dir, 's.snap');
  await writeStore(file, { [`${MARK}1`]: sessionFor(1) });
  // Port 9 (discard) on loopback: nothing listens; the refusal must come before any connection is tried.
  const shown = await underTty(`${quote(process.execPath)} ${quote(BIN)} migrate ${quote(file)} --to redis://127.0.0.1:9 --password-file -`);
  assert.equal(shown.code, 2, shown.tty);
  assert.match(shown.tty, /--password-file - reads the password from standard input, which is a terminal here/);
  assert.doesNotMatch(shown.tty, /cannot connect/);
});
