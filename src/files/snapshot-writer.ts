/**
 * Writes a snapshot of the live sessions (format: snapshot-format.ts) through the atomic writer, in chunks, yielding
 * to the event loop between them so a large save never stalls requests for long.
 */
import { Buffer } from 'node:buffer';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { DirectorySyncError, type WriteChunk } from './atomic-writer.js';
import { wrapFsError } from './file-errors.js';
import type { EntryCopy } from '../store/lru-entries.js';
import { encodeHeader, encodeRecord, encodeTrailer, newChecksum, type JournalPointer } from './snapshot-format.js';

/** Pieces per chunk at most: about 400 KB of sessions, a few ms of work between two yields to the event loop. */
const PIECES_PER_CHUNK = 1000;
/**
 * Characters past which a chunk ends before it holds {@link PIECES_PER_CHUNK} pieces. Large sessions made chunks of
 * hundreds of MB, encoded and hashed without a yield, and 1000 of 540 KB passed V8's longest string (2^29 - 24
 * characters): every save of that store, and the CLI's export of it, failed with "Invalid string length".
 */
const CHUNK_CHARS = 1 << 20;

/**
 * `piece(0)` to `piece(count - 1)` joined into chunks of at most {@link PIECES_PER_CHUNK} pieces, a chunk ended early
 * past {@link CHUNK_CHARS} characters: the snapshot's records, and the lines of the CLI's export.
 */
export function* joinedInChunks(count: number, piece: (i: number) => string): Generator<{ text: string; pieces: number }> {
  let text = '';
  let pieces = 0;
  for (let i = 0; i < count; i++) {
    text += piece(i);
    if (++pieces < PIECES_PER_CHUNK && text.length < CHUNK_CHARS) continue;
    yield { text, pieces };
    text = '';
    pieces = 0;
  }
  if (pieces > 0) yield { text, pieces };
}

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
  for (const chunk of joinedInChunks(ids.length, (i) => encodeRecord(ids[i] as string, expires[i] as number, values[i] as string))) {
    await emit(chunk.text);
  }
  await write(Buffer.from(encodeTrailer(ids.length, checksum.digest('hex'))));
}

/** Names the file in a save failure, and says what is on disk now. */
export function saveError(file: string, err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  return wrapFsError(`express-memfilestore: could not save "${file}" (${stateAfter(file, err)}): ${message}`, err);
}

/** What a failed save left on disk. */
function stateAfter(file: string, err: unknown): string {
  if (err instanceof DirectorySyncError) {
    return 'the new snapshot is in place, but its directory could not be synced, so a power loss may bring back the previous one';
  }
  // Removed or moved away while the store runs: the previous snapshot went with it. Checked on failure only.
  // `?.`: what failed may have thrown any value (the `fs` seam is the caller's), null included.
  if ((err as NodeJS.ErrnoException | null | undefined)?.code === 'ENOENT' && !existsSync(dirname(file))) {
    return `its directory "${dirname(file)}" is gone (removed or moved away): the sessions are in memory only until it is back`;
  }
  return 'the previous snapshot is intact';
}
