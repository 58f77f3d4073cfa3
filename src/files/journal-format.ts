/**
 * The journal file format, version 1: an append-only log of the changes made since a snapshot, beside it as
 * `<saveFile>.journal.<gen>`. A text file like the snapshot, one header line then records:
 *
 * ```text
 * express-memfilestore-journal 1 <gen> <token> <after> <iso time> <crc32>\n  header
 * <crc32> <op> <seq> <expires> <idBytes> <valueBytes>\n<id>\n<value>\n     one record per change
 * ```
 *
 * - `token`: 16 random hex digits naming this journal. `after` says what it continues: `j:<token>` the journal
 *   before it, `s:<sha256>` the snapshot with that checksum, `s:-` no snapshot at all. A snapshot names the first
 *   journal it does not contain (`journal <gen> <token>` in its header). So every journal belongs to exactly one
 *   chain, and a journal beside a snapshot it does not continue (a backup restored next to a newer log) is refused.
 * - The header's own `crc32` covers the line before it: a damaged token would otherwise make every record fail
 *   its checksum and pass for a torn tail.
 * - `op`: `s` set, `t` touch (the new value and expiry), `d` delete (destroy, or an eviction by `max`/`maxSize`),
 *   `c` clear. `expires` is ms since the epoch, 0 for never; `d` and `c` carry 0 and empty fields.
 * - `seq` counts from 1 in each file; `crc32` (8 hex digits) covers every byte after it up to the record's last
 *   newline, seeded with the CRC32 of the token, so a record copied from another journal never checks out.
 */
import { Buffer } from 'node:buffer';
import * as zlib from 'node:zlib';
import { readNumber, readNumberEnd } from './snapshot-format.js';

const JOURNAL_NAME = 'express-memfilestore-journal';
const JOURNAL_VERSION = 1;
const HEADER_LINE = /^express-memfilestore-journal (\d{1,6}) (0|[1-9]\d{0,15}) ([0-9a-f]{16}) (j:[0-9a-f]{16}|s:[0-9a-f]{64}|s:-) (\S+) ([0-9a-f]{8})$/;
/** Longest header or record line read (newline not counted); real ones are at most 168 bytes. */
export const MAX_HEADER = 200;
const NEWLINE = 0x0a;
const SPACE = 0x20;

export type JournalOp = 's' | 't' | 'd' | 'c';

/** A change as read back. */
export interface JournalRecord {
  op: JournalOp;
  id: string;
  expires: number;
  value: string;
  /** UTF-8 bytes of id and value, as read: the store's `maxSize` accounting needs them, without measuring again. */
  bytes: number;
}

/** What a journal's first line says. */
export interface JournalHeader {
  gen: number;
  token: string;
  /** `j:<token>`, `s:<sha256>` or `s:-`. */
  after: string;
  /** Bytes of the header line, newline included. */
  bytes: number;
}

