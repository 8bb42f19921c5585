import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeCommand, MvccStore, utf8 } from '../../../src/store/index.ts';
import { backendKinds, Collector, compact, GatedBackend, del, delPrefix, put, settle, txn, withStore } from './helpers.ts';

for (const kind of backendKinds) {
  describe(`MVCC store: watch (${kind.name})`, () => {
    test('replays held history from startRevision, then delivers live events in revision order', async () => {
      await withStore(kind, async (h) => {
        await h.put('/registry/pods/a', 'a1'); // 1
        await h.put('/registry/other', 'o'); // 2
        await h.put('/registry/pods/b', 'b1'); // 3
        await h.run(del('/registry/pods/a')); // 4
        const collector = new Collector();
        const watch = h.store.watch({ prefix: utf8('/registry/pods/'), startRevision: 2 }, collector.callback);
        assert.deepEqual(collector.responses, [], 'no callback before watch() returns');
        await collector.waitForEvents(2);
        assert.deepEqual(collector.events, ['PUT /registry/pods/b=b1@3', 'DELETE /registry/pods/a=@4']);
        await h.put('/registry/pods/c', 'c1'); // 5
        await h.put('/registry/nodes/n', 'n'); // 6
        await h.run(txn([], [put('/registry/pods/d', 'd1'), put('/registry/pods/b', 'b2')])); // 7
        await collector.waitForEvents(5);
        assert.deepEqual(collector.events.slice(2), ['PUT /registry/pods/c=c1@5', 'PUT /registry/pods/d=d1@7', 'PUT /registry/pods/b=b2@7']);
        watch.cancel();
        await h.put('/registry/pods/e', 'e1');
        await settle();
        assert.equal(collector.events.length, 5, 'nothing after cancel');
        assert.equal(h.store.watchCount(), 0);
      });
    });

    test('events carry full kvs; DELETE events carry the revision of the delete', async () => {
      await withStore(kind, async (h) => {
        const collector = new Collector();
        h.store.watch({ key: utf8('/k') }, collector.callback);
        await h.put('/k', 'v1');
        await h.put('/k', 'v2');
        await h.run(del('/k'));
        await collector.waitForEvents(3);
        const events = collector.responses.flatMap((response) => (response.type === 'events' ? response.events : []));
        assert.deepEqual(
          events.map((event) => ({ type: event.type, version: event.kv.version, createRevision: event.kv.createRevision, modRevision: event.kv.modRevision })),
          [
            { type: 'PUT', version: 1, createRevision: 1, modRevision: 1 },
            { type: 'PUT', version: 2, createRevision: 1, modRevision: 2 },
            { type: 'DELETE', version: 0, createRevision: 0, modRevision: 3 },
          ],
        );
        assert.ok(events.every((event) => event.prevKv === undefined), 'prevKv only when asked');
      });
    });

    test('prevKv, in replay and live', async () => {
      await withStore(kind, async (h) => {
        await h.put('/k', 'v1'); // 1
        await h.put('/k', 'v2'); // 2
        const collector = new Collector();
        h.store.watch({ key: utf8('/k'), startRevision: 1, prevKv: true }, collector.callback);
        await collector.waitForEvents(2);
        await h.run(del('/k')); // 3
        await h.put('/k', 'v3'); // 4
        await collector.waitForEvents(4);
        assert.deepEqual(collector.events, ['PUT /k=v1@1', 'PUT /k=v2@2 (was v1@1)', 'DELETE /k=@3 (was v2@2)', 'PUT /k=v3@4']);
      });
    });

    test('a watch without startRevision sees only what comes next; one from the future waits for it', async () => {
      await withStore(kind, async (h) => {
        await h.put('/a', '1');
        const now = new Collector();
        const future = new Collector();
        h.store.watch({ prefix: utf8('/') }, now.callback);
        h.store.watch({ prefix: utf8('/'), startRevision: 4 }, future.callback);
        await h.put('/a', '2'); // 2
        await h.put('/a', '3'); // 3
        await h.put('/a', '4'); // 4
        await now.waitForEvents(3);
        await future.waitForEvents(1);
        assert.deepEqual(now.events, ['PUT /a=2@2', 'PUT /a=3@3', 'PUT /a=4@4']);
        assert.deepEqual(future.events, ['PUT /a=4@4']);
      });
    });

    test('a watch that starts below the compaction point gets an explicit compacted response and ends', async () => {
      await withStore(kind, async (h) => {
        for (let i = 1; i <= 5; i++) await h.put('/k', `v${i}`);
        await h.run(compact(4));
        const collector = new Collector();
        h.store.watch({ key: utf8('/k'), startRevision: 3 }, collector.callback);
        await collector.waitFor((c) => c.responses.length === 1, 'the compacted response');
        assert.deepEqual(collector.responses, [{ type: 'compacted', compactRevision: 4 }]);
        await h.put('/k', 'v6');
        await settle();
        assert.equal(collector.responses.length, 1);
        assert.equal(h.store.watchCount(), 0);

        const atCompaction = new Collector();
        h.store.watch({ key: utf8('/k'), startRevision: 4 }, atCompaction.callback);
        await atCompaction.waitForEvents(3);
        assert.deepEqual(atCompaction.events, ['PUT /k=v4@4', 'PUT /k=v5@5', 'PUT /k=v6@6'], 'the compaction revision itself is still watchable');
      });
    });

    test('a delete exactly at the compaction point is still replayed', async () => {
      await withStore(kind, async (h) => {
        await h.put('/gone', 'x'); // 1
        await h.run(del('/gone')); // 2
        await h.run(compact(2));
        const collector = new Collector();
        h.store.watch({ prefix: utf8('/'), startRevision: 2 }, collector.callback);
        await collector.waitForEvents(1);
        assert.deepEqual(collector.events, ['DELETE /gone=@2']);
      });
    });

    test('a replaying watch that a compaction overtakes ends with compacted', async () => {
      let gated!: GatedBackend;
      await withStore(
        kind,
        async (h) => {
          for (let i = 1; i <= 3; i++) await h.put(`/k${i}`, 'v');
          const gate = gated.closeGate();
          const collector = new Collector();
          h.store.watch({ prefix: utf8('/'), startRevision: 1 }, collector.callback);
          await gate.reached; // the replay is reading revisions 1..3
          await h.run(compact(3));
          gate.release();
          await collector.waitFor((c) => c.responses.length > 0, 'a response');
          assert.deepEqual(collector.responses, [{ type: 'compacted', compactRevision: 3 }], 'no partial replay');
        },
        (backend) => (gated = new GatedBackend(backend, 'entries')),
      );
    });

    test('many watches over a long replay and concurrent writes: each gets every event once, in order', async () => {
      await withStore(kind, async (h) => {
        const commands = Array.from({ length: 2500 }, (_, i) => put(`/w/${i % 7}`, `${i}`));
        for (let i = 0; i < commands.length; i += 500) await h.runAll(commands.slice(i, i + 500));
        const collectors = [1, 1200, 2400].map((startRevision) => {
          const collector = new Collector();
          h.store.watch({ prefix: utf8('/w/'), startRevision }, collector.callback);
          return { startRevision, collector };
        });
        const live = Array.from({ length: 200 }, (_, i) => put(`/w/${i % 3}`, `live${i}`));
        for (const command of live) await h.run(command);
        for (const { startRevision, collector } of collectors) {
          const expected = 2700 - startRevision + 1;
          await collector.waitForEvents(expected);
          const revisions = collector.responses.flatMap((r) => (r.type === 'events' ? r.events.map((e) => e.kv.modRevision) : []));
          assert.deepEqual(revisions, Array.from({ length: expected }, (_, i) => startRevision + i));
        }
      });
    });

    test('closing the store cancels its watches', async () => {
      const { backend, dispose } = kind.create();
      try {
        const store = await MvccStore.open(backend);
        const collector = new Collector();
        store.watch({ prefix: utf8('/') }, collector.callback);
        await store.close();
        assert.deepEqual(collector.responses, [{ type: 'cancelled', reason: 'closed' }]);
        assert.throws(() => store.watch({ prefix: utf8('/') }, collector.callback), /closed/);
      } finally {
        dispose();
      }
    });

    test('a callback that throws stops only its own watch', async () => {
      const { backend, dispose } = kind.create();
      const errors: unknown[] = [];
      try {
        const store = await MvccStore.open(backend, { onWatchError: (error) => errors.push(error) });
        const good = new Collector();
        store.watch({ prefix: utf8('/') }, () => {
          throw new Error('consumer bug');
        });
        store.watch({ prefix: utf8('/') }, good.callback);
        await store.apply(1, encodeCommand(put('/a', '1')));
        await store.apply(2, encodeCommand(delPrefix('/')));
        await good.waitForEvents(2);
        assert.equal(errors.length, 1);
        assert.equal(store.watchCount(), 1);
        await store.close();
      } finally {
        dispose();
      }
    });
  });
}
