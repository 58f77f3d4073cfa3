/**
 * The file side of a journal rotation at a snapshot (the state machine is in journal-writer.ts): naming the next
 * journal, remembering the switch until its journal is created, and creating it whole on disk (header written and synced, directory synced) before the snapshot naming it
 * is written. A crash at any point leaves either no new journal, an empty one (its header torn at worst: an empty
 * newest file at the next start), or a whole empty one; the crash points are listed in the README.
 */
import { randomBytes } from 'node:crypto';
import type { JournalError } from './journal-failure.js';
import { closeQuietly, createJournal, newFile, removeQuietly, type JournalFile, type JournalIo } from './journal-file.js';
import { journalPath } from './journal-reader.js';

/** A switch to a new journal: appends go to `next` at once; its file is created by {@link createNextJournal}. */
export interface Rotation {
  next: JournalFile;
  /** The journal replaced; `undefined` when none was created since the start. */
  old: JournalFile | undefined;
  /** What the new journal's header says it continues. */
  after: string;
}

/** A switch {@link Rotations.take} hands over to be completed. */
export interface Opening extends Rotation {
  /** The journal's failure (if any) when the switch copied memory. */
  failure: JournalError | undefined;
  /** `old` is a failed rotation's empty journal, never named by a snapshot: removed once retired. */
  leftover: boolean;
}

/** The switches a journal writer made and has not completed yet, and what a failed one left behind. */
export class Rotations {
  /** The last generation a switch took: never reused, even when its journal could not be created. */
  #lastGen = 0;
  #opening: Omit<Opening, 'leftover'> | undefined;
  /** The journal a switch replaces, until it is retiring (or failed): its last sync may run. */
  replaced: JournalFile | undefined;
  /**
   * The journal a rotation created while the journal had failed, as long as no snapshot naming it can be on disk.
   * It holds no record (nothing is written while failed, and only that snapshot, durable, ends the failure), and no
   * start needs it: the next rotation removes it, or every failed recovery snapshot would leave one more file.
   */
  unnamed: JournalFile | undefined;

  /** Names the next journal and remembers the switch to it until {@link take}. */
  plan(saveFile: string, old: JournalFile | undefined, start: { gen: number; after: string },
    failure: JournalError | undefined): Rotation {
    const rotation = planRotation(saveFile, old, start, this.#lastGen);
    this.#lastGen = rotation.next.gen;
    this.#opening = { ...rotation, failure };
    this.replaced = old;
    return rotation;
  }

  /** The switch to complete, once. */
  take(): Opening | undefined {
    const opening = this.#opening;
    if (opening === undefined) return undefined;
    this.#opening = undefined;
    const leftover = opening.old !== undefined && opening.old === this.unnamed;
    this.unnamed = undefined;
    return { ...opening, leftover };
  }
}

/**
 * Names the journal after `old` (or, with none, after the chain `start` describes), never reusing a generation
 * a failed rotation already took (`lastGen`).
 */
function planRotation(saveFile: string, old: JournalFile | undefined, start: { gen: number; after: string },
  lastGen: number): Rotation {
  const gen = Math.max(old?.gen ?? start.gen - 1, lastGen) + 1;
  const token = randomBytes(8).toString('hex');
  // A snapshot names the next journal by generation and token; `after` matters only to a snapshot without that.
  const after = old === undefined ? start.after : `j:${old.token}`;
  return { next: newFile(-1, gen, token, journalPath(saveFile, gen), 0, 1), old, after };
}

/**
 * Creates the planned journal: header written and synced, directory synced; then it is `ready` for records.
 * @throws the fs error, after closing and removing what was created.
 */
export async function createNextJournal(io: JournalIo, saveFile: string, rotation: Rotation, now: number,
  syncDirectory: () => Promise<void>): Promise<void> {
  const { next, after } = rotation;
  const created = createJournal(io, saveFile, next.gen, after, now, next.token);
  next.fd = created.fd;
  next.size = created.size;
  try {
    await new Promise<void>((resolve, reject) => {
      io.fdatasync(next.fd, (err) => { if (err) reject(err); else resolve(); });
    });
    await syncDirectory();
    next.ready = true;
  } catch (err) {
    closeQuietly(io, next.fd);
    next.fd = -1;
    removeQuietly(io, next.path);
    throw err;
  }
}
