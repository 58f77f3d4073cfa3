// Crash loop with acknowledgements (issue 9): kill -9 a store writing through its journal at random instants,
// many times over on the same files, and check after every kill which acknowledged changes came back.
//
//   node scripts/journal-crash-loop.mjs [--kills N] [--mode always|everysec] [--json] [--sabotage]
//   (tuning: --sessions 2000 --max-kill-ms 500 --max-age-ms 50)
//
// For each journal mode ('always', then 'everysec'), each kill starts scripts/fixtures/journal-crash-child.mjs on
// the files the previous one left (snapshot and journals). The child writes new sessions, overwrites, touches and
// destroys while snapshots run (every 20 ms, or, one child in four, started by the journal's size), and prints
// each change before issuing it and each acknowledgement (its callback was called) with the time on the
// machine's monotonic clock. The loop SIGKILLs it at a random instant (noting that time), then loads the files in
// a fresh store and checks:
//
// - the reloaded sessions are exactly the state after the first k changes the child made, for some k (each
//   session's mark names the change that wrote it): the journal replays a prefix, never a mix;
// - an acknowledged change numbered above the largest such k is lost; its age is the time from its
//   acknowledgement to the kill. 'always' must lose none; 'everysec' none older than --max-age-ms (a process
//   crash loses at most the changes of the last few ms);
// - the child loaded what the previous fresh store held (its close() wrote a standalone snapshot).
//
// The two modes run side by side, each on its own files. Exits non-zero on any failed check, or (from 100 kills
// on) if no kill landed during a snapshot, during a snapshot started by the journal's size, or after one completed
// (size-profile children are killed at a random instant after their first such snapshot started). `--json` writes
// scripts/results/journal-crash-loop.json (scripts/reliability-report.mjs puts it in the README). `--sabotage` is
// the loop's self-test: the child runs with `journal: false` and acknowledges changes only a snapshot keeps, and
// the loop must fail. Needs dist/ (npm run build).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, type as osType, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { MemFileStore } from 'express-memfilestore';
import { memDigest, sha256 } from '../test/fixtures/persist/helpers.mjs';
import { flag, option } from './cli-args.mjs';
import { startChild as startChildProcess } from './child-process.mjs';

const CHILD = fileURLToPath(new URL('./fixtures/journal-crash-child.mjs', import.meta.url));
const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));

const KILLS = option('--kills', 500, { min: 1 });
const SESSIONS = option('--sessions', 2000, { min: 1 });
const MAX_KILL_MS = option('--max-kill-ms', 500);
/** Size profile: killed 0 to this many ms after the first snapshot the journal's size started (one takes ~0.5 s). */
const SIZE_KILL_MS = MAX_KILL_MS * 2.5;
/** Size profile: how long to wait for that snapshot to start before killing anyway (counted). */
const SIZE_WAIT_MS = 20_000;
/** 'everysec': an acknowledged change older than this at the kill must not be lost. */
const MAX_AGE_MS = option('--max-age-ms', 50);
const SABOTAGE = flag('--sabotage');
const modeArg = process.argv.indexOf('--mode');
const MODES = modeArg < 0 ? ['always', 'everysec'] : [process.argv[modeArg + 1]];
if (MODES.some((m) => m !== 'always' && m !== 'everysec')) throw new Error('--mode needs always or everysec');

const clockMs = () => Number(process.hrtime.bigint() / 1000n) / 1000;

/** What a session's text says about the change that wrote it: `path|v`, or null for no session. */
function markOf(text) {
  const session = JSON.parse(text);
  return `${session.cookie.path}|${session.v}`;
}

/** A child on `file`, started ahead of its turn: `go(iteration, profile)` lets it open the files. */
function startChild(file, mode) {
  const child = startChildProcess(CHILD, [file, mode, SESSIONS], { CRASH_CHILD_SABOTAGE: SABOTAGE ? 'no-journal' : '' });
  return { ...child, go: (iteration, profile) => child.go(`go ${iteration} ${profile}`) };
}

