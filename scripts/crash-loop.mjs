// Crash loop: kill -9 a store under write load at random instants, mid-save included, many times over on the
// same snapshot file, and check after every kill that nothing was lost or mixed up.
//
//   node scripts/crash-loop.mjs [--iterations N] [--quick] [--json] [--sabotage]
//   (tuning: --sessions 3000 --write-delay 3 --save-period 15 --max-kill-ms 250)
//
// Each iteration starts scripts/fixtures/crash-child.mjs on the file the previous one left. The child loads
// it, then sets, touches, destroys and gets a few thousand sessions while the store saves every few ms, each
// chunk written to the temp file slowed by a sleep through the store's `fs` seam (as Redis's
// rdb-key-save-delay) so that most kills land inside a save. The child prints, for every save, the digest
// of its sessions when the save started, the sha256 of the complete temp file just before the rename, and
// a line once the rename returned (see the child for the exact lines). After SIGKILL at a random instant:
//
// - the file, if any, has the sha256 of exactly one snapshot the child (or an earlier child) completed, and
//   the one it must be: the last renamed one, or, when the kill landed between "pending" and "renamed" (the
//   rename in flight), that pending one or the one before it; no file only if no snapshot ever completed;
// - an independent reader (test/fixtures/persist/helpers.mjs decodeSnapshot) verifies it;
// - a fresh store loads it (`ready` resolves), holds exactly the sessions, values and LRU order the child held
//   when that save started, and leaves no temp file behind; closing it does not rewrite the file.
//
// Each child is started ahead of its turn (it loads its modules, then waits for a line on stdin), which
// hides Node's start-up time: 500 iterations take 2 to 4 minutes on a 2-core machine.
//
// Exits non-zero on any mismatch, any lost session, or if no kill landed mid-save. `--json` writes
// scripts/results/crash-loop.json. `--sabotage` is the loop's self-test: the child's saves then write straight
// over the file, as a non-atomic writer would, and the loop must fail (it reports truncated files, snapshots
// nobody completed and lost sessions). Needs dist/ (npm run build).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, tmpdir, type as osType, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { MemFileStore } from 'express-memfilestore';
import { decodeSnapshot, sha256, tempFiles } from '../test/fixtures/persist/helpers.mjs';
import { flag, option } from './cli-args.mjs';
import { startChild as startChildProcess } from './child-process.mjs';

const CHILD = fileURLToPath(new URL('./fixtures/crash-child.mjs', import.meta.url));
const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));

const ITERATIONS = option('--iterations', flag('--quick') ? 20 : 500);
const SESSIONS = option('--sessions', 3000);
const WRITE_DELAY_MS = option('--write-delay', 3); // per chunk: a save of ~3000 sessions is 5 chunks, ~40 ms in all
const SAVE_PERIOD_MS = option('--save-period', 15);
const MAX_KILL_MS = option('--max-kill-ms', 250); // after "ready": several saves per child
/** Self-test: the child writes its saves straight over the file (not atomic); the loop must report mismatches. */
const SABOTAGE = flag('--sabotage');
const MAX_RETRIES = 20; // children that died before "ready" because dist/ was being rebuilt by someone else

/** sha256 over live sessions, least recently used first: the child's memDigest, computed the same way. */
function memDigest(store) {
  const parts = [];
  store.store.rforEach((value, id) => {
    parts.push(id, '\0', value, '\n');
  });
  return { count: parts.length / 4, digest: sha256(parts.join('')) };
}

/** A child on `file`, started ahead of its turn: `go()` lets it open the file. */
function startChild(file) {
  const child = startChildProcess(CHILD, [file, SESSIONS, WRITE_DELAY_MS, SAVE_PERIOD_MS, '--wait'],
    { CRASH_CHILD_SABOTAGE: SABOTAGE ? 'in-place' : '' });
  return { ...child, go: () => child.go('go') };
}

