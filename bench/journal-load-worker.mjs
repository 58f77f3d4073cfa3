// The files and the timed loads of the journal benchmark's load section (journal.mjs), each in a fresh process:
//
//   node journal-load-worker.mjs build <dir> <sessions> <changes> <out.json>
//     In <dir>/journal: the real store ('everysec') gets <sessions> sessions, flush() writes the snapshot, then it
//     makes <changes> changes (set of an existing session with new data) in one burst and the process kills
//     itself once they are written: no close(), so the journal stays as a crash leaves it. Before the changes,
//     the snapshot and its empty journal are copied to <dir>/snapshot: the same snapshot, alone.
//   node journal-load-worker.mjs load <saveFile> <out.json>
//     Times `new MemFileStore({ saveFile })` (snapshot + journal replay) and kills itself without closing, so the
//     files are the same for the next load.
import { copyFileSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeSessions } from './sessions.mjs';

const [mode, ...rest] = process.argv.slice(2);
const { MemFileStore } = await import('express-memfilestore');

/** Writes the result, then dies as a crash would: nothing the store does at exit runs. */
function reportAndDie(out, result) {
  writeFileSync(out, JSON.stringify(result));
  process.kill(process.pid, 'SIGKILL');
}

if (mode === 'build') {
  const [dir, sessionsText, changesText, out] = rest;
  const count = Number(sessionsText);
  const changes = Number(changesText);
  const journalDir = join(dir, 'journal');
  const snapshotDir = join(dir, 'snapshot');
  mkdirSync(journalDir, { recursive: true });
  mkdirSync(snapshotDir, { recursive: true });
  const store = new MemFileStore({ saveFile: join(journalDir, 'sessions.snapshot'), journal: 'everysec', savePeriod: 0 });
  const { ids, sessions } = makeSessions(count, { seed: 7 });
  for (let i = 0; i < count; i += 1000) {
    await Promise.all(ids.slice(i, i + 1000).map((id, k) => new Promise((resolve, reject) => {
      store.set(id, sessions[i + k], (err) => (err ? reject(err) : resolve()));
    })));
  }
  await store.flush();
  while (store.stats.persistence.saving) await new Promise((resolve) => setTimeout(resolve, 10));
  for (const name of readdirSync(journalDir)) {
    if (!name.endsWith('.lock')) copyFileSync(join(journalDir, name), join(snapshotDir, name));
  }
  // The changes in one burst: their records are written with one write at the end of this turn; the kill below
  // runs in the same phase right after it, before a snapshot started by the journal's size could rotate it.
  for (let n = 0; n < changes; n++) {
    const i = n % count;
    sessions[i].views = (sessions[i].views ?? 0) + 1;
    store.set(ids[i], sessions[i]);
  }
  setImmediate(() => {
    const files = {};
    for (const d of [journalDir, snapshotDir]) for (const name of readdirSync(d)) files[join(d, name)] = statSync(join(d, name)).size;
    reportAndDie(out, { files, journal: store.stats.persistence.journal });
  });
} else if (mode === 'load') {
  const [saveFile, out] = rest;
  const t0 = performance.now();
  const store = new MemFileStore({ saveFile, savePeriod: 0 });
  const ms = performance.now() - t0;
  const { load } = store.stats.persistence;
  reportAndDie(out, { ms, sessions: load.sessions, records: load.records, journalRecords: load.journalRecords, tornBytes: load.tornBytes });
} else {
  console.error('usage: journal-load-worker.mjs build <dir> <sessions> <changes> <out> | load <saveFile> <out>');
  process.exit(2);
}
