// The contract every raft Storage implementation must pass (MemoryStorage, LevelStorage, ...).
// Usage: storageContract('MemoryStorage', async () => ({ storage: new MemoryStorage(), close: async () => {} })).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ENTRY_OVERHEAD_BYTES } from '../../../src/raft/entries.ts';
import { CompactedError, SnapshotOutOfDateError, UnavailableError } from '../../../src/raft/errors.ts';
import type { ConfState, Entry, Storage } from '../../../src/raft/types.ts';

export interface StorageUnderTest {
  storage: Storage;
  /** Closes the storage and opens it again from what it made durable. Absent: not durable. */
  reopen?: () => Promise<Storage>;
  close: () => Promise<void>;
}

function entry(index: number, term: number, payload = `e${index}t${term}`): Entry {
  return { index, term, type: 'normal', data: new TextEncoder().encode(payload) };
}

function range(from: number, to: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term));
  return out;
}

const conf: ConfState = { voters: ['a', 'b', 'c'], learners: ['d'] };

function summary(entries: Entry[]): string[] {
  return entries.map((e) => `${e.index}/${e.term}/${new TextDecoder().decode(e.data)}`);
}

export function storageContract(name: string, makeStorage: () => Promise<StorageUnderTest>): void {
  describe(`Storage contract: ${name}`, () => {
    async function withStorage(body: (under: StorageUnderTest) => Promise<void>): Promise<void> {
      const under = await makeStorage();
      try {
        await body(under);
      } finally {
        await under.close();
      }
    }

    test('a fresh storage is empty at index 0', () =>
      withStorage(async ({ storage }) => {
        assert.equal(storage.firstIndex(), 1);
        assert.equal(storage.lastIndex(), 0);
        assert.equal(storage.term(0), 0);
        assert.deepEqual(storage.entries(1, 1), []);
        assert.deepEqual(storage.initialState().hardState, { term: 0, vote: null, commit: 0 });
        assert.equal(storage.snapshot().metadata.index, 0);
      }));

    test('append then read entries and terms', () =>
      withStorage(async ({ storage }) => {
        await storage.append(range(1, 5, 1));
        assert.equal(storage.firstIndex(), 1);
        assert.equal(storage.lastIndex(), 5);
        assert.equal(storage.term(3), 1);
        assert.deepEqual(summary(storage.entries(2, 5)), summary(range(2, 4, 1)));
      }));

    test('append overwrites a conflicting suffix and drops what followed it', () =>
      withStorage(async ({ storage }) => {
        await storage.append(range(1, 5, 1));
        await storage.append([entry(3, 2, 'new3'), entry(4, 2, 'new4')]);
        assert.equal(storage.lastIndex(), 4);
        assert.deepEqual(summary(storage.entries(1, 5)), [
          ...summary(range(1, 2, 1)),
          '3/2/new3',
          '4/2/new4',
        ]);
      }));

    test('append that leaves a gap is refused', () =>
      withStorage(async ({ storage }) => {
        await storage.append(range(1, 3, 1));
        await assert.rejects(async () => storage.append([entry(5, 1)]));
        assert.equal(storage.lastIndex(), 3);
      }));

    test('out-of-range reads throw CompactedError / UnavailableError', () =>
      withStorage(async ({ storage }) => {
        await storage.append(range(1, 5, 1));
        assert.throws(() => storage.term(6), UnavailableError);
        assert.throws(() => storage.entries(4, 7), UnavailableError);
        await storage.createSnapshot(3, conf, new Uint8Array([1]));
        await storage.compact(3);
        assert.throws(() => storage.term(2), CompactedError);
        assert.throws(() => storage.entries(3, 5), CompactedError);
        assert.equal(storage.term(3), 1, 'the compaction point keeps its term');
        assert.equal(storage.firstIndex(), 4);
        assert.deepEqual(summary(storage.entries(4, 6)), summary(range(4, 5, 1)));
      }));

    test('entries() honours maxSizeBytes but returns at least one entry', () =>
      withStorage(async ({ storage }) => {
        const big = (i: number) => ({ index: i, term: 1, type: 'normal' as const, data: new Uint8Array(100) });
        await storage.append([big(1), big(2), big(3), big(4)]);
        const one = 100 + ENTRY_OVERHEAD_BYTES;
        assert.equal(storage.entries(1, 5, one * 2).length, 2);
        assert.equal(storage.entries(1, 5, one * 2 + 1).length, 2);
        assert.equal(storage.entries(1, 5, 1).length, 1);
        assert.equal(storage.entries(1, 5).length, 4);
      }));

    test('hard state round-trips', () =>
      withStorage(async ({ storage }) => {
        await storage.setHardState({ term: 4, vote: 'b', commit: 0 });
        assert.deepEqual(storage.initialState().hardState, { term: 4, vote: 'b', commit: 0 });
      }));

    test('createSnapshot records index, term, conf state and data without compacting', () =>
      withStorage(async ({ storage }) => {
        await storage.append([...range(1, 3, 1), ...range(4, 6, 2)]);
        const snapshot = await storage.createSnapshot(5, conf, new Uint8Array([9, 9]));
        assert.deepEqual(snapshot.metadata, { index: 5, term: 2, confState: conf });
        assert.deepEqual(storage.snapshot().metadata, snapshot.metadata);
        assert.deepEqual([...storage.snapshot().data], [9, 9]);
        assert.equal(storage.firstIndex(), 1);
        assert.deepEqual(storage.initialState().confState, conf);
        await assert.rejects(async () => storage.createSnapshot(5, conf, new Uint8Array()), SnapshotOutOfDateError);
        await assert.rejects(async () => storage.createSnapshot(7, conf, new Uint8Array()), UnavailableError);
      }));

    test('compaction is limited to the snapshot index and is not repeatable', () =>
      withStorage(async ({ storage }) => {
        await storage.append(range(1, 6, 1));
        await storage.createSnapshot(4, conf, new Uint8Array());
        await assert.rejects(async () => storage.compact(5));
        await storage.compact(2);
        await assert.rejects(async () => storage.compact(2), CompactedError);
        await storage.compact(4);
        assert.equal(storage.firstIndex(), 5);
        assert.equal(storage.lastIndex(), 6);
      }));

    test('applySnapshot replaces the log; older snapshots are refused', () =>
      withStorage(async ({ storage }) => {
        await storage.append(range(1, 4, 1));
        await storage.applySnapshot({ metadata: { index: 10, term: 3, confState: conf }, data: new Uint8Array([7]) });
        assert.equal(storage.firstIndex(), 11);
        assert.equal(storage.lastIndex(), 10);
        assert.equal(storage.term(10), 3);
        assert.throws(() => storage.term(4), CompactedError);
        assert.deepEqual(storage.initialState().confState, conf);
        await assert.rejects(
          async () => storage.applySnapshot({ metadata: { index: 8, term: 3, confState: conf }, data: new Uint8Array() }),
          SnapshotOutOfDateError,
        );
        await storage.append([entry(11, 3)]);
        assert.equal(storage.lastIndex(), 11);
      }));

    test('append ignores entries already covered by the snapshot', () =>
      withStorage(async ({ storage }) => {
        await storage.applySnapshot({ metadata: { index: 5, term: 2, confState: conf }, data: new Uint8Array() });
        await storage.append([entry(4, 2), entry(5, 2), entry(6, 2)]);
        assert.equal(storage.firstIndex(), 6);
        assert.equal(storage.lastIndex(), 6);
        assert.equal(storage.term(6), 2);
      }));

    test('save applies snapshot, entries and hard state together', () =>
      withStorage(async ({ storage }) => {
        await storage.save({
          snapshot: { metadata: { index: 3, term: 2, confState: conf }, data: new Uint8Array() },
          entries: [entry(4, 2), entry(5, 3)],
          hardState: { term: 3, vote: 'a', commit: 4 },
          mustSync: true,
        });
        assert.equal(storage.firstIndex(), 4);
        assert.equal(storage.lastIndex(), 5);
        assert.deepEqual(storage.initialState().hardState, { term: 3, vote: 'a', commit: 4 });
      }));

    test('reopen keeps everything that was saved', async (t) => {
      const under = await makeStorage();
      if (!under.reopen) {
        await under.close();
        t.skip('storage is not durable');
        return;
      }
      let storage = under.storage;
      await storage.save({ entries: range(1, 6, 1), hardState: { term: 2, vote: 'c', commit: 5 }, mustSync: true });
      await storage.save({ entries: [entry(6, 2, 'over')], mustSync: true });
      await storage.createSnapshot(4, conf, new Uint8Array([4, 2]));
      await storage.compact(3);
      storage = await under.reopen();
      try {
        assert.deepEqual(storage.initialState(), { hardState: { term: 2, vote: 'c', commit: 5 }, confState: conf });
        assert.equal(storage.firstIndex(), 4);
        assert.equal(storage.lastIndex(), 6);
        assert.equal(storage.term(3), 1);
        assert.deepEqual(summary(storage.entries(4, 7)), ['4/1/e4t1', '5/1/e5t1', '6/2/over']);
        assert.deepEqual(storage.snapshot().metadata, { index: 4, term: 1, confState: conf });
        assert.deepEqual([...storage.snapshot().data], [4, 2]);
      } finally {
        await under.close();
      }
    });
  });
}
