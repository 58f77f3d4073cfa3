// Mutation testing of the durability code with Stryker, and its score per file:
//
//   npm run mutate                      # every file in stryker.config.mjs's durabilityFiles
//   npm run mutate -- src/files/file-lock.ts [more files]
//   MUTATE_DIR=.tmp/stryker-b MUTATE_CONCURRENCY=1 npm run mutate -- <other files>   # a second run beside the first
//   MUTATE_SKIP_STATIC=1 npm run mutate -- <files>   # leave out module-level mutants (counted as not run)
//   node scripts/mutate.mjs --partial[=<record>,<later record>]   # score what a run cut short finished
//   MUTATE_TESTS=test/a.test.mjs,test/b.test.mjs npm run mutate -- <file>:<line>-<line>   # do new tests kill these?
//
// Builds nothing itself (Stryker builds the mutated copy in its sandbox). Merges the per-file figures into
// scripts/results/mutation.json (a run on one file replaces that file's entry, keeps the others), lists the
// surviving mutants, and exits 1 when a durability file has a survivor that is neither killed nor explained.
// Explained: an entry of scripts/mutation-explained.json (file, a piece of the mutated line's code, the
// mutators it covers, and why no test can or should kill it), or a `// Stryker disable ...: reason` comment,
// which Stryker reports as "Ignored" with its reason. Survivors include "NoCoverage" mutants: code the test
// processes never ran (Stryker measures coverage in the test file's own process, not in the child processes
// some tests start).
import { spawnSync } from 'node:child_process';
import { cpus, totalmem, release } from 'node:os';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { durabilityFiles, slowTestFiles, workDir } from '../stryker.config.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const REPORT = new URL(`../${workDir}/mutation.json`, import.meta.url);
const RESULTS = new URL('./results/mutation.json', import.meta.url);

const files = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const targets = files.length > 0 ? files : durabilityFiles;
// --from-report=<stryker json>: recount an earlier run (after editing the explanations) without mutating again.
const fromReport = process.argv.find((a) => a.startsWith('--from-report='))?.slice('--from-report='.length);
// --partial[=<jsonl>]: score the files a run cut short finished (scripts/stryker-partial-reporter.mjs's record).
const partialArg = process.argv.find((a) => a === '--partial' || a.startsWith('--partial='));
const partial = partialArg === undefined ? undefined : (partialArg.split('=')[1] ?? `${workDir}/partial.jsonl`);
const started = Date.now();
if (fromReport === undefined && partial === undefined) {
  const cli = join(root, 'node_modules/@stryker-mutator/core/bin/stryker.js');
  const run = spawnSync(process.execPath, [cli, 'run', 'stryker.config.mjs', '--mutate', targets.join(',')], { cwd: root, stdio: 'inherit' });
  if (run.status !== 0 || !existsSync(REPORT)) {
    console.error(`stryker failed (exit ${run.status ?? run.signal})`);
    process.exit(1);
  }
}

