// Every flag a command accepts is in its --help: the flags are declared once per command (its parseArgs options)
// and described by hand beside them, so a flag added to one and not the other was accepted but undocumented
// (import's --batch was).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('..', import.meta.url));
const BIN = `${root}dist/cli/bin.js`;
const commands = [
  require('../dist/cli/commands/verify.js').verify,
  require('../dist/cli/commands/inspect.js').inspect,
  require('../dist/cli/commands/export.js').exportCommand,
  require('../dist/cli/commands/import.js').importCommand,
  require('../dist/cli/commands/migrate.js').migrate,
];

for (const command of commands) {
  test(`${command.name} --help names every flag ${command.name} accepts`, () => {
    const help = execFileSync(process.execPath, [BIN, command.name, '--help'], { encoding: 'utf8' });
    const flags = Object.keys(command.options);
    const missing = flags.filter((flag) => !new RegExp(`(^|[\\s,])--${flag}\\b`, 'm').test(help));
    assert.deepEqual(missing, [], `${command.name} --help:\n${help}`);
  });
}

test('--version prints the package\'s version, as the README says', () => {
  const printed = execFileSync(process.execPath, [BIN, '--version'], { encoding: 'utf8' });
  assert.equal(printed, `${require('../package.json').version}\n`);
});
