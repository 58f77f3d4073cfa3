// A server URL with a password given where the command expects a file name or as one argument too many (`migrate
// sessions.db redis://:pw@host`, forgetting --to; `verify redis://:pw@host`, verifying the server): the error quoted
// the argument whole, password included, on stderr and in --json output (CI logs). The help promises "passwords in
// URLs are shown as ***": every message masks them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cli, tempDir } from './fixtures/cli/helpers.mjs';

const SECRET = 'Planted-pw-7q';
const URL_WITH_PASSWORD = `redis://admin:${SECRET}@127.0.0.1:1/0`;

test('a URL with a password in the wrong place: no message repeats the password', async (t) => {
  const dir = tempDir(t);
  const runs = [
    ['migrate', join(dir, 'sessions.db'), URL_WITH_PASSWORD],
    ['migrate', join(dir, 'sessions.db'), URL_WITH_PASSWORD, '--json'],
    ['verify', URL_WITH_PASSWORD],
    ['verify', URL_WITH_PASSWORD, '--json'],
    ['inspect', URL_WITH_PASSWORD],
    ['import', `redis//admin:${SECRET}@127.0.0.1:1/0`, '--into', join(dir, 'sessions.db')],
    ['export', join(dir, 'sessions.db'), '--out', URL_WITH_PASSWORD],
  ];
  for (const args of runs) {
    const { code, stdout, stderr } = await cli(args);
    assert.notEqual(code, 0, `${args[0]} failed`);
    assert.ok(stderr.length > 0);
    assert.ok(!`${stdout}${stderr}`.includes(SECRET), `${args.join(' ')}: the password was printed:\n${stdout}${stderr}`);
  }
});
