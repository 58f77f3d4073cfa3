// A saveFile the app may write in a directory it may not (1.x worked there: it wrote only the file itself). 2.x creates
// its lock, journal and a save's temp file beside the file: the start must refuse with what to do (write access to the
// directory), not only "permission denied" on a lock file that does not exist, which sent users to chmod it.
// A real child process running as uid 65534, on a file it owns in a directory of root's (mode 0755).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './fixtures/persist/helpers.mjs';
import { skipUnlessCi } from './fixtures/must-run.mjs';

const START = fileURLToPath(new URL('./fixtures/start-store.mjs', import.meta.url));
const NOBODY = 65534;
const LEGACY = '{"a":{"cookie":{"originalMaxAge":3600000,"expires":"2999-01-01T00:00:00.000Z"}}}';

for (const given of ['absolute', 'relative']) test(`a saveFile (${given}) the process may write in a directory it may not is refused at start, saying the directory needs write access`, (t) => {
  if (process.getuid?.() !== 0) return skipUnlessCi(t, 'running the store as another user needs root');
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  const file = join(dir, 'sessions.json');
  writeFileSync(file, LEGACY);
  chownSync(file, NOBODY, NOBODY);
  const child = spawnSync(process.execPath, [START, given === 'absolute' ? file : 'sessions.json'], { uid: NOBODY, gid: NOBODY, encoding: 'utf8', cwd: dir });
  assert.equal(child.status, 0, child.stderr);
  const outcome = JSON.parse(child.stdout.split('\n')[0]);
  assert.equal(outcome.code, 'EACCES', child.stdout);
  assert.ok(outcome.message.includes(`"${file}.lock" beside it: permission denied`), outcome.message);
  assert.ok(outcome.message.includes(`write access to the directory "${dir}"`), `says what to do: ${outcome.message}`);
  assert.deepEqual(readdirSync(dir), ['sessions.json']);
  assert.equal(readFileSync(file, 'utf8'), LEGACY);
});
