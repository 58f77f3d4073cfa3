/**
 * Finds the journals that continue a snapshot and replays them at start, synchronously, after the snapshot.
 *
 * Which files: the snapshot names the first journal it does not contain (generation and token); each later
 * journal names the one before it (journal-format.ts). A snapshot without that field (version 1, 1.x, or one that
 * stands alone: written by `close()` or with the journal off) is continued by a journal naming its checksum.
 * Journals before the chain are leftovers of a finished snapshot and are removed after a good start. A missing
 * link, or a journal holding changes that continues nothing here, is refused.
 *
 * End and damage: zeros where a record would begin, to the end of the file, are space set aside for records
 * (journal-file.ts): the journal ends there. A record that is incomplete or fails its checksum ends the replay. If
 * nothing valid follows it in that file and no later journal holds records, it is a torn tail (the process or the
 * machine died mid-append): it is dropped and, unless reading only, the file is cut back to the last whole
 * record. Anything else is refused.
 */
import { Buffer } from 'node:buffer';
import { closeSync, constants, fdatasyncSync, fstatSync, ftruncateSync, openSync, readdirSync, readSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { MAX_HEADER, parseJournalHeader, parseJournalRecord, saltOf, type JournalHeader, type JournalRecord } from './journal-format.js';
import { lastUsedByte, openToRead, readAll, readChunks, STOP, usedLength } from './read-chunks.js';
import { SnapshotError } from './snapshot-format.js';
import type { LoadResult } from './snapshot-loader.js';

const HEAD_BYTES = 256;

/** A journal file found beside the snapshot. */
export interface JournalFile {
  gen: number;
  path: string;
  size: number;
  /** The header; `undefined` when the file ends inside it; a string saying what is wrong with it. */
  header: JournalHeader | string | undefined;
  /** Something other than the zeros set aside follows the header: a record, or what is left of one. */
  records: boolean;
  /**
   * A file of sessions (a snapshot, a 1.x file or JSON Lines) by a journal's name: another app's saveFile, never to be
   * removed or moved. Garbage is not enough: a power cut can leave it in a journal whose creation it cut short.
   */
  foreign: boolean;
}

/** The journal appends continue in after a start. */
export interface JournalTail {
  gen: number;
  token: string;
  path: string;
  /** Bytes of whole records and header (after any torn tail was cut). */
  size: number;
  /** The file's length: `size`, then zeros set aside (after a torn tail was cut: `size`). */
  allocated: number;
  /** The number the next record takes. */
  seq: number;
}

export interface ReplayResult {
  /** Journals replayed, oldest first. */
  files: number;
  records: number;
  bytes: number;
  /** Bytes of a torn last record dropped (and cut from the file unless reading only). */
  tornBytes: number;
  /** Where the torn tail began: `record <n> at byte <offset> of <file>`. */
  torn: string | undefined;
  /** The file and offset to cut a torn tail at (cutTornTail). */
  tornAt?: { path: string; offset: number } | undefined;
  tail: JournalTail | undefined;
  /** Journals that belong to no chain and hold no changes: removed once the store is running. */
  stale: string[];
  /** The highest generation found (0 for none): a new journal takes a higher one. */
  maxGen: number;
}

/** `<saveFile>.journal.<gen>`. */
export function journalPath(file: string, gen: number): string {
  return `${file}.journal.${gen}`;
}

/** The journal files beside `file`, by generation, with their headers. */
export function listJournals(file: string): JournalFile[] {
  const prefix = `${basename(file)}.journal.`;
  const found: JournalFile[] = [];
  for (const name of readdirSync(dirname(file))) {
    if (!name.startsWith(prefix)) continue;
    const genText = name.slice(prefix.length);
    if (!/^(0|[1-9]\d{0,15})$/.test(genText)) continue;
    const path = join(dirname(file), name);
    const fd = openToRead(path, false);
    try {
      const size = fstatSync(fd).size;
      const head = Buffer.alloc(Math.min(HEAD_BYTES, size));
      const n = readSync(fd, head, 0, head.length, 0);
      let header = parseJournalHeader(head.subarray(0, n));
      if (typeof header === 'object' && header.gen !== Number(genText)) header = `its header says generation ${header.gen}`;
      // The header is at most MAX_HEADER bytes: the byte after it is in `head` when the file has one.
      const records = typeof header === 'object' && size > header.bytes && head[header.bytes] !== 0;
      const start = head.toString('latin1', 0, n).trimStart();
      const foreign = start.startsWith('{') || start.startsWith('express-memfilestore-snapshot');
      found.push({ gen: Number(genText), path, size, header, records, foreign });
    } catch (err) {
      // A read by descriptor (EISDIR: a directory by that name) names no file: say which one, not the saveFile.
      if (err instanceof Error && (err as NodeJS.ErrnoException).path === undefined) (err as NodeJS.ErrnoException).path = path;
      throw err;
    } finally {
      closeSync(fd);
    }
  }
  return found.sort((a, b) => a.gen - b.gen);
}

/**
 * Replays the journals that continue `snapshot` (already loaded from `file`) through `apply`, oldest first.
 * @param repair - cut a torn tail from its file (a start); false for reading only (`verify`).
 * @throws SnapshotError naming the journal when one is damaged, missing or does not belong here.
 */
export function replayJournals(file: string, snapshot: LoadResult, apply: (record: JournalRecord) => void, repair: boolean): ReplayResult {
  const files = listJournals(file);
  const chain = findChain(file, snapshot, files);
  const inChain = new Set(chain);
  const result: ReplayResult = {
    files: chain.length, records: 0, bytes: 0, tornBytes: 0, torn: undefined, tail: undefined, stale: [],
    maxGen: Math.max(0, snapshot.journal?.gen ?? 0, snapshot.absorbed ?? 0, ...files.map((f) => f.gen)),
  };
  // Journals before the chain are leftovers the snapshot holds: all of them when it names its first journal, those up
  // to the generation it says it absorbed when it stands alone (as when no journal continues it, findChain).
  const holdsUpTo = snapshot.journal !== undefined ? (chain[0]?.gen ?? 0) : (snapshot.absorbed ?? 0);
  for (const f of files) {
    if (inChain.has(f)) continue;
    if (chain.length > 0 && (f.gen > (chain[0] as JournalFile).gen || f.gen > holdsUpTo)) {
      if (f.records || (typeof f.header === 'object' && recordShaped(f.path))) {
        throw new SnapshotError(f.path, 'it holds changes but continues no journal here (a journal from another copy of these files?)');
      }
      // Records are written only after the header is synced: a damaged header with records after it is damage,
      // not a journal created just before a crash, and its changes must not be dropped as a leftover's.
      if (typeof f.header === 'string' && recordShaped(f.path)) throw new SnapshotError(f.path, `${f.header}, and records follow it`);
    }
    // 1.x made no journals, so a 1.x app could use `<saveFile>.journal.<n>` as its own saveFile: removing it as a
    // leftover lost that app's sessions. (A journal with records whose header is damaged was refused above.)
    if (f.foreign) throw foreignJournal(file, f.path);
    result.stale.push(f.path);
  }
  for (const [index, f] of chain.entries()) {
    const header = f.header as JournalHeader;
    const later = chain.slice(index + 1).find((next) => next.records);
    const replayed = replayFile(f, header, apply, later);
    result.records += replayed.records;
    result.bytes += replayed.size - header.bytes; // what the writer counts: records, not headers
    if (replayed.tornAt !== undefined) {
      result.tornBytes = replayed.tornBytes;
      result.torn = `record ${replayed.records + 1} at byte ${replayed.tornAt} of "${f.path}"`;
      result.tornAt = { path: f.path, offset: replayed.tornAt };
    }
    const allocated = replayed.tornAt === undefined ? f.size : replayed.size;
    result.tail = { gen: f.gen, token: header.token, path: f.path, size: replayed.size, allocated, seq: replayed.records + 1 };
  }
  // Only once every journal has replayed: a later one refused must find the torn one as it was (nothing rewritten).
  if (repair) cutTornTail(result);
  return result;
}

function foreignJournal(file: string, path: string): Error {
  const error = new Error(`express-memfilestore: cannot use saveFile "${file}": "${path}" beside it has the name of one ` +
    'of its journals, but holds sessions (another app\'s saveFile, as ' +
    'express-memfilestore 1.x, which made no journals, allowed?); it was left untouched. Move it elsewhere (and that ' +
    'app\'s saveFile with it), or give this saveFile another name (EEXIST)');
  return Object.assign(error, { code: 'EEXIST', path });
}

/** The journals continuing the snapshot, in order; [] when there are none. */
function findChain(file: string, snapshot: LoadResult, files: JournalFile[]): JournalFile[] {
  let first: JournalFile | undefined;
  if (snapshot.journal !== undefined) {
    const { gen, token } = snapshot.journal;
    first = files.find((f) => f.gen === gen);
    if (first === undefined) {
      throw new SnapshotError(journalPath(file, gen), `it is missing: the snapshot "${file}" continues in it`);
    }
    if (typeof first.header !== 'object') {
      throw new SnapshotError(first.path, typeof first.header === 'string' ? first.header : 'its header is incomplete');
    }
    if (first.header.token !== token) {
      throw new SnapshotError(first.path, `it does not belong to the snapshot "${file}" beside it (a snapshot restored from a backup?)`);
    }
  } else {
    const after = `s:${snapshot.sha256}`;
    first = files.find((f) => typeof f.header === 'object' && f.header.after === after);
    if (first === undefined) {
      // Journals a standalone snapshot holds are leftovers of the close that wrote it.
      const absorbed = snapshot.absorbed ?? 0;
      // A damaged header without records after it is a journal whose creation a crash cut short.
      const foreign = files.find((f) => f.gen > absorbed && (f.records || recordShaped(f.path)));
      if (foreign !== undefined) {
        throw new SnapshotError(foreign.path, typeof foreign.header === 'string' ? foreign.header
          : snapshot.format === '1.x' ? overwrittenBy1x(file)
            : `it does not belong to ${snapshot.format === 'none' ? 'an empty start (its snapshot is missing)' : `the snapshot "${file}" beside it`}`);
      }
      return [];
    }
  }
  const chain = [first];
  for (let cur = first; ;) {
    const link = `j:${(cur.header as JournalHeader).token}`;
    const next = files.find((f) => f.gen > cur.gen && typeof f.header === 'object' && f.header.after === link);
    if (next === undefined) break;
    chain.push(next);
    cur = next;
  }
  return chain;
}

/**
 * Only 2.x writes journals, and one a 1.x file does not continue was written after 2.x loaded, or wrote, a file that
 * 1.x has replaced since: a 1.x app still running on the file during a deploy (1.x takes no lock and rewrites its file
 * every savePeriod), or 1.x started again on it. "Does not belong" alone sent operators looking for damage.
 */
function overwrittenBy1x(file: string): string {
  return `it holds changes made by express-memfilestore 2.x, but the snapshot "${file}" beside it is an ` +
    'express-memfilestore 1.x file written since (a 1.x app saved to this file while or after 2.x ran on it; 1.x takes ' +
    'no lock). Stop every 1.x app using the file before starting 2.x: removing the journals then starts from the 1.x ' +
    'file, without the changes they hold';
}

/**
 * A record line (journal-format.ts) anywhere in the first 64 KiB: random bytes never form one by chance. Asked of a
 * journal outside the chain whose header is damaged, or whose first record begins with zeros (`records` false): a
 * crash can leave zeros where unsynced pages were and records in later pages, changes not to be taken for a leftover
 * (a record line then follows a zero, not a newline).
 */
const RECORD_LINE = /[\n\0][0-9a-f]{8} [stdc] \d{1,16} \d{1,16} \d{1,16} \d{1,16}\n/;

function recordShaped(path: string): boolean {
  const fd = openToRead(path, false);
  try {
    const head = Buffer.alloc(64 * 1024);
    return RECORD_LINE.test(head.toString('latin1', 0, readSync(fd, head, 0, head.length, 0)));
  } finally {
    closeSync(fd);
  }
}

interface FileReplay {
  records: number;
  /** Bytes of header and whole records. */
  size: number;
  tornAt: number | undefined;
  /** Bytes of the torn tail: from `tornAt` to its last byte that is not zero. */
  tornBytes: number;
}

function replayFile(f: JournalFile, header: JournalHeader, apply: (record: JournalRecord) => void, later: JournalFile | undefined): FileReplay {
  const salt = saltOf(header.token);
  let records = 0;
  let offset = header.bytes;
  let bad: string | undefined;
  const fd = openToRead(f.path, false);
  try {
    readChunks(fd, header.bytes, f.size, (bytes, eof) => {
      let pos = 0;
      while (bad === undefined && pos < bytes.length) {
        const parsed = parseJournalRecord(bytes, pos, salt, records + 1, eof);
        if (parsed.kind === 'short') break;
        if (parsed.kind === 'bad') {
          bad = parsed.reason;
          break;
        }
        records++;
        apply(parsed.record);
        pos = parsed.end;
      }
      offset += pos;
      // Past a bad record the rest is read once, below, to tell space set aside, a torn tail and damage apart.
      return bad === undefined ? pos : STOP;
    });
    if (bad === undefined) return { records, size: offset, tornAt: undefined, tornBytes: 0 };
    // Only up to the last byte that is not zero: the zeros after it are space set aside, and a file stretched far past
    // its records (a sparse file takes no disk) must not have gigabytes allocated and read to say so.
    // To the file's length now, not when it was listed: a running store sets its length one step further before it
    // writes a record across the old end, and that record, cut at the old length, would be taken for a torn tail.
    const rest = readAll(fd, offset, lastUsedByte(fd, offset, Math.max(f.size, fstatSync(fd).size)));
    // A whole record where a moment ago there was none: a running store appended it while `verify` or `export`
    // read (at a start the lock keeps writers out, and the same bytes parse the same). The journal ended there when
    // it was read, as if the append came just after: not a torn tail, and not damage.
    if (parseJournalRecord(rest, 0, salt, records + 1, true).kind === 'record') return { records, size: offset, tornAt: undefined, tornBytes: 0 };
    const used = usedLength(rest);
    if (used === 0) return { records, size: offset, tornAt: undefined, tornBytes: 0 }; // the space set aside
    const where = `record ${records + 1} at byte ${offset}`;
    if (later !== undefined) {
      throw new SnapshotError(f.path, `${where} is damaged (${bad}) and a later journal "${later.path}" holds changes`);
    }
    const valid = nextValidRecord(rest, salt);
    if (valid !== undefined) {
      throw new SnapshotError(f.path, `${where} is damaged (${bad}) and whole records follow it at byte ${offset + valid}`);
    }
    return { records, size: offset, tornAt: offset, tornBytes: used };
  } finally {
    closeSync(fd);
  }
}

/**
 * Offset of the first record after the damaged one at 0 whose checksum checks out, if any. Every offset is tried,
 * not only those after a newline: the damage may be the newline that ended the record before the next one.
 * A record starts with 8 hex digits and a space; that test skips almost every offset of a garbage tail.
 */
function nextValidRecord(rest: Buffer, salt: number): number | undefined {
  // The first newline at or after q, found again only once q has passed it: a record's line ends within MAX_HEADER
  // bytes, and the parser's own search for it ran to the next newline at every try. A session stored as JSON holds
  // none, so in a torn record of text that was a search to its end every few bytes: a 4 MB one held the start 9 s.
  let eol = -1;
  for (let q = 1; q + 9 < rest.length; q++) {
    if (rest[q + 8] !== 0x20 || !isHex(rest[q] as number)) continue;
    if (eol < q) eol = rest.indexOf(0x0a, q);
    if (eol === -1) return undefined;
    if (eol - q > MAX_HEADER) continue;
    if (parseJournalRecord(rest, q, salt, -1, true).kind === 'record') return q;
  }
  return undefined;
}

function isHex(byte: number): boolean {
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66);
}

/**
 * How a journal the replay read is opened again to write (to cut its torn tail, to append): never through a link. The
 * replay refused one, and one planted since would have the cut truncate, and the appends go into, the file it names.
 */
export const JOURNAL_WRITE_FLAGS = constants.O_RDWR | (constants.O_NOFOLLOW ?? 0);

/** Cuts a torn tail, if the replay found one, so new appends follow the last whole record (as Redis truncates its AOF). */
export function cutTornTail({ tornAt }: ReplayResult): void {
  if (tornAt === undefined) return;
  const fd = openSync(tornAt.path, JOURNAL_WRITE_FLAGS);
  try {
    ftruncateSync(fd, tornAt.offset);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