/** The child's lines: its load, the changes it issued (1-based), acknowledgement times, snapshots. */
function parseLines(lines) {
  let loaded;
  const ops = [undefined];
  const acks = new Map();
  let begun = 0;
  let rotations = -1; // the first journal created is the one the first change needs
  let completed = 0;
  let compactions = 0;
  let compactionsStarted = 0;
  for (const line of lines) {
    if (line.startsWith('a ')) {
      const [, n, t] = line.split(' ');
      acks.set(Number(n), Number(t));
    } else if (line.startsWith('o ')) {
      const [, first, list] = line.split(' ');
      if (Number(first) !== ops.length) throw new Error(`changes out of order: ${first} after ${ops.length - 1}`);
      for (const op of list.split(',')) ops.push({ kind: op[0], id: `s${op.slice(1)}` });
    } else if (line === 'b') begun++;
    else if (line === 'r') rotations++;
    else if (line.startsWith('w ')) {
      completed++;
      compactions = Number(line.slice(2));
    } else if (line.startsWith('c ')) compactionsStarted = Number(line.slice(2));
    else if (line.startsWith('loaded ')) loaded = line.split(' ')[2];
  }
  return { loaded, ops, acks, begun, rotations: Math.max(0, rotations), completed, compactions, compactionsStarted };
}

/** Intersection of two sorted lists of disjoint [from, to] intervals. */
function intersect(a, b) {
  const outList = [];
  for (let i = 0, j = 0; i < a.length && j < b.length;) {
    const from = Math.max(a[i][0], b[j][0]);
    const to = Math.min(a[i][1], b[j][1]);
    if (from <= to) outList.push([from, to]);
    if (a[i][1] < b[j][1]) i++;
    else j++;
  }
  return outList;
}

/**
 * The k (0..ops.length-1) such that the state after the first k changes, applied to `base`, is `observed`
 * (both: Map id -> mark). Each session's mark names the change that wrote it, so this is exact.
 */
function consistentPrefixes(base, ops, observed, iteration) {
  const last = ops.length - 1;
  const byId = new Map();
  for (let n = 1; n <= last; n++) {
    const { id } = ops[n];
    if (!byId.has(id)) byId.set(id, []);
    byId.get(id).push(n);
  }
  let allowed = [[0, last]];
  for (const id of new Set([...base.keys(), ...observed.keys(), ...byId.keys()])) {
    const seen = observed.get(id) ?? null;
    let state = base.get(id) ?? null;
    let from = 0;
    const ranges = [];
    for (const n of byId.get(id) ?? []) {
      if (state === seen && from <= n - 1) ranges.push([from, n - 1]);
      const { kind } = ops[n];
      // A touch keeps the set's value (v) and replaces the cookie (path): the mark is `path|v`.
      if (kind === 's') state = `/i${iteration}n${n}|${iteration}:${n}`;
      else if (kind === 't') state = state === null ? null : `/i${iteration}n${n}|${state.split('|')[1]}`;
      else state = null;
      from = n;
    }
    if (state === seen) ranges.push([from, last]);
    allowed = intersect(allowed, ranges);
    if (allowed.length === 0) return { allowed, culprit: id };
  }
  return { allowed, culprit: undefined };
}

