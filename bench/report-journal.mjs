// The journal section of the report (issue 9, item 7): markdown tables and one chart panel from
// results/journal.json, written by journal.mjs. report.mjs calls these; every number comes from the JSON.
import { pairedMedian as paired } from './http-load.mjs';

const int = (n) => Math.round(n).toLocaleString('en-US');
const dec = (n, d) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const num = (n, d = 0) => (typeof n === 'number' && Number.isFinite(n) ? (d ? dec(n, d) : int(n)) : '–');
const ratio = (r) => `${r.toFixed(r >= 10 ? 1 : 2)}x`;
// An infinite ratio (a round in which the other store served nothing) is null in JSON.
const bound = (x) => (typeof x === 'number' ? x.toFixed(2) : 'inf');
const range = (r, each = 'rounds') => `${ratio(r.median)} (${each} ${bound(r.min)}-${bound(r.max)})`;
const table = (head, rows, align) => [
  `| ${head.join(' | ')} |`,
  `|${align.map((a) => (a === 'r' ? '---:' : '---')).join('|')}|`,
  ...rows.map((r) => `| ${r.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`),
].join('\n');

export const JOURNAL_RERUN = 'npm --prefix bench run journal:json && npm --prefix bench run report';

/** What better-sqlite3's WAL mode syncs, so the comparisons say which rows are durable per write. */
const WAL_NOTE = 'better-sqlite3 is built with `SQLITE_DEFAULT_WAL_SYNCHRONOUS=1`: in WAL mode it syncs only at checkpoints ' +
  '(a process crash loses nothing, a power cut can lose the last commits, as our \'everysec\'), so the "(WAL)" row is not durable ' +
  'per write; the "(WAL, synchronous FULL)" row is (a sync per commit, as our \'always\' and session-file-store).';

/** Median of the per-round ratios a / b of two stores' modifying requests per second. */
function pairedMedian(http, a, b) {
  return paired(http.stores[a].scenarios.modify.samples, http.stores[b].scenarios.modify.samples);
}

/**
 * What bounds the 'always' targets over HTTP: the same app with no persistence at all against the same peers,
 * from the same rounds. A journal can at best match `journal: false`.
 */
function ceilingNote(http) {
  if (!http?.stores['ours-nojournal'] || !http.stores['ours-always'] || !http.stores.file || !http.stores['sqlite-wal-full']) return undefined;
  return `What bounds the 'always' targets over HTTP: the same app with \`journal: false\` (nothing persisted at all) served the ` +
    `modifying requests ${ratio(pairedMedian(http, 'ours-nojournal', 'sqlite-wal-full'))} as fast as better-sqlite3 WAL FULL and ` +
    `${ratio(pairedMedian(http, 'ours-nojournal', 'file'))} as fast as session-file-store in the same rounds, and 'always' served ` +
    `${ratio(pairedMedian(http, 'ours-always', 'ours-nojournal'))} of \`journal: false\`: no journal can do better than that ceiling. ` +
    'The load generator runs on the same 2 CPUs as the server, so a faster server leaves itself less CPU: the ratios of requests ' +
    'per second sit below the ratios per server CPU second given with each target.';
}

