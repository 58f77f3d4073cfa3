// `import --into` a saveFile the store refuses at start (placement.ts): named as a store's own file, ending in a slash,
// or too long for the names made from it. The bin wrote it, said it was done, and the app then refused to start on
// it: the import must be refused the same way, saying why, and write nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, sessionFor, tempDir } from './fixtures/cli/helpers.mjs';

for (const [what, name, reason] of [
  ['named as a lock', 'sessions.db.lock', /its name is that of a file a store keeps beside its saveFile/],
  ['named as a journal', 'sessions.db.journal.2', /its name is that of a file a store keeps beside its saveFile/],
  ['ending in a slash', 'data/', /ends in a path separator/],
  ['of a name too long for the files beside it', 'a'.repeat(231), /at most 230 bytes/],
]) {
  test(`import --into a saveFile ${what} is refused, and nothing is written`, async (t) => {
    const dir = tempDir(t);
    const source = join(dir, 'source', 'sessions.json');
    mkdirSync(join(dir, 'source'));
    writeFileSync(source, JSON.stringify({ a: sessionFor(1) }));
    const into = join(dir, 'target', name);
    mkdirSync(join(dir, 'target'));
    const result = await cli(['import', source, '--into', into]);
    assert.equal(result.code, 1, `${result.stdout}${result.stderr}`);
    assert.match(result.stderr, reason);
    assert.deepEqual(readdirSync(join(dir, 'target')), [], 'nothing is written');
  });
}
