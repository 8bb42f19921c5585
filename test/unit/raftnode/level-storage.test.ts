import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { encode } from 'cbor-x';
import { ClassicLevel } from 'classic-level';
import { CompactedError, SnapshotOutOfDateError, UnavailableError } from '../../../src/raft/errors.ts';
import type { Entry } from '../../../src/raft/types.ts';
import { LevelStorage, StorageCorruptError } from '../../../src/raftnode/level-storage.ts';
import { withProcesses } from '../../lib/processes.ts';

const voters = { voters: ['a', 'b', 'c'], learners: [] };

function entry(index: number, term: number, text = `e${index}`): Entry {
  return { index, term, type: 'normal', data: Buffer.from(text) };
}

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'bramble-level-storage-'));
  try {
    await body(join(root, 'raft'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function reopen(storage: LevelStorage, dir: string): Promise<LevelStorage> {
  await storage.close();
  return LevelStorage.open(dir);
}

describe('LevelStorage', () => {
  test('a first member starts bootstrapped: membership and data in a snapshot at index 1, durable', async () => {
    await withDir(async (dir) => {
      let storage = await LevelStorage.open(dir, voters, Buffer.from('initial image'));
      assert.deepEqual(storage.initialState(), { hardState: { term: 1, vote: null, commit: 1 }, confState: voters });
      assert.equal(storage.firstIndex(), 2);
      assert.equal(storage.lastIndex(), 1);
      assert.equal(storage.term(1), 1);
      storage = await reopen(storage, dir);
      assert.deepEqual(storage.initialState().confState, voters);
      assert.deepEqual(storage.snapshot().metadata, { index: 1, term: 1, confState: voters });
      assert.equal(Buffer.from(storage.snapshot().data).toString(), 'initial image');
      await storage.close();
    });
  });

  test('a node that will join starts with an empty log and no membership', async () => {
    await withDir(async (dir) => {
      const storage = await LevelStorage.open(dir);
      assert.deepEqual(storage.initialState(), { hardState: { term: 0, vote: null, commit: 0 }, confState: { voters: [], learners: [] } });
      assert.equal(storage.lastIndex(), 0);
      await storage.close();
    });
  });

  test('entries and hard state persist in one save; a conflicting suffix is replaced', async () => {
    await withDir(async (dir) => {
      let storage = await LevelStorage.open(dir);
      await storage.save({ entries: [entry(1, 1), entry(2, 1), entry(3, 1), entry(4, 1)], hardState: { term: 1, vote: 'a', commit: 2 }, mustSync: true });
      await storage.save({ entries: [entry(3, 2, 'new3')], hardState: { term: 2, vote: 'b', commit: 2 }, mustSync: true });
      storage = await reopen(storage, dir);
      assert.equal(storage.lastIndex(), 3, 'entry 4 of the replaced suffix is gone');
      assert.equal(storage.term(3), 2);
      assert.equal(Buffer.from(storage.entries(3, 4)[0]!.data).toString(), 'new3');
      assert.deepEqual(storage.initialState().hardState, { term: 2, vote: 'b', commit: 2 });
      assert.throws(() => storage.entries(1, 5), UnavailableError);
      await assert.rejects(storage.append([entry(6, 2)]), /gap after 3/);
      await storage.close();
    });
  });

  test('maxSizeBytes limits a read but always returns at least one entry', async () => {
    await withDir(async (dir) => {
      const storage = await LevelStorage.open(dir);
      await storage.append([entry(1, 1, 'x'.repeat(100)), entry(2, 1, 'y'.repeat(100)), entry(3, 1, 'z'.repeat(100))]);
      assert.equal(storage.entries(1, 4, 1).length, 1);
      assert.equal(storage.entries(1, 4, 240).length, 2);
      assert.equal(storage.entries(1, 4).length, 3);
      await storage.close();
    });
  });

  test('snapshot, compaction and their files survive reopening; an older snapshot is refused', async () => {
    await withDir(async (dir) => {
      let storage = await LevelStorage.open(dir);
      await storage.append([entry(1, 1), entry(2, 1), entry(3, 2), entry(4, 2), entry(5, 2)]);
      const snapshot = await storage.createSnapshot(4, voters, Buffer.from('state@4'));
      assert.equal(snapshot.metadata.term, 2);
      await storage.compact(3);
      storage = await reopen(storage, dir);
      assert.equal(storage.firstIndex(), 4);
      assert.equal(storage.term(3), 2, 'the compaction point still answers its term');
      assert.throws(() => storage.term(2), CompactedError);
      assert.throws(() => storage.entries(3, 5), CompactedError);
      assert.equal(Buffer.from(storage.snapshot().data).toString(), 'state@4');
      await assert.rejects(storage.createSnapshot(4, voters, Buffer.from('again')), SnapshotOutOfDateError);
      await assert.rejects(storage.compact(5), /beyond the latest snapshot at 4/);

      // A snapshot from a leader replaces the whole log and the older snapshot file.
      await storage.applySnapshot({ metadata: { index: 10, term: 3, confState: voters }, data: Buffer.from('state@10') });
      storage = await reopen(storage, dir);
      assert.equal(storage.firstIndex(), 11);
      assert.equal(storage.lastIndex(), 10);
      assert.equal(storage.term(10), 3);
      assert.equal(storage.initialState().hardState.commit, 10);
      assert.deepEqual(readdirSync(join(dir, 'snapshots')), ['snap-3-10.bin']);
      await storage.append([entry(11, 3)]);
      assert.equal(storage.lastIndex(), 11);
      await storage.close();
    });
  });

  test('every save that resolved survives kill -9 of the writing process', async () => {
    await withDir(async (dir) => {
      let lastDurable = 0;
      await withProcesses(async (group) => {
        const writer = await group.spawn('writer', {
          command: [process.execPath, '--import', 'tsx', resolve(import.meta.dirname, '..', '..', 'fixtures', 'level-storage-writer.ts')],
          args: () => [dir],
        });
        await writer.waitForLog(/durable 50$/, 60_000);
        await writer.kill('SIGKILL');
        lastDurable = Math.max(...writer.log.filter((line) => line.startsWith('durable ')).map((line) => Number(line.slice(8))));
      });
      const storage = await LevelStorage.open(dir);
      assert.ok(storage.lastIndex() >= lastDurable, `last index ${storage.lastIndex()} >= last acknowledged ${lastDurable}`);
      for (const stored of storage.entries(1, lastDurable + 1)) assert.equal(Buffer.from(stored.data).toString(), `value-${stored.index}`);
      assert.ok(storage.initialState().hardState.commit >= lastDurable);
      await storage.close();
    });
  });
});

describe('LevelStorage refuses a damaged data dir and changes nothing', () => {
  async function damaged(prepare: (dir: string) => Promise<void> | void, expected: RegExp): Promise<void> {
    await withDir(async (dir) => {
      const storage = await LevelStorage.open(dir);
      await storage.save({ entries: [entry(1, 1), entry(2, 1), entry(3, 1)], hardState: { term: 1, vote: 'a', commit: 3 }, mustSync: true });
      await storage.createSnapshot(2, voters, Buffer.from('state@2'));
      await storage.close();
      await prepare(dir);
      const before = await contents(dir);
      await assert.rejects(LevelStorage.open(dir), (error: unknown) => {
        assert.ok(error instanceof StorageCorruptError, String(error));
        assert.match(error.message, expected);
        assert.match(error.message, new RegExp(`Raft log in ${dir} is damaged`));
        assert.match(error.message, /Move the directory aside/);
        return true;
      });
      assert.deepEqual(await contents(dir), before, 'the stored records (or, if LevelDB cannot open, the files) are unchanged');
    });
  }

  /** Every LevelDB record, or when LevelDB cannot open the directory, every file and its size. */
  async function contents(dir: string): Promise<string[]> {
    const db = new ClassicLevel<Buffer, Buffer>(join(dir, 'log'), { keyEncoding: 'buffer', valueEncoding: 'buffer', createIfMissing: false });
    try {
      await db.open();
    } catch {
      return readdirSync(join(dir, 'log'))
        .filter((name) => !name.startsWith('LOG'))
        .sort()
        .map((name) => `${name}:${statSync(join(dir, 'log', name)).size}`);
    }
    const records: string[] = [];
    for await (const [key, value] of db.iterator()) records.push(`${key.toString('hex')}=${value.toString('hex')}`);
    await db.close();
    return records;
  }

  async function editLevel(dir: string, edit: (db: ClassicLevel<Buffer, Buffer>) => Promise<void>): Promise<void> {
    const db = new ClassicLevel<Buffer, Buffer>(join(dir, 'log'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    await edit(db);
    await db.close();
  }

  test('a record that does not decode', () =>
    damaged((dir) => editLevel(dir, (db) => db.put(Buffer.from('m:hard'), Buffer.from([0xff, 0xfe, 0x00]))), /hard state record does not decode/));

  test('a hole in the log', () =>
    damaged((dir) => editLevel(dir, (db) => db.del(Buffer.from([0x65, 0, 0, 0, 0, 0, 0, 0, 2]))), /log entry 2 is missing/));

  test('a commit index beyond the log', () =>
    damaged((dir) => editLevel(dir, (db) => db.put(Buffer.from('m:hard'), encode({ term: 1, vote: 'a', commit: 9 }))), /commit index 9 is beyond the last entry 3/));

  test('a snapshot file whose bytes changed', () =>
    damaged((dir) => writeFileSync(join(dir, 'snapshots', 'snap-1-2.bin'), 'tampered'), /snapshot file snap-1-2\.bin does not match its checksum/));

  test('a LevelDB directory with its CURRENT file gone', () => damaged((dir) => rmSync(join(dir, 'log', 'CURRENT')), /LevelDB cannot open it/));

  test('a LevelDB directory with a truncated MANIFEST', () =>
    damaged((dir) => {
      const manifest = readdirSync(join(dir, 'log')).find((name) => name.startsWith('MANIFEST-'))!;
      truncateSync(join(dir, 'log', manifest), 10);
    }, /LevelDB cannot open it/));

  test('a non-empty directory that is not a Bramble log', async () => {
    await withDir(async (dir) => {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'notes.txt'), 'mine');
      await assert.rejects(LevelStorage.open(dir), /not empty but has no BRAMBLE-RAFT-LOG marker/);
      assert.deepEqual(readdirSync(dir), ['notes.txt']);
    });
  });
});