/** What the child printed: its load and every save by sequence number. */
function parseLines(lines) {
  let loaded;
  const saves = new Map();
  for (const line of lines) {
    let m;
    if ((m = /^loaded (\d+) ([0-9a-f]{64})$/.exec(line))) loaded = { count: Number(m[1]), digest: m[2] };
    else if ((m = /^begin (\d+) (\d+) ([0-9a-f]{64})$/.exec(line))) {
      saves.set(Number(m[1]), { seq: Number(m[1]), count: Number(m[2]), memDigest: m[3], sha: null, records: null, renamed: false });
    } else if ((m = /^pending (\d+) ([0-9a-f]{64}) (\d+|no-trailer)$/.exec(line))) {
      const save = saves.get(Number(m[1]));
      save.sha = m[2];
      save.records = Number(m[3]);
    } else if ((m = /^renamed (\d+)$/.exec(line))) saves.get(Number(m[1])).renamed = true;
  }
  return { loaded, saves: [...saves.values()] };
}

const problems = [];
const timing = { toReady: 0, check: 0 };
const counts = {
  iterations: 0,
  killsMidSave: 0, // the last save had begun and its rename had not returned
  killsWhileWriting: 0, // ...with its temp file still being written
  killsDuringRename: 0, // ...with the temp file complete and the rename in flight
  killsBetweenSaves: 0, // the last save's rename had returned (or no save had started)
  killsLeavingTempFile: 0, // a temp file was on disk after the kill (removed by the next load)
  fileIsLastRenamed: 0, // no rename in flight: the file is the last snapshot renamed into place
  fileIsRenameInFlight: 0, // a rename in flight had happened, the child died before saying so
  fileIsOneBack: 0, // a rename in flight had not happened: the file is the snapshot before it
  fileUnchanged: 0, // no rename in flight and none done by this child: the file it started from
  noFile: 0,
  filesVerified: 0,
  snapshotsCompleted: 0,
  sessionsChecked: 0,
  sessionsLost: 0,
  mismatches: 0,
  retries: 0,
};

function mismatch(iteration, message) {
  counts.mismatches++;
  if (problems.length < 20) problems.push(`iteration ${iteration}: ${message}`);
  process.stderr.write(`MISMATCH iteration ${iteration}: ${message}\n`);
}

const dir = mkdtempSync(join(tmpdir(), 'memfilestore-crash-loop-'));
const file = join(dir, 'sessions.db');
/** The snapshot the file holds after the previous iteration: { sha, records, memDigest }, or null. */
let previous = null;
const started = performance.now();
console.log(`crash loop: ${ITERATIONS} iterations, ${SESSIONS} session ids, ${WRITE_DELAY_MS} ms per chunk, ` +
  `savePeriod ${SAVE_PERIOD_MS} ms, kill 0-${MAX_KILL_MS} ms after ready, in ${dir}`);