export function encodeJournalHeader(gen: number, token: string, after: string, now: number): string {
  const line = `${JOURNAL_NAME} ${JOURNAL_VERSION} ${gen} ${token} ${after} ${new Date(now).toISOString()}`;
  return `${line} ${hex8(crc32(Buffer.from(line, 'latin1'), 0))}\n`;
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/**
 * Reads the header line at the start of `head`.
 * @returns the header, `undefined` when no whole line is there yet (a journal cut inside its header), or a string
 *   saying what is wrong with it.
 */
export function parseJournalHeader(head: Buffer): JournalHeader | string | undefined {
  const eol = head.indexOf(NEWLINE);
  if (eol === -1 || eol > MAX_HEADER) {
    if (head.length > MAX_HEADER) return 'it is not an express-memfilestore journal (unknown header)';
    return undefined;
  }
  const m = HEADER_LINE.exec(head.toString('latin1', 0, eol));
  if (m === null) return 'it is not an express-memfilestore journal (unknown header)';
  if (hex8(crc32(head.subarray(0, eol - 9), 0)) !== m[6]) return 'its header is damaged (checksum mismatch)';
  if (Number(m[1]) !== JOURNAL_VERSION) return `it has journal format version ${m[1]}, and this version reads ${JOURNAL_VERSION}`;
  return { gen: Number(m[2]), token: m[3] as string, after: m[4] as string, bytes: eol + 1 };
}

/** The CRC seed of a journal: records of another journal never check out in this one. */
export function saltOf(token: string): number {
  return crc32(Buffer.from(token, 'latin1'), 0);
}

const HEX = '0123456789abcdef';

/**
 * Appends one record to `out` at `at` and returns the offset after it. `out` must have room for
 * {@link recordBound} bytes.
 */
export function encodeJournalRecord(out: Buffer, at: number, salt: number, seq: number, op: JournalOp, id: string, expires: number, value: string): number {
  const idBytes = Buffer.byteLength(id);
  const valueBytes = Buffer.byteLength(value);
  const start = at + 9;
  let end = start + out.write(`${op} ${seq} ${expires} ${idBytes} ${valueBytes}\n`, start, 'latin1');
  end += out.write(id, end, 'utf8');
  out[end++] = NEWLINE;
  end += out.write(value, end, 'utf8');
  out[end++] = NEWLINE;
  let crc = crc32(out.subarray(start, end), salt);
  for (let i = 7; i >= 0; i--, crc >>>= 4) out[at + i] = HEX.charCodeAt(crc & 0xf);
  out[at + 8] = SPACE;
  return end;
}

/** Most bytes {@link encodeJournalRecord} can write for these strings (UTF-8 takes at most 3 bytes per UTF-16 unit). */
export function recordBound(id: string, value: string): number {
  return 9 + 60 + 3 * (id.length + value.length) + 2;
}

/** A parsed record, or why the bytes at an offset are not one. */
export type RecordParse =
  | { kind: 'record'; record: JournalRecord; end: number }
  | { kind: 'short' }
  | { kind: 'bad'; reason: string };

/**
 * Parses the record at `pos` in `buf` (which holds the file from some offset on, `eof` telling whether its end is
 * the file's end) expecting record number `seq` (-1: any). `short`: the bytes run out before the record does.
 */
export function parseJournalRecord(buf: Buffer, pos: number, salt: number, seq: number, eof: boolean): RecordParse {
  const eol = buf.indexOf(NEWLINE, pos);
  if (eol === -1 || eol - pos > MAX_HEADER) {
    return eol === -1 && buf.length - pos <= MAX_HEADER && !eof ? { kind: 'short' } : { kind: 'bad', reason: eof && eol === -1 ? 'it ends inside a record' : 'malformed record line' };
  }
  const line = readRecordLine(buf, pos, eol);
  if (line !== undefined) return parseRecordBody(buf, pos, eol, salt, seq, eof, line);
  // Something in the line is off: the slow path below says what.
  const fields = buf.toString('latin1', pos, eol).split(' ');
  if (fields.length !== 6 || !/^[0-9a-f]{8}$/.test(fields[0] as string)) return { kind: 'bad', reason: 'malformed record line' };
  const [crcText, op, seqText, expiresText, idText, valueText] = fields as [string, string, string, string, string, string];
  if (op !== 's' && op !== 't' && op !== 'd' && op !== 'c') return { kind: 'bad', reason: `unknown operation "${op.slice(0, 8)}"` };
  const numbers = [seqText, expiresText, idText, valueText].map(decimal);
  if (numbers.some((n) => n < 0)) return { kind: 'bad', reason: 'malformed record line' };
  const [recordSeq, expires, idBytes, valueBytes] = numbers as [number, number, number, number];
  return parseRecordBody(buf, pos, eol, salt, seq, eof, { crc: Number.parseInt(crcText, 16), op, seq: recordSeq, expires, idBytes, valueBytes });
}

/** The fields of a record's first line. */
interface RecordLine {
  crc: number;
  op: JournalOp;
  seq: number;
  expires: number;
  idBytes: number;
  valueBytes: number;
}

const OPS: Partial<Record<number, JournalOp>> = { 0x73: 's', 0x74: 't', 0x64: 'd', 0x63: 'c' };

/**
 * The record line read straight from the bytes, as the snapshot loader reads its records: one string split and
 * five regular expressions per record cost about a third of a journal's replay. `undefined` when anything in it
 * is off, for the slow path to say what.
 */
function readRecordLine(buf: Buffer, pos: number, eol: number): RecordLine | undefined {
  let crc = 0;
  for (let i = pos; i < pos + 8; i++) {
    const c = buf[i] as number;
    const digit = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
    if (digit < 0) return undefined;
    crc = crc * 16 + digit;
  }
  const op = OPS[buf[pos + 9] as number];
  if (buf[pos + 8] !== SPACE || op === undefined || buf[pos + 10] !== SPACE) return undefined;
  const seq = readNumber(buf, pos + 11, SPACE);
  const expires = seq < 0 ? -1 : readNumber(buf, readNumberEnd() + 1, SPACE);
  const idBytes = expires < 0 ? -1 : readNumber(buf, readNumberEnd() + 1, SPACE);
  const valueBytes = idBytes < 0 ? -1 : readNumber(buf, readNumberEnd() + 1, NEWLINE);
  if (valueBytes < 0 || readNumberEnd() !== eol) return undefined;
  return { crc, op, seq, expires, idBytes, valueBytes };
}

/** Checks and decodes the record whose first line ends at `eol`. */
function parseRecordBody(buf: Buffer, pos: number, eol: number, salt: number, seq: number, eof: boolean, line: RecordLine): RecordParse {
  const { op, expires, idBytes, valueBytes } = line;
  const idStart = eol + 1;
  const valueStart = idStart + idBytes + 1;
  const end = valueStart + valueBytes + 1;
  if (end > buf.length) return eof ? { kind: 'bad', reason: 'it ends inside a record' } : { kind: 'short' };
  if (buf[valueStart - 1] !== NEWLINE || buf[end - 1] !== NEWLINE) return { kind: 'bad', reason: 'the record\'s lengths do not match its content' };
  if (crc32(buf.subarray(pos + 9, end), salt) !== line.crc) return { kind: 'bad', reason: 'checksum mismatch' };
  if (seq !== -1 && line.seq !== seq) return { kind: 'bad', reason: `record number ${line.seq} where ${seq} was expected` };
  return {
    kind: 'record',
    end,
    record: { op, id: buf.toString('utf8', idStart, idStart + idBytes), expires, value: buf.toString('utf8', valueStart, valueStart + valueBytes), bytes: idBytes + valueBytes },
  };
}

/** A decimal without sign or leading zero, at most 16 digits; -1 for anything else. */
function decimal(text: string): number {
  return /^(0|[1-9]\d{0,15})$/.test(text) ? Number(text) : -1;
}

/** CRC-32 (IEEE, as zlib and gzip): Node's own from 20.15 and 22.2, a table otherwise. */
export const crc32: (data: Uint8Array, seed: number) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function'
    ? (zlib as unknown as { crc32: (data: Uint8Array, seed: number) => number }).crc32
    : tableCrc32;

let table: Int32Array | undefined;

/** The same CRC as zlib's, for the Node versions that lack `zlib.crc32`. */
export function tableCrc32(data: Uint8Array, seed: number): number {
  table ??= makeTable();
  let crc = ~seed;
  for (const byte of data) crc = (table[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return ~crc >>> 0;
}

function makeTable(): Int32Array {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
}
