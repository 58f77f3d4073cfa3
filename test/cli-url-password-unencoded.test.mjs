// A password typed into a server URL without percent-encoding its "/", "?" or "#": when the part before that character
// is all digits, the URL still parses, as host = the user name and port = those digits, the rest of the password in its
// path, query or fragment. The parsed URL then has no password to mask, and every message printed the URL whole,
// password included ("cannot connect to redis://u:12/pa55@host:6379: Invalid pathname"). The URL is now refused for
// what it is, with its password masked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cli, sessionFor, tempDir, writeStore } from './fixtures/cli/helpers.mjs';

const PASSWORDS = ['4711/Zq9sEcReT', '12?Zq9sEcReT', '6380#Zq9sEcReT'];

test('migrate and import: a URL whose password holds an unencoded "/", "?" or "#" after digits is refused, the password masked', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sessions.db');
  await writeStore(file, { a: sessionFor(1) });
  for (const password of PASSWORDS) {
    const url = `redis://app:${password}@127.0.0.1:1/0`;
    for (const args of [['migrate', file, '--to', url], ['migrate', file, `--to=${url}`, '--json'], ['import', url, '--into', join(dir, 'in.db')]]) {
      const result = await cli(args);
      const output = result.stdout + result.stderr;
      assert.ok(!output.includes('Zq9sEcReT'), `${args[0]} printed the password:\n${output}`);
      assert.equal(result.code, 2, output);
      assert.match(result.stderr, /redis:\/\/app:\*\*\*@127\.0\.0\.1:1\/0/, output);
      assert.match(result.stderr, /percent-encode|--password-file/, output);
    }
  }
});
