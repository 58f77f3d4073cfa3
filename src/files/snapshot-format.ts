/**
 * The snapshot file format, version 2 (version 1 is still read). A text file, readable with `less`, written and
 * read as a stream:
 *
 * ```text
 * express-memfilestore-snapshot 2 2026-11-27T08:25:16.123Z journal 3 9f2c41d07a6b5e18\n
 *                                                                   header: format name, version, when written, and
 *                                                                   the first journal it does not contain (or `nojournal`,
 *                                                                   `nojournal <gen>`: it stands alone and holds every
 *                                                                   journal up to <gen>, which are leftovers if still there)
 * r <expires> <idBytes> <valueBytes>\n<id>\n<value>\n               one record per session, least recently used first
 * ...
 * end <records> <sha256>\n                                          trailer: record count, SHA-256 (hex) of every byte before it
 * ```
 *
 * `expires` is the absolute expiry in ms since the epoch (`0`: never). Lengths are UTF-8 byte counts, so
 * ids and values are stored raw (no escaping) and may contain any character, newlines included.
 * The file ends right after the trailer; anything else is damage. Version 1 is the same without the journal
 * field (2.0.0-beta files): changes after it can only be in a journal that names its checksum (journal-format.ts).
 */
import { Buffer } from 'node:buffer';
import { createHash, type Hash } from 'node:crypto';

const FORMAT_NAME = 'express-memfilestore-snapshot';
const FORMAT_VERSION = 2;
const HEADER_PREFIX = `${FORMAT_NAME} `;
/** Longest header or record line we accept; real ones are at most 101 bytes. */
const MAX_LINE = 200;
const NEWLINE = 0x0a;
const SPACE = 0x20;
const LETTER_R = 0x72;
const DIGIT_0 = 0x30;
const MAX_DIGITS = 16;

/** What a reader sees when a snapshot file is damaged or not a snapshot at all. */
export class SnapshotError extends Error {
  readonly code = 'ERR_SNAPSHOT_DAMAGED';
  constructor(readonly file: string, readonly reason: string) {
    super(`express-memfilestore: cannot load "${file}": ${reason}. The file was left untouched; ` +
      'fix or remove it, or set onDamagedFile: "move-aside" to start empty');
    this.name = 'SnapshotError';
  }
}

/** The journal a snapshot hands over to: the first one whose changes it does not contain. */
export interface JournalPointer {
  gen: number;
  token: string;
}

/**
 * @param absorbed - for a snapshot without a next journal: the highest journal generation it holds, so a start
 *   that still finds those journals (a crash before their removal reached the disk) knows they are leftovers.
 */
export function encodeHeader(writtenAt: number, journal: JournalPointer | undefined, absorbed = 0): string {
  const next = journal !== undefined ? `journal ${journal.gen} ${journal.token}` : absorbed > 0 ? `nojournal ${absorbed}` : 'nojournal';
  return `${HEADER_PREFIX}${FORMAT_VERSION} ${new Date(writtenAt).toISOString()} ${next}\n`;
}

export function encodeRecord(id: string, expires: number, value: string): string {
  return `r ${expires} ${Buffer.byteLength(id)} ${Buffer.byteLength(value)}\n${id}\n${value}\n`;
}

export function encodeTrailer(records: number, sha256: string): string {
  return `end ${records} ${sha256}\n`;
}

/** Incremental SHA-256 over what precedes the trailer. */
export function newChecksum(): Hash {
  return createHash('sha256');
}

/**
 * Takes a record read back. Returns false when its id is already loaded: a snapshot never holds an id twice,
 * so a repeat means the file was tampered with.
 */
export type RecordSink = (record: SnapshotRecord) => boolean;

/**
 * Whether the record with this id is replaced by a later change (read from the journal first): its value is then
 * never decoded, which at a start after many changes is most of the snapshot's decoding.
 */
export type SupersededCheck = (id: string) => boolean;

/** A record as read back. */
export interface SnapshotRecord {
  id: string;
  expires: number;
  value: string;
  /** UTF-8 bytes of id and value, when the reader already knows them. */
  bytes?: number;
}

const TRAILER_LINE = /^end (0|[1-9]\d{0,15}) ([0-9a-f]{64})$/;
// The time as toISOString() writes it: past the year 9999 (a `clock` moved far ahead) with a sign and six digits.
const HEADER_LINE = /^(0|[1-9]\d{0,5}) ((?:\d{4}|[+-]\d{6})-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,3})?Z)(?: (nojournal(?: ([1-9]\d{0,15}))?|journal (0|[1-9]\d{0,15}) ([0-9a-f]{16})))?$/;

