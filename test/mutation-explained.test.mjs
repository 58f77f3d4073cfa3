// scripts/mutation-explained.json says why a surviving mutant of the durability code is left alive, matched on a
// piece of its line's code. An entry whose code is no longer in its file explains nothing, and a mutant it used to
// cover comes back unexplained only at the next (hours-long) mutation run: twelve such entries had piled up over
// refactorings. Each entry must still name code of its file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const explained = JSON.parse(readFileSync(new URL('scripts/mutation-explained.json', root), 'utf8'));

test('every explained mutant names code still in its file', () => {
  const stale = [];
  for (const [file, entries] of Object.entries(explained)) {
    const source = readFileSync(new URL(file, root), 'utf8');
    for (const entry of entries) {
      assert.equal(typeof entry.why, 'string', `${file}: an entry without its reason`);
      if (!source.includes(entry.code)) stale.push(`${file}: ${entry.code}`);
    }
  }
  assert.deepEqual(stale, []);
});