let next = startChild(file);
try {
  for (let i = 1; i <= ITERATIONS; i++) {
    const child = next;
    const t0 = performance.now();
    child.go();
    next = i < ITERATIONS ? startChild(file) : undefined; // warms up while this one runs
    try {
      await child.ready;
    } catch (err) {
      const stderr = err.stderr?.() ?? '';
      if (/ERR_MODULE_NOT_FOUND|Cannot find module/.test(stderr) && counts.retries < MAX_RETRIES) {
        counts.retries++; // dist/ rebuilt under us: try again
        next?.proc.kill('SIGKILL');
        await next?.closed;
        await sleep(1000);
        next = startChild(file);
        i--;
        continue;
      }
      throw new Error(`iteration ${i}: ${err.message}`, { cause: err });
    }
    timing.toReady += performance.now() - t0;
    const delay = Math.random() * MAX_KILL_MS;
    await sleep(delay);
    child.proc.kill('SIGKILL');
    const exit = await child.closed;
    const t1 = performance.now();
    counts.iterations++;
    const where = `${i} (killed ${delay.toFixed(1)} ms after ready)`;
    if (exit.signal !== 'SIGKILL') mismatch(where, `the child died on its own (${exit.code}): ${child.stderr()}`);

    const { loaded, saves } = parseLines(child.lines);
    if (loaded?.digest !== (previous?.memDigest ?? sha256(''))) {
      mismatch(where, `the child loaded ${JSON.stringify(loaded)}, not the verified file ${previous?.sha}`);
    }
    const completed = saves.filter((s) => s.sha !== null);
    counts.snapshotsCompleted += completed.length;
    const last = saves.at(-1);
    if (last !== undefined && !last.renamed) {
      counts.killsMidSave++;
      if (last.sha === null) counts.killsWhileWriting++;
      else counts.killsDuringRename++;
    } else counts.killsBetweenSaves++;
    if (tempFiles(file).length > 0) counts.killsLeavingTempFile++;

    // The one snapshot the file must be; two candidates only while a rename was in flight.
    const lastRenamed = saves.filter((s) => s.renamed).at(-1) ?? previous;
    const inFlight = last !== undefined && last.sha !== null && !last.renamed ? last : undefined;
    const candidates = inFlight ? [inFlight, lastRenamed] : [lastRenamed];

    let found = null;
    let unexpected = null; // the sha of a file that is none of the candidates: the next iteration starts from it
    if (existsSync(file)) {
      const bytes = readFileSync(file);
      const sha = sha256(bytes);
      const known = [previous, ...completed].filter((s) => s?.sha === sha);
      found = candidates.find((c) => c?.sha === sha) ?? null;
      if (known.length !== 1) mismatch(where, `the file (sha256 ${sha}) matches ${known.length} completed snapshots, not exactly one`);
      if (found === null) {
        mismatch(where, `the file (sha256 ${sha}) is not the snapshot it must be: ${JSON.stringify(candidates.map((c) => c?.sha ?? null))}`);
        unexpected = sha;
      } else {
        if (inFlight) counts[found === inFlight ? 'fileIsRenameInFlight' : 'fileIsOneBack']++;
        else counts[found === previous ? 'fileUnchanged' : 'fileIsLastRenamed']++;
        try {
          const decoded = decodeSnapshot(bytes);
          if (decoded.records.length !== found.records) mismatch(where, `${decoded.records.length} records, the child wrote ${found.records}`);
          found.decoded = decoded.records;
        } catch (err) {
          mismatch(where, `the independent reader refuses the file: ${err.message}`);
        }
      }
    } else {
      counts.noFile++;
      if (candidates.some((c) => c !== null)) {
        mismatch(where, 'the file is gone, though a snapshot was put in place');
        counts.sessionsLost += lastRenamed?.count ?? 0;
      }
    }

    // A fresh store loads it (taking over the dead child's lock) and removes the temp files left behind.
    const store = new MemFileStore({ saveFile: file, savePeriod: 0, journal: false });
    let loadedOk = true;
    await store.ready.catch((err) => {
      loadedOk = false;
      counts.sessionsLost += lastRenamed?.count ?? 0; // every session of the snapshot it should have been
      mismatch(where, `the file did not load: ${err.message}`);
    });
    if (loadedOk) {
      if (tempFiles(file).length > 0) mismatch(where, `temp files remain after the load: ${tempFiles(file).join(', ')}`);
      const mem = memDigest(store);
      if (found !== null) {
        counts.filesVerified++;
        counts.sessionsChecked += found.count ?? found.records;
        // Every session of the file, with its value, is in the store...
        let lost = 0;
        for (const record of found.decoded ?? []) if (store.store.peek(record.id) !== record.value) lost++;
        // ...and the store holds what the child held when this save started (sessions, values, LRU order).
        if (found.memDigest !== mem.digest) {
          lost = Math.max(lost, Math.abs((found.count ?? found.records) - mem.count), 1);
          mismatch(where, `the reloaded sessions (${mem.count}) differ from the child's memory at the save (${found.count})`);
        }
        if (lost > 0) mismatch(where, `${lost} sessions lost or changed`);
        counts.sessionsLost += lost;
      } else if (unexpected !== null) {
        // A file that is no snapshot we know: whatever it lacks of the one it had to be is lost.
        counts.sessionsLost += Math.max(0, (lastRenamed?.count ?? 0) - mem.count);
      } else if (mem.count !== 0) mismatch(where, `no snapshot, yet ${mem.count} sessions loaded`);
      await store.close();
      if (found !== null && sha256(readFileSync(file)) !== found.sha) mismatch(where, 'loading and closing rewrote the file');
      const sha = found?.sha ?? unexpected;
      previous = sha === null ? null : { sha, records: mem.count, count: mem.count, memDigest: mem.digest };
    } else {
      // Counted above; start the next iteration from no file, so the run goes on and reports everything.
      await store.close();
      rmSync(file, { force: true });
      for (const name of tempFiles(file)) rmSync(join(dir, name), { force: true });
      previous = null;
    }
    timing.check += performance.now() - t1;
    if (i % 50 === 0 || i === ITERATIONS) {
      const s = ((performance.now() - started) / 1000).toFixed(0);
      console.log(`  ${i}/${ITERATIONS} in ${s} s: ${counts.killsMidSave} mid-save, ${counts.mismatches} mismatches, ` +
        `${counts.sessionsLost} sessions lost`);
    }
  }
} finally {
  next?.proc.kill('SIGKILL');
  await next?.closed;
  rmSync(dir, { recursive: true, force: true });
}

