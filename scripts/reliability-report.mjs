// Writes the README's reliability figures from the scripts' results, between the markers
// `<!-- reliability:start -->` and `<!-- reliability:end -->` of its "Reliability" section:
//
//   node scripts/reliability-report.mjs [--check]
//
// Reads scripts/results/crash-loop.json (scripts/crash-loop.mjs --json), scripts/results/journal-crash-loop.json
// (scripts/journal-crash-loop.mjs --json), scripts/results/soak.json (scripts/soak.mjs --json) and, when
// present, scripts/results/faults.json (fault-injection tests) and scripts/results/mutation.json
// (scripts/mutate.mjs, `npm run mutate`); any file missing is left out. Every number in the section comes
// from those files. faults.json is read as
// `{ faultsInjected?, sessionsLost?, kinds?: { [kind]: count } | string[], command?, date?, node?, ... }`;
// other scalar fields are listed as they are. `--check` writes nothing and exits 1 if the README is stale.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const README = fileURLToPath(new URL('../README.md', import.meta.url));
const RESULTS = new URL('./results/', import.meta.url);
const START = '<!-- reliability:start -->';
const END = '<!-- reliability:end -->';

function read(name) {
  const url = new URL(name, RESULTS);
  if (!existsSync(url)) return undefined;
  return JSON.parse(readFileSync(url, 'utf8'));
}

const n = (x) => (typeof x === 'number' ? x.toLocaleString('en-US') : String(x));
const day = (iso) => (typeof iso === 'string' ? iso.slice(0, 10) : 'unknown date');
const mib = (x) => x.toFixed(1);
const kb = (bytes) => `${n(Math.round(bytes / 1024))} KiB`;
const seconds = (ms) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
const machine = (r) => (r.machine ? `${r.machine.cpus} × ${r.machine.cpu}, ${r.machine.memGB} GB, ${r.machine.os}` : 'unknown machine');

const crash = read('crash-loop.json');
const journalCrash = read('journal-crash-loop.json');
const soak = read('soak.json');
const faults = read('faults.json');
const mutation = read('mutation.json');
if (!crash && !journalCrash && !soak && !faults && !mutation) {
  console.error('no results in scripts/results/: run node scripts/crash-loop.mjs --json and node scripts/soak.mjs --json first');
  process.exit(1);
}

const rows = [];
const runs = [];
const commands = ['npm run build'];

if (crash) {
  const d = crash.detail ?? {};
  const c = crash.config ?? {};
  rows.push([
    '**Crash loop** (`scripts/crash-loop.mjs`)',
    `${n(crash.iterations)} SIGKILLs at random instants of a process saving under write load (sets, touches, destroys ` +
      `on ${n(c.sessions)} session ids; a save every ${n(c.savePeriodMs)} ms, each chunk written to the temp file slowed by ` +
      `${n(c.writeDelayMs)} ms). **${n(crash.killsMidSave)} kills landed mid-save**: ${n(d.killsWhileWriting)} while the temp ` +
      `file was being written, ${n(d.killsDuringRename)} with its rename in flight.`,
    `${n(crash.filesVerified)} files verified: each was byte for byte (sha256) the one snapshot it had to be among the ` +
      `${n(d.snapshotsCompleted)} the children completed, passed an independent reader, and loaded in a fresh store with ` +
      `the sessions, values and LRU order the child held when that save started (${n(d.sessionsChecked)} sessions checked); ` +
      `no temp file left after the load. **Sessions lost: ${n(crash.sessionsLost)}** of the completed snapshots (changes ` +
      `made after the last completed save are lost by design, see above); mismatches: ${n(crash.mismatches)}.`,
  ]);
  runs.push(`crash loop: ${day(crash.date)}, ${seconds(crash.durationMs)}, Node ${crash.node}, ${machine(crash)}`);
  commands.push(crash.command ?? 'node scripts/crash-loop.mjs');
}

