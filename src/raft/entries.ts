// Size accounting for log entries, shared by the core (message and Ready limits) and storages.

import type { Entry } from './types.ts';

/** Fixed per-entry cost (term, index, type, framing) so that empty entries are not free. */
export const ENTRY_OVERHEAD_BYTES = 16;

export function entrySizeBytes(entry: Entry): number {
  return entry.data.byteLength + ENTRY_OVERHEAD_BYTES;
}

/** Payload bytes only; what the uncommitted-tail limit counts (a leader's empty entry is free). */
export function payloadSizeBytes(entries: readonly Entry[]): number {
  let total = 0;
  for (const entry of entries) total += entry.data.byteLength;
  return total;
}

/**
 * The longest prefix of `entries` whose total size stays within maxSizeBytes, but never fewer
 * than one entry, so an oversized entry still makes progress.
 */
export function limitSize(entries: Entry[], maxSizeBytes: number | undefined): Entry[] {
  if (maxSizeBytes === undefined || entries.length === 0) return entries;
  let total = entrySizeBytes(entries[0]!);
  let count = 1;
  while (count < entries.length) {
    total += entrySizeBytes(entries[count]!);
    if (total > maxSizeBytes) break;
    count++;
  }
  return count === entries.length ? entries : entries.slice(0, count);
}
