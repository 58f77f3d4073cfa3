// The command line's failures as users script against them: one line on stderr starting "error:", no stack trace,
// the exit code the README documents (2 for a usage error: a command, flag, argument or URL the user must correct;
// 1 for a check or operation that failed), and a password given in a URL never printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cli, sessionFor, tempDir, writeStore } from './fixtures/cli/helpers.mjs';

const PASSWORD = 'Qx7pw-secret';

/** One `error:` line on stderr (notes may precede it), no stack frame, the password nowhere. */
function assertOneErrorLine(result, what) {
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  const errors = lines.filter((line) => line.startsWith('error: '));
  assert.equal(errors.length, 1, `${what}: one error line, got:\n${result.stderr}`);
  assert.equal(lines.at(-1), errors[0], `${what}: the error line comes last`);
  assert.ok(!/^\s+at /m.test(result.stderr), `${what}: a stack trace:\n${result.stderr}`);
  for (const text of [result.stdout, result.stderr]) assert.ok(!text.includes('secret'), `${what}: the password printed: ${text}`);
  return errors[0];
}

test('a database in the URL that is not a number is a usage error (exit 2) naming it, for migrate and import', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 's.snap');
  await writeStore(file, { a: sessionFor(1) });
  for (const db of ['sessions', '1.5', '-1', '0x10']) {
    const url = `redis://:${PASSWORD}@127.0.0.1:1/${db}`;
    for (const args of [['migrate', file, '--to', url], ['import', url, '--into', join(dir, 'b.snap')]]) {
      const result = await cli(args);
      const what = `${args[0]} /${db}`;
      const line = assertOneErrorLine(result, what);
      assert.equal(result.code, 2, `${what}: ${line}`);
      assert.match(line, new RegExp(`database "${db.replace('.', '\\.')}"`), what);
      assert.match(line, /\/<db>|a number/, `${what}: says what to write`);
    }
  }
});