/** Where {@link readNumber} stopped: the offset of its terminator. */
let cursor = 0;

/** The offset of the terminator the last {@link readNumber} stopped at. */
export function readNumberEnd(): number {
  return cursor;
}

/**
 * Reads a decimal number (no sign, no leading zero, at most 16 digits) starting at `at` and ending at the
 * byte `terminator`; leaves the terminator's offset in `cursor`. Returns -1 if the bytes are anything else.
 */
export function readNumber(buf: Buffer, at: number, terminator: number): number {
  let value = 0;
  let i = at;
  for (; i < buf.length; i++) {
    const c = buf[i] as number;
    if (c === terminator) break;
    if (i - at === MAX_DIGITS) return -1;
    const digit = c - DIGIT_0;
    if (digit < 0 || digit > 9 || (i > at && value === 0)) return -1;
    value = value * 10 + digit;
  }
  cursor = i;
  return i === at || buf[i] !== terminator ? -1 : value;
}

/**
 * Parses a snapshot fed in chunks of any size. Knowing the file's total size lets it reject a record
 * whose length runs past the end of the file at once, instead of buffering towards it.
 */
export class SnapshotParser {
  readonly #file: string;
  readonly #size: number;
  readonly #onRecord: RecordSink;
  readonly #superseded: SupersededCheck | undefined;
  readonly #hash = newChecksum();
  #pending: Buffer = Buffer.alloc(0);
  /** File offset of the next byte to consume. */
  #offset = 0;
  #state: 'header' | 'records' | 'done' = 'header';
  #records = 0;
  #writtenAt = '';
  #version = 0;
  #journal: JournalPointer | undefined;
  #absorbed: number | undefined;
  #sha256 = '';
  /** Offset in the current chunk up to which the checksum has been fed. */
  #hashed = 0;

  constructor(file: string, size: number, onRecord: RecordSink, superseded?: SupersededCheck) {
    this.#file = file;
    this.#size = size;
    this.#onRecord = onRecord;
    this.#superseded = superseded;
  }

  /** When the snapshot says it was written (ISO 8601), once the header is read. */
  get writtenAt(): string {
    return this.#writtenAt;
  }

  get records(): number {
    return this.#records;
  }

  /** The format version read from the header. */
  get version(): number {
    return this.#version;
  }

  /** The journal the snapshot hands over to (version 2 with a journal), once the header is read. */
  get journal(): JournalPointer | undefined {
    return this.#journal;
  }

  /** A snapshot that stands alone: the highest journal generation it holds (`nojournal <gen>`). */
  get absorbed(): number | undefined {
    return this.#absorbed;
  }

  /** The checksum from the trailer: what identifies this snapshot to a journal started after it. */
  get sha256(): string {
    return this.#sha256;
  }