/** Runs the loop for one journal mode. */
async function runMode(mode) {
  const dir = mkdtempSync(join(tmpdir(), `memfilestore-journal-crash-${mode}-`));
  const file = join(dir, 'sessions.db');
  const c = {
    kills: 0, killsMidSnapshot: 0, killsWritingSnapshot: 0, killsAfterSizeSnapshot: 0, changesIssued: 0, changesAcknowledged: 0,
    acknowledgedLost: 0, acknowledgedLostOverLimit: 0, unacknowledgedKept: 0, unacknowledgedLost: 0, notAPrefix: 0,
    loadMismatches: 0, snapshotsCompleted: 0, compactions: 0, journalRecordsReplayed: 0, tornTails: 0, sizeProfileKills: 0,
    sizeProfileNoCompaction: 0, killsMidCompaction: 0,
  };
  const timing = { toReady: 0, check: 0 };
  let worstLostAgeMs = null;
  let youngestKeptMarginMs = null;
  const problems = [];
  const fail = (i, message) => {
    if (problems.length < 20) problems.push(`kill ${i}: ${message}`);
    process.stderr.write(`MISMATCH (${mode}) kill ${i}: ${message}\n`);
  };
  let base = new Map();
  let baseDigest = sha256('');
  const started = performance.now();
  let next = startChild(file, mode);
  try {
    for (let i = 1; i <= KILLS; i++) {
      const child = next;
      // Without a journal (sabotage) nothing grows to start a size snapshot, so every kill is a period kill:
      // a size kill would only wait SIZE_WAIT_MS for a compaction that cannot come.
      const profile = !SABOTAGE && Math.random() < 1 / 4 ? 'size' : 'period';
      const t0 = performance.now();
      child.go(i, profile);
      next = i < KILLS ? startChild(file, mode) : undefined;
      await child.ready;
      timing.toReady += performance.now() - t0;
      if (profile === 'size') {
        // Killed at a random instant after the journal's size started a snapshot: mid-compaction or after it,
        // however slow the machine is today (a fixed window after ready missed them all on a busy machine).
        if (await child.waitFor((line) => line.startsWith('c '), SIZE_WAIT_MS) === undefined) c.sizeProfileNoCompaction++;
      }
      await sleep(Math.random() * (profile === 'size' ? SIZE_KILL_MS : MAX_KILL_MS));
      const killedAt = clockMs();
      child.proc.kill('SIGKILL');
      const exit = await child.closed;
      c.kills++;
      if (profile === 'size') c.sizeProfileKills++;
      if (exit.signal !== 'SIGKILL') fail(i, `the child died on its own (${exit.code}): ${child.stderr()}`);
      const { loaded, ops, acks, begun, rotations, completed, compactions, compactionsStarted } = parseLines(child.lines);
      if (loaded !== baseDigest) {
        c.loadMismatches++;
        fail(i, 'the child did not load what the previous fresh store held');
      }
      if (rotations > completed) c.killsMidSnapshot++; // from the rotation's start to the snapshot's rename
      if (begun > completed) c.killsWritingSnapshot++; // ...with the snapshot's temp file being written
      if (compactions > 0) c.killsAfterSizeSnapshot++;
      if (compactionsStarted > 0 && rotations > completed) c.killsMidCompaction++;
      c.snapshotsCompleted += completed;
      c.compactions += compactions;
      c.changesIssued += ops.length - 1;
      c.changesAcknowledged += acks.size;

      const t1 = performance.now();
      const store = new MemFileStore({ saveFile: file, savePeriod: 0, journal: mode });
      try {
        await store.ready;
      } catch (err) {
        fail(i, `the files did not load: ${err.message}`);
        throw err;
      }
      const load = store.stats.persistence.load;
      c.journalRecordsReplayed += load.journalRecords;
      if (load.tornBytes > 0) c.tornTails++;
      const observed = new Map();
      store.store.forEach((value, id) => observed.set(id, markOf(value)));
      const { allowed, culprit } = consistentPrefixes(base, ops, observed, i);
      // The longest prefix the files hold; with no consistent prefix, judge by the changes that did come back.
      let k;
      if (allowed.length === 0) {
        c.notAPrefix++;
        fail(i, `the reloaded sessions are no prefix of the changes (first at ${culprit === undefined ? '?' : 'a session'})`);
        k = 0;
        for (let n = 1; n < ops.length; n++) if (observed.get(ops[n].id)?.includes(`n${n}|`)) k = n;
      } else k = allowed.at(-1)[1];
      for (const [n, t] of acks) {
        if (n <= k) {
          const margin = killedAt - t;
          youngestKeptMarginMs = youngestKeptMarginMs === null ? margin : Math.min(youngestKeptMarginMs, margin);
          continue;
        }
        const age = killedAt - t;
        c.acknowledgedLost++;
        worstLostAgeMs = worstLostAgeMs === null ? age : Math.max(worstLostAgeMs, age);
        if (mode === 'always' || age > MAX_AGE_MS) {
          c.acknowledgedLostOverLimit++;
          fail(i, `change ${n} (${ops[n].kind}), acknowledged ${age.toFixed(1)} ms before the kill, is lost`);
        }
      }
      for (let n = 1; n < ops.length; n++) {
        if (acks.has(n)) continue;
        if (n <= k) c.unacknowledgedKept++;
        else c.unacknowledgedLost++;
      }
      base = observed;
      baseDigest = memDigest(store).digest;
      await store.close();
      timing.check += performance.now() - t1;
      if (i % 50 === 0 || i === KILLS) {
        console.log(`  ${mode} ${i}/${KILLS} in ${((performance.now() - started) / 1000).toFixed(0)} s: ` +
          `${c.changesAcknowledged} acknowledged, ${c.acknowledgedLost} lost (worst ${worstLostAgeMs?.toFixed(1) ?? '-'} ms), ` +
          `${c.killsMidSnapshot} mid-snapshot, ${problems.length} problems`);
      }
    }
  } finally {
    next?.proc.kill('SIGKILL');
    await next?.closed;
    rmSync(dir, { recursive: true, force: true });
  }
  const round = (x) => (x === null ? null : Math.round(x * 1000) / 1000);
  return { mode, ...c, worstLostAgeMs: round(worstLostAgeMs), youngestKeptMarginMs: round(youngestKeptMarginMs),
    durationMs: Math.round(performance.now() - started), meanMsToReady: Math.round(timing.toReady / Math.max(1, c.kills)),
    meanMsToCheck: Math.round(timing.check / Math.max(1, c.kills)), problems };
}