const durationMs = Math.round(performance.now() - started);
const result = {
  iterations: counts.iterations,
  killsMidSave: counts.killsMidSave,
  filesVerified: counts.filesVerified,
  sessionsLost: counts.sessionsLost,
  mismatches: counts.mismatches,
  durationMs,
  node: process.version,
  date: new Date().toISOString(),
  detail: {
    killsWhileWriting: counts.killsWhileWriting,
    killsDuringRename: counts.killsDuringRename,
    killsBetweenSaves: counts.killsBetweenSaves,
    killsLeavingTempFile: counts.killsLeavingTempFile,
    fileIsLastRenamed: counts.fileIsLastRenamed,
    fileIsRenameInFlight: counts.fileIsRenameInFlight,
    fileIsOneBack: counts.fileIsOneBack,
    fileUnchanged: counts.fileUnchanged,
    noFile: counts.noFile,
    snapshotsCompleted: counts.snapshotsCompleted,
    sessionsChecked: counts.sessionsChecked,
    childRestartsForRebuild: counts.retries,
    meanMsToReady: Math.round(timing.toReady / Math.max(1, counts.iterations)),
    meanMsToCheck: Math.round(timing.check / Math.max(1, counts.iterations)),
    problems,
  },
  config: { sessions: SESSIONS, writeDelayMs: WRITE_DELAY_MS, savePeriodMs: SAVE_PERIOD_MS, maxKillMs: MAX_KILL_MS },
  machine: { os: `${osType()} ${release()}`, cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memGB: Math.round(totalmem() / 2 ** 30) },
  command: `node scripts/crash-loop.mjs${ITERATIONS === 500 ? '' : ` --iterations ${ITERATIONS}`}`,
};

console.log(`\ncrash loop: ${result.iterations} kills in ${(durationMs / 1000).toFixed(1)} s`);
console.log(`  mid-save: ${result.killsMidSave} (${counts.killsWhileWriting} writing the temp file, ${counts.killsDuringRename} ` +
  `with the rename in flight); between saves: ${counts.killsBetweenSaves}; temp file left on disk: ${counts.killsLeavingTempFile}`);
console.log(`  file was: the last renamed snapshot ${counts.fileIsLastRenamed}, the snapshot whose rename was in flight ` +
  `${counts.fileIsRenameInFlight}, one back (rename not done) ${counts.fileIsOneBack}, unchanged ${counts.fileUnchanged}, none ${counts.noFile}`);
console.log(`  files verified and reloaded: ${result.filesVerified}; snapshots completed by the children: ${counts.snapshotsCompleted}; ` +
  `sessions checked: ${counts.sessionsChecked}`);
console.log(`  sessions lost: ${result.sessionsLost}; mismatches: ${result.mismatches}`);
console.log(`  per iteration: ${result.detail.meanMsToReady} ms from go to ready, ${result.detail.meanMsToCheck} ms of checks ` +
  `(mean); children restarted because dist/ was being rebuilt: ${counts.retries}`);

if (flag('--json')) {
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'crash-loop.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`  wrote ${join(RESULTS, 'crash-loop.json')}`);
}

const ok = result.mismatches === 0 && result.sessionsLost === 0 && result.killsMidSave > 0 && result.filesVerified > 0;
if (!ok) {
  console.error(result.killsMidSave === 0 ? 'FAIL: no kill landed mid-save' : 'FAIL: see the mismatches above');
  process.exitCode = 1;
}