if (journalCrash) {
  const c = journalCrash.config ?? {};
  const modes = Object.values(journalCrash.modes ?? {});
  const sum = (key) => modes.reduce((total, m) => total + (m[key] ?? 0), 0);
  const lost = (m) => `'${m.mode}': **${n(m.acknowledgedLost)} acknowledged changes lost** of ${n(m.changesAcknowledged)}` +
    (m.acknowledgedLost > 0 ? ` (the oldest acknowledged ${n(m.worstLostAgeMs)} ms before the kill)`
      : m.mode === 'everysec' ? ' (none lost, so no worst age to report)' : '') +
    `, ${n(m.unacknowledgedKept)} changes kept that were not yet acknowledged`;
  rows.push([
    '**Crash loop with acknowledgements** (`scripts/journal-crash-loop.mjs`)',
    `${modes.map((m) => `${n(m.kills)} SIGKILLs with \`journal: '${m.mode}'\``).join(' and ')} at random instants of a process ` +
      `making new sessions, overwrites, touches and destroys (${n(sum('changesIssued'))} changes, ${n(sum('changesAcknowledged'))} ` +
      `acknowledged: their callback was called) while snapshots ran every ${n(c.savePeriodMs)} ms or, one child in ` +
      `${Math.round(1 / (c.sizeProfileShare ?? 0.25))}, when the journal passed ${n((c.sizeLimitBytes ?? 0) / 2 ** 20)} MiB ` +
      `(${n(sum('snapshotsCompleted'))} snapshots completed before a kill, ${n(sum('compactions'))} of them started by size); **${n(sum('killsMidSnapshot'))} kills landed during a snapshot** (its ` +
      `journal rotation or its write)` + (modes.some((m) => m.killsMidCompaction !== undefined)
      ? `, ${n(sum('killsMidCompaction'))} of them during one the journal's size started (the ${n(sum('sizeProfileKills'))} children of that profile ` +
        `are killed 0-${n(c.sizeKillMs)} ms after their first such snapshot starts; ${n(sum('sizeProfileNoCompaction'))} never started one)`
      : '') + '. ' +
      `After each kill a fresh store loaded the files (${n(sum('journalRecordsReplayed'))} ` +
      `journal records replayed, ${n(sum('tornTails'))} torn tails cut)${c.filesIn ? `; files in ${c.filesIn}` : ''}.`,
    `${modes.map(lost).join('; ')}. Every reload was exactly the state after the first k changes for some k ` +
      `(not a prefix: ${n(sum('notAPrefix'))}).`,
  ]);
  runs.push(`crash loop with acknowledgements: ${day(journalCrash.date)}, ${seconds(journalCrash.durationMs)}, Node ${journalCrash.node}, ` +
    `${machine(journalCrash)}`);
  commands.push(journalCrash.command ?? 'node scripts/journal-crash-loop.mjs --json');
}

