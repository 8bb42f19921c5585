// A key's history: the revisions at which it changed, oldest first, at most one per revision.
// version 0 marks a delete (a tombstone); a put after it starts a new generation at version 1.

export interface HistoryEntry {
  revision: number;
  /** Position of the change inside its revision (a transaction makes several changes). */
  sub: number;
  /** 0 for a delete. */
  createRevision: number;
  /** 0 for a delete. */
  version: number;
}

export type KeyHistory = readonly HistoryEntry[];

/** The change in effect at `revision`: the last one at or below it (undefined: none). */
export function entryAt(history: KeyHistory, revision: number): HistoryEntry | undefined {
  let lo = 0;
  let hi = history.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (history[mid]!.revision <= revision) lo = mid + 1;
    else hi = mid;
  }
  return history[lo - 1];
}

/** The live version at `revision`, if the key existed then. */
export function liveAt(history: KeyHistory | undefined, revision: number): HistoryEntry | undefined {
  const entry = history === undefined ? undefined : entryAt(history, revision);
  return entry !== undefined && entry.version > 0 ? entry : undefined;
}

/** The change just before the one at (revision, sub), if history still holds it. */
export function entryBefore(history: KeyHistory | undefined, revision: number): HistoryEntry | undefined {
  return history === undefined ? undefined : entryAt(history, revision - 1);
}

/**
 * What compaction at `compactRevision` keeps: every change above it, and the change in effect at
 * it when that is a live version (reads at compactRevision need it) or a delete made exactly at
 * compactRevision (a watch starting there must still see it). Everything else is dropped.
 */
export function compactHistory(history: KeyHistory, compactRevision: number): { kept: HistoryEntry[]; dropped: HistoryEntry[] } {
  const kept: HistoryEntry[] = [];
  const dropped: HistoryEntry[] = [];
  const atCompaction = entryAt(history, compactRevision);
  for (const entry of history) {
    if (entry.revision > compactRevision) kept.push(entry);
    else if (entry === atCompaction && (entry.version > 0 || entry.revision === compactRevision)) kept.push(entry);
    else dropped.push(entry);
  }
  return { kept, dropped };
}

/**
 * Whether `entry` may follow `previous` in a history (previous undefined: it is the oldest one
 * left). Catches damaged index records and snapshot images before they are believed.
 */
export function follows(previous: HistoryEntry | undefined, entry: HistoryEntry): boolean {
  if (!(entry.revision > 0) || (previous !== undefined && previous.revision >= entry.revision)) return false;
  if (entry.version === 0) return entry.createRevision === 0 && (previous === undefined || previous.version > 0);
  if (previous !== undefined && previous.version > 0) return entry.createRevision === previous.createRevision && entry.version === previous.version + 1;
  if (previous !== undefined) return entry.createRevision === entry.revision && entry.version === 1;
  return entry.createRevision > 0 && entry.createRevision <= entry.revision && (entry.version === 1) === (entry.createRevision === entry.revision);
}
