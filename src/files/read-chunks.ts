/**
 * Reads a file synchronously in chunks through one reused buffer, handing each chunk to a parser that consumes
 * whole units and keeps the rest for the next call. Shared by the snapshot and the journal loaders, with the reads
 * that find where a file's bytes end and the zeros set aside after them begin, in bounded memory.
 */
import { Buffer } from 'node:buffer';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { SnapshotError } from './snapshot-format.js';

const CHUNK = 1 << 20;

/**
 * Parses the unit at the start of the bytes given (the first byte not consumed yet, then the rest of the file as
 * far as read) and returns how many bytes it consumed; `eof` says whether the bytes reach the end of the file.
 * {@link STOP} ends the reading: the parser has found where what it reads ends, and the rest is not for it.
 */
export type ChunkConsumer = (bytes: Buffer, eof: boolean) => number;

/** What a {@link ChunkConsumer} returns to stop the reading. */
export const STOP = -1;

/**
 * Feeds the file from `start` to `size` to `consume` until it is read or `consume` returns {@link STOP}; unless
 * stopped, the last call, exactly one, has `eof` true, and is made even when nothing is left, so the parser sees
 * the unparsed rest.
 * @returns the number of bytes read.
 */
export function readChunks(fd: number, start: number, size: number, consume: ChunkConsumer): number {
  let buffer = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(size - start, 1)));
  let position = start;
  let filled = 0;
  for (;;) {
    const read = position < size ? readSync(fd, buffer, filled, buffer.length - filled, position) : 0;
    position += read;
    filled += read;
    // A read of 0 before `size`: the file shrank while we read it; what is there is all there is.
    const eof = position >= size || read === 0;
    const used = consume(buffer.subarray(0, filled), eof);
    if (eof || used === STOP) break;
    const rest = filled - used;
    // One buffer for the whole file (decoded strings are copies): a fresh one per chunk cost page faults
    // and external-memory GCs, a fifth of the load time at 100k sessions.
    if (rest * 2 > buffer.length) {
      const bigger = Buffer.allocUnsafe(rest * 2);
      buffer.copy(bigger, 0, used, filled);
      buffer = bigger;
    } else {
      buffer.copyWithin(0, used, filled);
    }
    filled = rest;
  }
  return position - start;
}

/** O_NONBLOCK: an open of a FIFO for reading otherwise waits for a writer, forever (Windows lacks the flag: 0 there). */
export const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/**
 * Opens a snapshot or journal for reading. A FIFO, socket or device there (planted by anyone who can write the
 * directory) is refused: its open or read would block the start, which runs synchronously, for ever.
 * A directory is left to the read, which fails with EISDIR.
 * @param follow - false for a journal: the store creates them itself, in its directory, and appends to the last one,
 *   so a linked one (to a file anyone may own) is refused rather than written through.
 * @throws SnapshotError for such a file; the fs error when it cannot be opened.
 */
export function openToRead(path: string, follow = true): number {
  let fd: number;
  try {
    fd = openSync(path, follow ? READ_FLAGS : READ_FLAGS | (constants.O_NOFOLLOW ?? 0));
  } catch (err) {
    if (!follow && (err as NodeJS.ErrnoException).code === 'ELOOP') throw new SnapshotError(path, 'it is a symbolic link, and journals never are');
    throw err;
  }
  let stat;
  try {
    stat = fstatSync(fd);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  if (!stat.isFile() && !stat.isDirectory()) {
    closeSync(fd);
    throw new SnapshotError(path, 'it is not a regular file (a FIFO, socket or device)');
  }
  return fd;
}

const ZEROS = Buffer.alloc(CHUNK);

/**
 * The file offset after the last byte in [from, size) that is not zero (`from` when there is none), read backwards
 * one chunk at a time: the memory is one chunk however long the zeros run.
 */
export function lastUsedByte(fd: number, from: number, size: number): number {
  const chunk = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(size - from, 1)));
  for (let end = size; end > from;) {
    const start = Math.max(from, end - chunk.length);
    // Fewer bytes than asked: the file shrank since it was measured (a start cutting a torn tail while `verify`
    // reads), and what lies past them in the buffer is not the file's.
    const n = readSync(fd, chunk, 0, end - start, start);
    if (n > 0 && !chunk.subarray(0, n).equals(ZEROS.subarray(0, n))) return start + usedLength(chunk.subarray(0, n));
    end = start;
  }
  return from;
}

/** The bytes of the file in [from, to), as many as are still there. */
export function readAll(fd: number, from: number, to: number): Buffer {
  const bytes = Buffer.allocUnsafe(to - from);
  let filled = 0;
  while (filled < bytes.length) {
    // One read returns at most about 2 GiB.
    const n = readSync(fd, bytes, filled, Math.min(bytes.length - filled, 1 << 30), from + filled);
    if (n === 0) break;
    filled += n;
  }
  return bytes.subarray(0, filled);
}

/** Bytes of `rest` up to its last byte that is not zero: 0 when it holds only the zeros set aside. */
export function usedLength(rest: Buffer): number {
  let end = rest.length;
  while (end > 0 && rest[end - 1] === 0) end--;
  return end;
}
