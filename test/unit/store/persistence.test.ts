import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { MemoryBackend, MvccStore, StoreClosedError, utf8 } from '../../../src/store/index.ts';
import type { Backend, BatchOp } from '../../../src/store/index.ts';
import { withProcesses } from '../../lib/processes.ts';
import { backendKinds, compact, del, GatedBackend, Harness, put, withStore } from './helpers.ts';
import { workloadEntry } from './fixtures/workload.ts';

/** Records every batch written through it. */
class RecordingBackend extends GatedBackend {
  readonly writes: { ops: BatchOp[]; sync: boolean }[] = [];

  override write(ops: BatchOp[], options: { sync: boolean }): Promise<void> {
    this.writes.push({ ops, sync: options.sync });
    return super.write(ops, options);
  }
}

async function reference(appliedIndex: number): Promise<MvccStore> {
  const store = await MvccStore.open(new MemoryBackend());
  for (let index = 1; index <= appliedIndex; index += 100) {
    const last = Math.min(appliedIndex, index + 99);
    await store.applyBatch(Array.from({ length: last - index + 1 }, (_, i) => ({ index: index + i, command: workloadEntry(index + i) })));
  }
  return store;
}

describe('MVCC store: persistence', () => {
  for (const kind of backendKinds) {
    test(`reopening recovers data, history, revision, compaction point and applied index (${kind.name})`, async () => {
      await withStore(kind, async (h) => {
        await h.put('/a', '1'); // 1
        await h.put('/b', '1'); // 2
        await h.put('/a', '2'); // 3
        await h.run(del('/b')); // 4
        await h.run(compact(2));
        await h.store.apply(h.store.appliedIndex() + 1, null);
        const image = await h.store.snapshot();
        const reopened = await h.reopen();
        const { store } = reopened;
        assert.deepEqual([store.appliedIndex(), store.revision(), store.compactedRevision()], [6, 4, 2]);
        assert.equal(await reopened.value('/a'), '2');
        assert.equal(await reopened.value('/a', 2), '1');
        assert.equal(await reopened.value('/b', 3), '1');
        assert.deepEqual(await store.snapshot(), image);
        assert.equal(await reopened.put('/c', '1'), 5);
        await store.close();
      });
    });

    test(`one applyBatch is one backend batch, holding the data and the new applied index (${kind.name})`, async () => {
      let recording!: RecordingBackend;
      await withStore(
        kind,
        async (h) => {
          recording.writes.length = 0;
          await h.runAll([put('/a', '1'), put('/b', '2'), del('/a'), compact(1)]);
          assert.equal(recording.writes.length, 1);
          const [write] = recording.writes;
          assert.equal(write!.sync, false, 'the Raft log is the durable copy');
          const keys = write!.ops.map((op) => Buffer.from(op.key).toString('latin1'));
          assert.ok(keys.includes('m/state'), 'the applied index rides in the same batch');
          assert.ok(keys.some((key) => key.startsWith('k/b')) && keys.some((key) => key.startsWith('r')));
          await h.runAll([]);
          assert.equal(recording.writes.length, 1, 'an empty batch writes nothing');
        },
        (backend: Backend) => (recording = new RecordingBackend(backend, 'entries')),
      );
    });
  }

  test('after kill -9 in the middle of applying, LevelDB reopens at a batch boundary with exactly that state', async () => {
    const root = mkdtempSync(join(tmpdir(), 'bramble-store-crash-'));
    const dir = join(root, 'mvcc');
    try {
      for (let crash = 1; crash <= 3; crash++) {
        let acknowledged = 0;
        await withProcesses(async (group) => {
          const writer = await group.spawn('writer', {
            command: [process.execPath, '--import', 'tsx', resolve(import.meta.dirname, 'fixtures', 'crash-writer.ts')],
            args: () => [dir],
          });
          await writer.waitForLog(new RegExp(`applied ${crash * 400}\\d`), 60_000);
          await writer.kill('SIGKILL');
          acknowledged = Math.max(...writer.log.filter((line) => line.startsWith('applied ')).map((line) => Number(line.slice(8))));
        });
        const store = await MvccStore.open(dir);
        try {
          const applied = store.appliedIndex();
          // sync:false survives a process crash (the OS has the data); a power cut may lose a tail.
          assert.ok(applied >= acknowledged, `applied ${applied} >= acknowledged ${acknowledged}`);
          const expected = await reference(applied);
          assert.deepEqual(await store.snapshot(), await expected.snapshot(), `state at applied index ${applied}`);
          await expected.close();
          assert.ok((await store.range({ prefix: utf8('/log/') })).count > 0);
        } finally {
          await store.close();
        }
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('a memory store keeps its data across close and open of the same backend', async () => {
    const backend = new MemoryBackend();
    const h = await Harness.open(backend);
    await h.put('/a', '1');
    const again = await h.reopen();
    assert.equal(await again.value('/a'), '1');
    await again.store.close();
  });
});

describe('MemoryBackend: power cuts for the simulator', () => {
  test('a crash loses unsynced batches after the kept prefix; the store reopens at that batch, consistent', async () => {
    const backend = new MemoryBackend();
    let store = await MvccStore.open(backend); // initialization is synced
    const batches = [
      [1, 2, 3],
      [4, 5],
      [6, 7, 8, 9],
    ];
    for (const batch of batches) await store.applyBatch(batch.map((index) => ({ index, command: workloadEntry(index) })));
    backend.crash({ keepUnsyncedBatches: 2 });
    await assert.rejects(store.apply(10, null), StoreClosedError, 'the store on a crashed backend stops');
    store = await MvccStore.open(backend);
    assert.equal(store.appliedIndex(), 5);
    const expected = await reference(5);
    assert.deepEqual(await store.snapshot(), await expected.snapshot());
    await expected.close();

    await store.applyBatch([6, 7].map((index) => ({ index, command: workloadEntry(index) })));
    backend.flush();
    await store.applyBatch([8].map((index) => ({ index, command: workloadEntry(index) })));
    backend.crash();
    store = await MvccStore.open(backend);
    assert.equal(store.appliedIndex(), 7, 'flushed writes survive');
    await store.close();
  });
});