/** @returns {{ lines: string[], targets: { name: string, status: string, detail: string }[] }} */
export function journalMarkdown(j) {
  const lines = [];
  const push = (...l) => lines.push(...l);
  push('', `**Journal** (issue 9): \`bench/journal.mjs\`, ${j.date.slice(0, 10)}, ${Math.ceil(j.durationMs / 60_000)} minutes` +
    (typeof j.cpuContention === 'number' ? `; some task waited for a CPU ${Math.round(j.cpuContention * 100)}% of the run` : '') +
    `. Rerun with \`${JOURNAL_RERUN}\`.`);
  if (j.http) {
    const p = j.http.params;
    push('', `HTTP, the same app and load as above (${p.connections} connections, ${int(p.prefill)} other sessions), ours with each \`journal\` mode ` +
      `and the stores that persist every write; median of ${p.rounds} rounds of ${p.durationS} s:`, '');
    const rows = Object.values(j.http.stores).map((s) => [s.label.startsWith('express-memfilestore') ? `**${s.label}**` : s.label,
      ...['modify', 'read'].flatMap((k) => [int(s.scenarios[k].rps), dec(s.scenarios[k].p99Ms, 1), int(s.scenarios[k].cpuUsPerRequest)])]);
    push(table(['store', 'modify req/s', 'modify p99 ms', 'modify CPU µs/req', 'read req/s', 'read p99 ms', 'read CPU µs/req'], rows, ['l', 'r', 'r', 'r', 'r', 'r', 'r']), '');
    for (const [sc, pairs] of Object.entries(j.http.ratios)) {
      push(`- ${sc}: ${Object.entries(pairs).map(([pair, r]) => `${pair.replace('/', ' / ')} ${range(r)}` +
        (r.cpu === undefined ? '' : ` (per server CPU second ${ratio(r.cpu)})`)).join('; ')}`);
    }
    push('', WAL_NOTE);
  }
  if (j.growth) {
    const p = j.growth.params;
    push('', `Journal growth under ${p.seconds} s of \`GET ${p.path}\` (every request changes its session), ` +
      '`store.stats.persistence` sampled every second; a snapshot starts when the journal passes the last snapshot\'s size (at least 8 MiB):', '');
    const rows = Object.values(j.growth.stores).map((g) => [g.label, num(g.rps), g.journalBytesPerS === null ? '–' : num(g.journalBytesPerS / 1024),
      num(g.bytesPerRecord), num(g.sizeSnapshots), num(g.maxStallMs, 1), num(g.delayedSyncs), num(g.errors)]);
    push(table(['store', 'req/s', 'journal KB/s', 'bytes/record', 'snapshots by size', 'longest event-loop stall ms', 'delayed syncs', 'failed requests'], rows,
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r']));
  }
  if (j.set) {
    const p = j.set.params;
    push('', `Store API, awaited \`set\` (${p.ops} calls per round on ${int(p.sessions)} sessions, median of ${p.rounds} rounds): ` +
      Object.values(j.set.stores).map((s) => `${s.label} ${int(s.opsPerS)} ops/s`).join('; ') +
      `. Ours 'always' / WAL synchronous FULL (durable per write) ${range(j.set.ratioFull)}; / WAL (not durable per write) ${range(j.set.ratio)}.`);
  }
  if (j.load) {
    const l = j.load;
    const mb = (files) => dec(files.reduce((a, f) => a + f.bytes, 0) / 1e6, 1);
    push('', `Load at startup in a fresh process (\`new MemFileStore\`${l.date && l.date.slice(0, 16) !== j.date.slice(0, 16) ? `, run ${l.date.slice(0, 16).replace('T', ' ')} UTC` : ''}), median of ${l.params.repeats}, alternating: ` +
      `${int(l.params.sessions)} sessions from the snapshot alone (${mb(l.files.snapshot)} MB) ${num(l.snapshotMs)} ms; ` +
      `the same snapshot and a journal of ${int(l.replayed)} changes left by a kill (${mb(l.files.journal)} MB in all) ${num(l.journalMs)} ms: ${range(l.ratio, 'repeats')}.`);
  }
  // A ratio that rounds to its goal ("MISSED ... >= 0.95x: 0.95x" for 0.9495) is given to three decimals.
  const precise = (t) => (typeof t.ratio === 'number' && t.ratio.toFixed(2) === t.goal?.toFixed(2)
    ? t.detail.replace(/^\d+\.\d+x/, `${t.ratio.toFixed(3)}x`) : t.detail);
  const targets = j.targets.map((t) => ({ name: t.name, status: t.ok ? 'MET' : 'MISSED', detail: precise(t) }));
  push('', '**Targets** (issue 9, item 7), checked on these numbers. The issue compares \'always\' with stores "durable per write": ' +
    'better-sqlite3 in WAL mode is that only with `synchronous = FULL`, so the targets use that row; against plain WAL (which, like ' +
    '\'everysec\', may lose its last commits to a power cut) the ratios are listed after them, as comparisons:', '');
  for (const t of targets) push(`- ${t.status}: ${t.name}: ${t.detail}.`);
  for (const c of j.comparisons ?? []) push(`- compared: ${c.name}: ${c.detail}.`);
  const ceiling = ceilingNote(j.http);
  if (ceiling) push('', ceiling);
  return { lines, targets };
}

/** A chart panel: HTTP requests per second that modify the session, ours per journal mode and the durable stores. */
export function journalChart(j, { heading, legend, bars, niceCeil, colors }) {
  if (!j.http) return;
  const entries = Object.entries(j.http.stores);
  const max = Math.max(...entries.flatMap(([, s]) => ['modify', 'read'].map((k) => s.scenarios[k].rps)));
  const niceMax = niceCeil(max * 1.12);
  heading('Journal: HTTP requests per second by durability (higher is better)',
    `ours with journal 'everysec' (default), false and 'always', and stores that persist every write; median of ${j.http.params.rounds} runs`);
  const series = [{ name: 'read (store.touch)', color: colors.a }, { name: 'modify (store.set)', color: colors.b }];
  legend(series.map((s) => [s.name, s.color]));
  const rows = entries.map(([k, s]) => ({
    label: s.label.replace(/^express-memfilestore \S+ /, 'ours ').replace(/^better-sqlite3-session-store \S+ /, 'SQLite '),
    bold: k.startsWith('ours'),
    values: ['read', 'modify'].map((x) => s.scenarios[x].rps),
    text: ['read', 'modify'].map((x) => `${int(s.scenarios[x].rps)} req/s, p99 ${dec(s.scenarios[x].p99Ms, 1)} ms`),
  }));
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => ({ v: f * niceMax, label: int(f * niceMax) }));
  bars(rows, series, (v) => v / niceMax, ticks);
}
