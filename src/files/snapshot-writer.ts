/**
 * Writes a snapshot of the live sessions (format: snapshot-format.ts) through the atomic writer, in chunks, yielding
 * to the event loop between them so a large save never stalls requests for long.
 */
import { Buffer } from 'node:buffer';
import { DirectorySyncError, type WriteChunk } from './atomic-writer.js';
import { wrapFsError } from './file-errors.js';
import type { EntryCopy } from '../store/lru-entries.js';
import { encodeHeader, encodeRecord, encodeTrailer, newChecksum, type JournalPointer } from './snapshot-format.js';

/** Records per chunk: about 400 KB of sessions, a few ms of work between two yields to the event loop. */
const RECORDS_PER_CHUNK = 1000;

/** Streams the snapshot in chunks, yielding to the event loop at each write. */
export async function writeSnapshot(copy: EntryCopy, writtenAt: number, journal: JournalPointer | undefined, write: WriteChunk,
  absorbed = 0): Promise<void> {
  const checksum = newChecksum();
  const emit = async (text: string): Promise<void> => {
    const chunk = Buffer.from(text);
    checksum.update(chunk);
    await write(chunk);
  };
  await emit(encodeHeader(writtenAt, journal, absorbed));
  const { ids, values, expires } = copy;
  for (let start = 0; start < ids.length; start += RECORDS_PER_CHUNK) {
    const end = Math.min(ids.length, start + RECORDS_PER_CHUNK);
    let text = '';
    for (let i = start; i < end; i++) text += encodeRecord(ids[i] as string, expires[i] as number, values[i] as string);
    await emit(text);
  }
  await write(Buffer.from(encodeTrailer(ids.length, checksum.digest('hex'))));
}

/** Names the file in a save failure, and says what is on disk now. */
export function saveError(file: string, err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  const state = err instanceof DirectorySyncError
    ? 'the new snapshot is in place, but its directory could not be synced, so a power loss may bring back the previous one'
    : 'the previous snapshot is intact';
  return wrapFsError(`express-memfilestore: could not save "${file}" (${state}): ${message}`, err);
}