  /**
   * Parses the whole units (header, records, trailer) at the start of `bytes`, which must begin at the
   * first byte not consumed yet, and returns how many bytes it consumed. The caller keeps the rest and
   * passes it again, followed by more of the file: no unit is ever copied twice.
   */
  consume(bytes: Buffer): number {
    this.#pending = bytes;
    this.#hashed = 0;
    let pos = 0;
    for (;;) {
      const used = this.#step(pos);
      if (used === 0) break;
      pos += used;
    }
    // One hash update per chunk rather than per record; the trailer hashes up to itself.
    if (this.#state !== 'done') this.#hash.update(bytes.subarray(this.#hashed, pos));
    this.#offset += pos;
    this.#pending = bytes.subarray(pos);
    return pos;
  }

  /** Call at end of file. @throws SnapshotError when the file ended early. */
  finish(): void {
    if (this.#state === 'done') return;
    if (this.#state === 'header') {
      if (this.#size === 0) this.#fail('the file is empty');
      const head = this.#pending.toString('latin1', 0, HEADER_PREFIX.length);
      this.#fail(HEADER_PREFIX.startsWith(head) ? 'the file ends inside the header'
        : 'it is not an express-memfilestore snapshot (unknown header)');
    }
    this.#fail(`the file is truncated at byte ${this.#offset + this.#pending.length} (no trailer after ${this.#records} records)`);
  }

  /** Consumes one unit (header, record or trailer) at `pos` and returns its length, or 0 if more bytes are needed. */
  #step(pos: number): number {
    const buf = this.#pending;
    if (pos >= buf.length) return 0;
    if (this.#state === 'done') this.#fail(`unexpected data after the trailer at byte ${this.#offset + pos}`);
    const eol = buf.indexOf(NEWLINE, pos);
    if (eol === -1 || eol - pos > MAX_LINE) {
      if (buf.length - pos > MAX_LINE) this.#badLine(pos);
      return 0;
    }
    if (this.#state === 'header') return this.#header(buf.toString('latin1', pos, eol), pos, eol);
    if (buf[pos] === LETTER_R && buf[pos + 1] === SPACE) return this.#record(buf, pos, eol);
    const line = buf.toString('latin1', pos, eol);
    if (line.startsWith('end ')) return this.#trailer(line, pos, eol);
    return this.#badLine(pos);
  }

  #header(line: string, pos: number, eol: number): number {
    if (!line.startsWith(HEADER_PREFIX)) this.#fail('it is not an express-memfilestore snapshot (unknown header)');
    const m = HEADER_LINE.exec(line.slice(HEADER_PREFIX.length));
    if (m === null) this.#fail('the header is malformed');
    const version = Number(m[1]);
    // Version 1 has no journal field, version 2 always one.
    if ((version !== 1 && version !== FORMAT_VERSION) || (version === 1) !== (m[3] === undefined)) {
      if (version === 1 || version === FORMAT_VERSION) this.#fail('the header is malformed');
      this.#fail(`it has format version ${m[1]}, and this version of express-memfilestore reads versions 1 and ${FORMAT_VERSION}`);
    }
    this.#version = version;
    if (m[4] !== undefined) this.#absorbed = Number(m[4]);
    if (m[5] !== undefined) this.#journal = { gen: Number(m[5]), token: m[6] as string };
    this.#writtenAt = m[2] ?? '';
    this.#state = 'records';
    return eol + 1 - pos;
  }

  #record(buf: Buffer, pos: number, eol: number): number {
    // Three numbers parsed straight from the bytes: this line is read once per session at start.
    const expires = readNumber(buf, pos + 2, SPACE);
    const idBytes = expires < 0 ? -1 : readNumber(buf, cursor + 1, SPACE);
    const valueBytes = idBytes < 0 ? -1 : readNumber(buf, cursor + 1, NEWLINE);
    if (valueBytes < 0 || cursor !== eol) {
      this.#fail(`record ${this.#records + 1} has a malformed header at byte ${this.#offset + pos}`);
    }
    const end = eol + 1 + idBytes + 1 + valueBytes + 1;
    if (this.#offset + end > this.#size) {
      this.#fail(`record ${this.#records + 1} at byte ${this.#offset + pos} claims ${idBytes + valueBytes} bytes, past the end of the file`);
    }
    if (end > buf.length) return 0;
    const idStart = eol + 1;
    const valueStart = idStart + idBytes + 1;
    if (buf[valueStart - 1] !== NEWLINE || buf[end - 1] !== NEWLINE) {
      this.#fail(`record ${this.#records + 1} at byte ${this.#offset + pos} is malformed (length does not match its content)`);
    }
    this.#records++;
    // toString copies: the session strings must not keep the read buffers alive.
    const id = buf.toString('utf8', idStart, idStart + idBytes);
    if (this.#superseded?.(id) === true) return end - pos;
    const value = buf.toString('utf8', valueStart, valueStart + valueBytes);
    // The sink checks repeats against the ids it holds: a Set of its own here cost a tenth of the load time.
    if (!this.#onRecord({ id, expires, value, bytes: idBytes + valueBytes })) {
      this.#fail(`record ${this.#records} repeats the id of an earlier record`);
    }
    return end - pos;
  }

  #trailer(line: string, pos: number, eol: number): number {
    const m = TRAILER_LINE.exec(line);
    if (m === null) this.#fail(`the trailer at byte ${this.#offset + pos} is malformed`);
    if (Number(m[1]) !== this.#records) {
      this.#fail(`the trailer counts ${m[1]} records, the file holds ${this.#records}`);
    }
    this.#hash.update(this.#pending.subarray(this.#hashed, pos));
    this.#hashed = pos;
    this.#sha256 = this.#hash.digest('hex');
    if (this.#sha256 !== m[2]) this.#fail('checksum mismatch (the content was altered or damaged)');
    this.#state = 'done';
    return eol + 1 - pos;
  }

  #badLine(pos: number): never {
    if (this.#state === 'header') this.#fail('it is not an express-memfilestore snapshot (unknown header)');
    return this.#fail(`unexpected data at byte ${this.#offset + pos} (expected a record or the trailer)`);
  }

  #fail(reason: string): never {
    throw new SnapshotError(this.#file, reason);
  }
}