const started = performance.now();
console.log(`journal crash loop: ${KILLS} kills per mode (${MODES.join(', ')}), ${SESSIONS} session ids, kill 0-${MAX_KILL_MS} ms ` +
  `after ready (0-${SIZE_KILL_MS} ms after the first size-triggered snapshot started, in the size profile)${SABOTAGE ? ', SABOTAGE: no journal' : ''}`);
// The modes run side by side, each on its own files: half the wall-clock time.
const modes = Object.fromEntries((await Promise.all(MODES.map(runMode))).map((r) => [r.mode, r]));

const result = {
  modes,
  durationMs: Math.round(performance.now() - started),
  node: process.version,
  date: new Date().toISOString(),
  // Where the files were: a tmpfs (TMPDIR=/dev/shm) takes the disk's sync latency out of a process-crash test.
  config: { filesIn: tmpdir(), kills: KILLS, sessions: SESSIONS, maxKillMs: MAX_KILL_MS, sizeKillMs: SIZE_KILL_MS, sizeWaitMs: SIZE_WAIT_MS, sizeProfileShare: 0.25, maxAgeMs: MAX_AGE_MS, savePeriodMs: 20, sizeLimitBytes: 8 * 1024 * 1024 },
  machine: { os: `${osType()} ${release()}`, cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memGB: Math.round(totalmem() / 2 ** 30) },
  command: `${process.env.TMPDIR ? `TMPDIR=${process.env.TMPDIR} ` : ''}node scripts/journal-crash-loop.mjs${KILLS === 500 ? '' : ` --kills ${KILLS}`} --json`,
};

let ok = true;
for (const r of Object.values(modes)) {
  console.log(`\n${r.mode}: ${r.kills} kills in ${(r.durationMs / 1000).toFixed(1)} s; ${r.changesIssued} changes, ${r.changesAcknowledged} acknowledged`);
  console.log(`  acknowledged changes lost: ${r.acknowledgedLost} (worst age ${r.worstLostAgeMs ?? '-'} ms before the kill; ` +
    `over the limit: ${r.acknowledgedLostOverLimit}); unacknowledged kept ${r.unacknowledgedKept}, lost ${r.unacknowledgedLost}`);
  console.log(`  kills mid-snapshot ${r.killsMidSnapshot}; snapshots completed ${r.snapshotsCompleted} (by size ${r.compactions}); ` +
    `journal records replayed ${r.journalRecordsReplayed}; torn tails cut ${r.tornTails}; not a prefix ${r.notAPrefix}; load mismatches ${r.loadMismatches}`);
  console.log(`  per kill: ${r.meanMsToReady} ms from go to ready, ${r.meanMsToCheck} ms to reload, check and close (mean)`);
  console.log(`  size profile: ${r.sizeProfileKills} kills, ${r.killsMidCompaction} mid-compaction, ${r.killsAfterSizeSnapshot} after one ` +
    `completed, ${r.sizeProfileNoCompaction} before any started (waited ${SIZE_WAIT_MS / 1000} s)`);
  console.log(`  of the kills mid-snapshot, ${r.killsWritingSnapshot} while its temp file was written; ` +
    `youngest acknowledged change kept: ${r.youngestKeptMarginMs ?? '-'} ms before the kill`);
  if (r.acknowledgedLostOverLimit > 0 || r.notAPrefix > 0 || r.loadMismatches > 0 || r.problems.length > 0) ok = false;
  // A short run (the test) may miss them; a long one must not.
  if (KILLS >= 100 && (r.killsMidSnapshot === 0 || r.killsMidCompaction === 0 || r.killsAfterSizeSnapshot === 0)) {
    console.error(`  ${r.mode}: no kill landed mid-snapshot, mid-compaction, or after a size-triggered snapshot completed: ` +
      'the run proves less than it should');
    ok = false;
  }
}
console.log(`RESULT ${JSON.stringify(result)}`);
if (flag('--json')) {
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'journal-crash-loop.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`  wrote ${join(RESULTS, 'journal-crash-loop.json')}`);
}
if (!ok) {
  console.error('FAIL: see above');
  process.exitCode = 1;
}