const report = partial === undefined ? JSON.parse(readFileSync(fromReport ?? REPORT, 'utf8')) : partialReport(partial);
if (fromReport === undefined && partial === undefined) {
  // Kept per run (the next run overwrites Stryker's report), for --from-report after editing the explanations.
  // Line ranges (`file:12-14`) left out of the name: a run on many ranges made it longer than a file name may be.
  const name = [...new Set(targets.map((f) => f.replace(/:.*$/, '').replace(/^src\//, '').replaceAll('/', '-')))].join('+');
  writeFileSync(new URL(`../${workDir}/report-${name}.json`, import.meta.url), JSON.stringify(report));
}
/**
 * A report of the files whose every mutant a cut-short run tested; the others are named and left out. Several
 * records (comma-separated): the first gives the files and their mutant counts; a later record's result for the
 * same mutant (file, position, mutator, replacement) replaces the earlier one, as when a run restricted to new
 * tests (MUTATE_TESTS) and to the survivors' lines checks that those tests kill them.
 */
function partialReport(paths) {
  const [[first, ...head], ...more] = paths.split(',').map((path) => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line)));
  // The end too: nested expressions (`a || b` and `a || b || c`) start at the same place with the same mutator and replacement.
  const key = (m) => `${m.fileName}:${m.location.start.line}:${m.location.start.column}-${m.location.end.line}:${m.location.end.column}:${m.mutatorName}:${m.replacement}`;
  const results = new Map(head.map((m) => [key(m), m]));
  for (const [, ...later] of more) {
    // Only a kill counts: a run on a few test files says nothing about what the others would detect.
    for (const m of later) if (results.has(key(m)) && (m.status === 'Killed' || m.status === 'Timeout')) results.set(key(m), m);
  }
  const byFile = {};
  for (const m of results.values()) (byFile[m.fileName] ??= []).push(m);
  const files = {};
  for (const [file, total] of Object.entries(first.total)) {
    const mutants = byFile[file] ?? [];
    if (mutants.length < total) {
      console.log(`${file}: not finished (${mutants.length} of ${total} mutants tested), left out`);
      continue;
    }
    files[file] = { mutants, source: readFileSync(join(root, file), 'utf8') };
  }
  return { files };
}

const explanations = JSON.parse(readFileSync(new URL('./mutation-explained.json', import.meta.url), 'utf8'));

/** The explanation of a surviving mutant, matched on its file, the code of its line (and the next) and its mutator. */
function explain(file, source, mutant) {
  // The mutated line and the next one: enough to tell apart lines that read the same (a `catch` and its first line).
  const lines = source.split('\n');
  const at = `${lines[mutant.location.start.line - 1] ?? ''}\n${lines[mutant.location.start.line] ?? ''}`;
  return (explanations[file] ?? []).find((e) => at.includes(e.code) && (e.mutators === undefined || e.mutators.includes(mutant.mutatorName)))?.why;
}
const previous = existsSync(RESULTS) ? JSON.parse(readFileSync(RESULTS, 'utf8')) : { files: {} };
const results = { ...previous, files: { ...previous.files } };
let unexplained = 0;
for (const [file, { mutants, source }] of Object.entries(report.files)) {
  const count = (...statuses) => mutants.filter((m) => statuses.includes(m.status)).length;
  const killed = count('Killed');
  const timedOut = count('Timeout');
  const survived = count('Survived');
  const noCoverage = count('NoCoverage');
  const detected = killed + timedOut;
  const valid = detected + survived + noCoverage;
  const describe = (m) => ({ line: m.location.start.line, mutator: m.mutatorName, replacement: m.replacement, status: m.status });
  const undetected = mutants.filter((m) => m.status === 'Survived' || m.status === 'NoCoverage');
  // MUTATE_SKIP_STATIC runs: module-level mutants Stryker did not run (each needs every test file), not measured.
  const isSkippedStatic = (m) => m.status === 'Ignored' && /^Static mutant/.test(m.statusReason ?? '');
  const staticNotRun = mutants.filter(isSkippedStatic).length;
  const explained = [
    ...mutants.filter((m) => m.status === 'Ignored' && !isSkippedStatic(m)).map((m) => ({ ...describe(m), why: m.statusReason })),
    ...undetected.map((m) => ({ ...describe(m), why: explain(file, source, m) })).filter((m) => m.why !== undefined),
  ];
  const survivors = undetected.filter((m) => explain(file, source, m) === undefined).map(describe);
  results.files[file] = {
    mutants: mutants.length,
    killed,
    timedOut,
    survived,
    noCoverage,
    explained: explained.length,
    staticNotRun,
    compileErrors: count('CompileError') + count('RuntimeError'),
    score: valid === 0 ? 100 : Math.round((detected / valid) * 1000) / 10,
    survivors,
    explainedMutants: explained,
    date: fromReport === undefined ? (partial === undefined ? new Date(started).toISOString() : new Date(Math.max(...partial.split(',').map((path) => statSync(path).mtimeMs))).toISOString()) : previous.files[file]?.date,
    durationMs: fromReport === undefined && partial === undefined ? Date.now() - started : previous.files[file]?.durationMs,
    // A run against chosen test files only (MUTATE_TESTS): its score is what those files detect, a lower bound.
    ...(process.env.MUTATE_TESTS ? { testFiles: process.env.MUTATE_TESTS.split(',') } : {}),
  };
  if (durabilityFiles.includes(file)) unexplained += survivors.length;
  for (const s of survivors) console.log(`survived: ${file}:${s.line} ${s.mutator} -> ${s.replacement.replace(/\s+/g, ' ').slice(0, 80)}`);
}
Object.assign(results, {
  command: 'npm run mutate',
  durabilityFiles,
  testFilesLeftOut: slowTestFiles,
  node: process.versions.node,
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model.trim(), memGB: Math.round(totalmem() / 2 ** 30), os: `Linux ${release()}` },
});
mkdirSync(new URL('.', RESULTS), { recursive: true });
writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
for (const [file, r] of Object.entries(results.files)) {
  console.log(`${file}: ${r.score}% (${r.killed + r.timedOut} of ${r.killed + r.timedOut + r.survived + r.noCoverage} detected, ${r.explained} explained)`);
}
if (unexplained > 0) {
  console.error(`${unexplained} mutants survived in the durability code: kill them with a test or explain them`);
  process.exit(1);
}