if (soak) {
  const c = soak.config ?? {};
  rows.push([
    '**Soak** (`scripts/soak.mjs`)',
    `${n(soak.ops)} operations through the callback API (${n(soak.opsByKind?.get)} get, ${n(soak.opsByKind?.set)} set, ` +
      `${n(soak.opsByKind?.touch)} touch, ${n(soak.opsByKind?.destroy)} destroy) at ${n(soak.opsPerSecond)} ops/s on one store ` +
      `with max ${n(c.max)}, ttl ${n(c.ttlMs)} ms, checkPeriod ${n(c.checkPeriodMs)} ms, savePeriod ${n(c.savePeriodMs)} ms: ` +
      `${n(soak.evicted)} sessions evicted, ${n(soak.expired)} expired, ${n(soak.destroyed)} destroyed, ${n(soak.prunes)} prunes, ` +
      `${n(soak.saves)} saves.`,
    `${soak.bounded ? '**Bounded**' : '**NOT bounded**'} (last quarter of the run against the second): heapUsed after GC ` +
      `${mib(soak.heapUsedMiB.medianQ2)} → ${mib(soak.heapUsedMiB.medianQ4)} MiB (median; max ${mib(soak.heapUsedMiB.max)} MiB); ` +
      `RSS ${mib(soak.rssMiB.medianQ2)} → ${mib(soak.rssMiB.medianQ4)} MiB; open fds ` +
      `at most ${soak.fds.maxQ2} → ${soak.fds.maxQ4}, ${soak.fds.baseline} before the store and ${soak.fds.afterClose} after ` +
      `close(); snapshot file at most ${kb(soak.fileBytes.maxQ2)} → ${kb(soak.fileBytes.maxQ4)}; ` +
      (soak.journal ? `journal ('${soak.journal.mode}') at most ${kb(soak.journal.bytesMaxQ2)} → ${kb(soak.journal.bytesMaxQ4)} ` +
        `between snapshots, at most ${soak.journal.filesMaxWhileRunning} journal files at once, ${soak.journal.filesAfterClose} after close(); ` : '') +
      `temp files at most ` +
      `${soak.tempFiles.maxWhileRunning} while saving, ${soak.tempFiles.afterClose} after close(); at most ` +
      `${n(soak.maxSessions)} sessions held.`,
  ]);
  runs.push(`soak: ${day(soak.date)}, ${seconds(soak.durationMs)}, Node ${soak.node}, ${machine(soak)}`);
  commands.push(soak.command ?? 'node scripts/soak.mjs');
}

