import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CompactedError, utf8 } from '../../../src/store/index.ts';
import { backendKinds, compact, del, GatedBackend, put, withStore } from './helpers.ts';

for (const kind of backendKinds) {
  describe(`MVCC store: compaction (${kind.name})`, () => {
    test('drops history below the revision but keeps the latest version of every live key', async () => {
      await withStore(kind, async (h) => {
        await h.put('/a', 'a1'); // 1
        await h.put('/b', 'b1'); // 2
        await h.put('/a', 'a2'); // 3
        await h.put('/c', 'c1'); // 4
        await h.run(del('/c')); // 5
        await h.put('/a', 'a3'); // 6
        const result = await h.run(compact(5));
        assert.deepEqual({ op: result.op, revision: result.header.revision }, { op: 'compact', revision: 6 }, 'compaction takes no revision');
        assert.equal(h.store.compactedRevision(), 5);
        assert.equal(h.store.revision(), 6);
        assert.deepEqual(await h.keys('/', 5), ['/a', '/b']);
        assert.equal(await h.value('/a', 5), 'a2', 'the version in effect at the compaction point stays readable');
        assert.equal(await h.value('/b', 5), 'b1', 'an old but still current version is kept');
        assert.equal(await h.value('/a'), 'a3');
        await assert.rejects(h.store.range({ prefix: utf8('/'), revision: 4 }), CompactedError);
        const a = await h.store.get(utf8('/a'));
        assert.deepEqual([a?.createRevision, a?.version], [1, 3], 'createRevision and version survive compaction');
        assert.equal(await h.put('/c', 'c2'), 7);
        const c = await h.store.get(utf8('/c'));
        assert.deepEqual([c?.createRevision, c?.version], [7, 1]);
      });
    });

    test('compaction is refused at a future or an already compacted revision', async () => {
      await withStore(kind, async (h) => {
        await h.put('/a', '1');
        await h.put('/a', '2');
        const future = await h.run(compact(3));
        assert.ok(future.op === 'error' && future.error.code === 'future-revision');
        assert.ok((await h.run(compact(2))).op === 'compact');
        const again = await h.run(compact(2));
        assert.ok(again.op === 'error' && again.error.code === 'compacted');
        const lower = await h.run(compact(1));
        assert.ok(lower.op === 'error' && lower.error.code === 'compacted');
        assert.equal(h.store.compactedRevision(), 2);
        assert.equal(h.store.appliedIndex(), 6, 'refused commands still advance the applied index');
      });
    });

    test('repeated compactions keep the store consistent, also within one batch', async () => {
      await withStore(kind, async (h) => {
        const commands = [];
        for (let i = 1; i <= 30; i++) {
          commands.push(put(`/k${i % 4}`, `v${i}`));
          if (i % 10 === 0) commands.push(del(`/k${i % 4}`));
          if (i % 7 === 0) commands.push(compact(i));
        }
        const results = await h.runAll(commands);
        assert.ok(results.every((r) => r.op !== 'error'), JSON.stringify(results.filter((r) => r.op === 'error')));
        const revision = h.store.revision();
        const reopened = await h.reopen();
        assert.equal(reopened.store.revision(), revision);
        assert.equal(reopened.store.compactedRevision(), 28);
        assert.deepEqual(await reopened.keys('/'), ['/k0', '/k1', '/k3']);
        await reopened.store.close();
      });
    });

    test('a read pinned to a revision that a compaction overtakes fails with CompactedError; a current read retries', async () => {
      let gated!: GatedBackend;
      await withStore(
        kind,
        async (h) => {
          await h.put('/a', '1'); // 1
          await h.put('/a', '2'); // 2
          await h.put('/a', '3'); // 3
          let gate = gated.closeGate();
          const pinned = h.store.range({ key: utf8('/a'), revision: 1 });
          await gate.reached;
          await h.run(compact(3));
          gate.release();
          await assert.rejects(pinned, (error: unknown) => error instanceof CompactedError && error.compactRevision === 3);

          gate = gated.closeGate();
          const current = h.store.range({ key: utf8('/a') });
          await gate.reached;
          await h.put('/a', '4'); // 4
          await h.put('/a', '5'); // 5
          await h.run(compact(5));
          gate.release();
          const response = await current;
          assert.deepEqual([response.header.revision, response.kvs[0]?.version], [5, 5], 'read again at the new current revision');
        },
        (backend) => (gated = new GatedBackend(backend, 'getMany')),
      );
    });
  });
}
