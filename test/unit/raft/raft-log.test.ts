// Log Matching at the level of a single log: how appends from a leader are accepted, truncated
// and rejected, and how conflicts are located.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CompactedError } from '../../../src/raft/errors.ts';
import { MemoryStorage } from '../../../src/raft/memory-storage.ts';
import { RaftLog } from '../../../src/raft/raft-log.ts';
import type { Entry } from '../../../src/raft/types.ts';

const e = (index: number, term: number): Entry => ({ index, term, type: 'normal', data: new Uint8Array([index]) });
const terms = (entries: Entry[]) => entries.map((entry) => entry.term);

function logWithTerms(termsByIndex: number[]): RaftLog {
  const storage = new MemoryStorage();
  storage.append(termsByIndex.map((term, i) => e(i + 1, term)));
  return new RaftLog(storage);
}

describe('raft log', () => {
  test('maybeAppend accepts only when the preceding entry matches', () => {
    const log = logWithTerms([1, 1, 2]);
    assert.equal(log.maybeAppend(3, 1, 0, [e(4, 2)]), undefined, 'term mismatch at 3');
    assert.equal(log.maybeAppend(4, 2, 0, [e(5, 2)]), undefined, 'hole after 3');
    assert.equal(log.maybeAppend(3, 2, 0, [e(4, 2)]), 4);
    assert.equal(log.lastIndex(), 4);
  });

  test('a conflicting suffix is replaced, a matching one kept', () => {
    const log = logWithTerms([1, 1, 2, 2, 2]);
    // Re-sending entries we already have (e.g. a duplicated message) must not truncate the tail.
    assert.equal(log.maybeAppend(1, 1, 0, [e(2, 1), e(3, 2)]), 3);
    assert.equal(log.lastIndex(), 5);
    // A leader of term 3 disagrees from index 4 on.
    assert.equal(log.maybeAppend(3, 2, 0, [e(4, 3)]), 4);
    assert.deepEqual(terms(log.slice(1, log.lastIndex() + 1)), [1, 1, 2, 3]);
  });

  test('commit follows the leader only up to the last entry known to match', () => {
    const log = logWithTerms([1, 1, 1, 1, 1]);
    // The leader has committed 10 but only sent up to 3: entries 4..5 of ours may be stale.
    log.maybeAppend(2, 1, 10, [e(3, 1)]);
    assert.equal(log.committed, 3);
  });

  test('overwriting a committed entry is refused loudly', () => {
    const log = logWithTerms([1, 1, 1]);
    log.commitTo(3);
    assert.throws(() => log.maybeAppend(1, 1, 3, [e(2, 2)]));
  });

  test('isUpToDate compares last term first, then length (§5.4.1)', () => {
    const log = logWithTerms([1, 2, 2]);
    assert.equal(log.isUpToDate(3, 2), true);
    assert.equal(log.isUpToDate(2, 2), false);
    assert.equal(log.isUpToDate(1, 3), true, 'higher last term wins even if shorter');
    assert.equal(log.isUpToDate(10, 1), false, 'longer but older log loses');
  });

  test('findConflictByTerm returns the last index whose term is <= the given term', () => {
    const log = logWithTerms([1, 1, 3, 3, 5, 5, 5]);
    assert.deepEqual(log.findConflictByTerm(7, 4), { index: 4, term: 3 });
    assert.deepEqual(log.findConflictByTerm(7, 2), { index: 2, term: 1 });
    assert.deepEqual(log.findConflictByTerm(7, 5), { index: 7, term: 5 });
    assert.deepEqual(log.findConflictByTerm(20, 9), { index: 7, term: 5 }, 'clamped to our last index');
    assert.deepEqual(log.findConflictByTerm(7, 0), { index: 0, term: 0 });
  });

  test('slices span durable and unstable entries, and respect the size limit', () => {
    const log = logWithTerms([1, 1, 1]);
    log.append([e(4, 2), e(5, 2)]);
    assert.deepEqual(terms(log.slice(2, 6)), [1, 1, 2, 2]);
    assert.deepEqual(terms(log.unstableEntries()), [2, 2]);
    assert.equal(log.slice(1, 6, 1).length, 1, 'at least one entry');
  });

  test('stableTo ignores a stale acknowledgement for an index that was overwritten', () => {
    const log = logWithTerms([1]);
    log.append([e(2, 1), e(3, 1)]);
    // The driver is persisting (3, term 1) while a new leader overwrites index 3.
    log.append([e(3, 2)]);
    log.stableTo(3, 1);
    assert.deepEqual(terms(log.unstableEntries()), [1, 2], 'still unstable: entry 3 of term 2 was not persisted');
    log.stableTo(3, 2);
    assert.deepEqual(log.unstableEntries(), []);
  });

  test('compacted positions raise CompactedError; restore replaces the log', () => {
    const storage = new MemoryStorage();
    storage.append([e(1, 1), e(2, 1), e(3, 1)]);
    storage.createSnapshot(2, { voters: ['a'], learners: [] }, new Uint8Array());
    storage.compact(2);
    const log = new RaftLog(storage);
    assert.throws(() => log.term(1), CompactedError);
    assert.equal(log.term(2), 1);
    log.restore({ metadata: { index: 9, term: 4, confState: { voters: ['a'], learners: [] } }, data: new Uint8Array() });
    assert.equal(log.firstIndex(), 10);
    assert.equal(log.lastIndex(), 9);
    assert.equal(log.term(9), 4);
    assert.equal(log.committed, 9);
  });
});