if (faults) {
  const known = new Set(['faultsInjected', 'sessionsLost', 'kinds', 'command', 'date', 'node', 'machine', 'durationMs']);
  const kinds = Array.isArray(faults.kinds) ? faults.kinds.join(', ')
    : faults.kinds && typeof faults.kinds === 'object' ? Object.entries(faults.kinds).map(([k, v]) => `${k} ${n(v)}`).join(', ')
      : undefined;
  const others = Object.entries(faults)
    .filter(([k, v]) => !known.has(k) && (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string'))
    .map(([k, v]) => `${k}: ${n(v)}`);
  rows.push([
    '**Faults**',
    [faults.faultsInjected === undefined ? undefined : `${n(faults.faultsInjected)} faults injected`, kinds && `(${kinds}).`]
      .filter(Boolean).join(' ') || 'fault-injection tests.',
    `${[faults.sessionsLost === undefined ? undefined : `**Sessions lost: ${n(faults.sessionsLost)}**`, ...others].filter(Boolean).join('; ')}.`,
  ]);
  runs.push(`faults: ${day(faults.date)}${faults.node ? `, Node ${faults.node}` : ''}${faults.machine ? `, ${machine(faults)}` : ''}`);
  if (faults.command) commands.push(faults.command);
}

if (mutation) {
  const entries = Object.entries(mutation.files ?? {}).filter(([file]) => (mutation.durabilityFiles ?? [file]).includes(file));
  const missing = (mutation.durabilityFiles ?? []).filter((file) => !mutation.files?.[file]);
  const sum = (key) => entries.reduce((total, [, r]) => total + (r[key] ?? 0), 0);
  const detected = sum('killed') + sum('timedOut');
  const valid = detected + sum('survived') + sum('noCoverage');
  const unexplained = entries.reduce((total, [, r]) => total + (r.survivors?.length ?? 0), 0);
  const perFile = entries.map(([file, r]) => `\`${file.replace(/^src\/files\//, '')}\` ${r.score}% ` +
    `(${n(r.killed + r.timedOut)} of ${n(r.killed + r.timedOut + r.survived + r.noCoverage)}; ${n(r.explained)} explained` +
    `${r.survivors?.length ? `, **${n(r.survivors.length)} unexplained**` : ''}` +
    `${r.staticNotRun ? `; ${n(r.staticNotRun)} module-level mutants not run` : ''}` +
    `${r.testFiles ? `; against ${n(r.testFiles.length)} chosen test files only` : ''}` +
    `${r.date ? `; run ${r.date.slice(0, 16).replace('T', ' ')} UTC` : ''})`);
  rows.push([
    '**Mutation testing** (Stryker, `npm run mutate`)',
    `${n(sum('mutants'))} mutants of the durability code, each built into a copy of the package and run against ` +
      `the test files that reach it${mutation.testFilesLeftOut?.length ? ` (all but the slowest: ${mutation.testFilesLeftOut.map((f) => `\`${f.replace(/^test\//, '')}\``).join(', ')})` : ''}: ` +
      `${n(detected)} of ${n(valid)} detected (${valid === 0 ? 100 : (Math.round((detected / valid) * 1000) / 10)}%)` +
      `${sum('compileErrors') ? `; the other ${n(sum('compileErrors'))} did not compile (TypeScript refused the mutated code) and count for neither` : ''}.` +
      ` Per file: ${perFile.join('; ')}.` +
      `${missing.length ? ` Not measured yet: ${missing.map((f) => `\`${f.replace(/^src\/files\//, '')}\``).join(', ')}.` : ''}` +
      `${sum('staticNotRun') ? ` Module-level mutants (constants, regular expressions: each needs every test file) were left out of ` +
        `the runs marked so (\`MUTATE_SKIP_STATIC=1\`), ${n(sum('staticNotRun'))} in all: not measured, not explained.` : ''}`,
    `${unexplained === 0 ? '**Every undetected mutant is explained**' : `**${n(unexplained)} undetected mutants not yet explained**`} in ` +
      '`scripts/mutation-explained.json` (equivalent mutants, races no test can time, branches reached only as a non-root ' +
      'user or only in child processes, whose coverage Stryker does not see).',
  ]);
  const dates = entries.map(([, r]) => r.date).filter(Boolean).sort();
  runs.push(`mutation: ${day(dates[0])}${dates.at(-1) && day(dates.at(-1)) !== day(dates[0]) ? ` to ${day(dates.at(-1))}` : ''}, Node ${mutation.node}, ${machine(mutation)}`);
  commands.push('npm run mutate   # or one file: npm run mutate -- src/files/file-lock.ts');
}

const section = [
  START,
  ...rows.map(([title, what, result]) => `- ${title}: ${what} ${result}`),
  '',
  `Last runs: ${runs.join('; ')}.`,
  '',
  'To reproduce (each script exits non-zero if a check fails; `--json` writes its figures to `scripts/results/`):',
  '',
  '```sh',
  ...commands.map((c) => (c.startsWith('node scripts/') && !c.includes('--json') && !c.includes('reliability') ? `${c} --json` : c)),
  'node scripts/reliability-report.mjs   # rewrites this section from scripts/results/*.json',
  '```',
  END,
].join('\n');

const readme = readFileSync(README, 'utf8');
const from = readme.indexOf(START);
const to = readme.indexOf(END);
if (from < 0 || to < from) {
  console.error(`README.md has no ${START} ... ${END} markers (they belong in its "Reliability" section)`);
  process.exit(1);
}
const updated = readme.slice(0, from) + section + readme.slice(to + END.length);
if (process.argv.includes('--check')) {
  if (updated !== readme) {
    console.error('README.md reliability section is stale: run node scripts/reliability-report.mjs');
    process.exit(1);
  }
  console.log('README.md reliability section is up to date');
} else {
  if (updated !== readme) writeFileSync(README, updated);
  console.log(`README.md reliability section ${updated === readme ? 'already up to date' : 'written'} from ` +
    `${[crash && 'crash-loop', journalCrash && 'journal-crash-loop', soak && 'soak', faults && 'faults', mutation && 'mutation'].filter(Boolean).join(', ')} results`);
}
