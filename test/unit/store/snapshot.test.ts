import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeCommand, fromUtf8, SnapshotImageError, utf8 } from '../../../src/store/index.ts';
import type { MvccStore } from '../../../src/store/index.ts';
import { backendKinds, Collector, compact, del, Harness, put, withStore, type BackendKind } from './helpers.ts';

/** Everything observable: revisions, and every key's kvs at every revision still held. */
async function observable(store: MvccStore): Promise<unknown> {
  const views: unknown[] = [store.appliedIndex(), store.revision(), store.compactedRevision()];
  for (let revision = Math.max(1, store.compactedRevision()); revision <= store.revision(); revision++) {
    views.push((await store.range({ prefix: new Uint8Array(), revision })).kvs.map((kv) => ({ ...kv, key: fromUtf8(kv.key), value: fromUtf8(kv.value) })));
  }
  return views;
}

async function fill(h: Harness, keys: number, rounds: number): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    await h.runAll(Array.from({ length: keys }, (_, i) => put(`/registry/pods/ns/p${String(i).padStart(4, '0')}`, `r${round}-${i}`)));
  }
}

async function withTwo(source: BackendKind, target: BackendKind, body: (a: Harness, b: Harness) => Promise<void>): Promise<void> {
  await withStore(source, (a) => withStore(target, (b) => body(a, b)));
}

describe('MVCC store: snapshot and restore', () => {
  for (const source of backendKinds) {
    for (const target of backendKinds) {
      test(`round trip from ${source.name} to ${target.name}: same observable state, same image`, async () => {
        await withTwo(source, target, async (a, b) => {
          await a.put('/a', '1');
          await a.put('/b', '1');
          await a.put('/a', '2');
          await a.run(del('/b'));
          await a.put('/c', '1');
          await a.run(compact(3));
          await a.store.apply(a.store.appliedIndex() + 1, null);
          await b.put('/stale', 'must disappear');
          const image = await a.store.snapshot();
          await b.store.restore(image, a.store.appliedIndex());
          assert.deepEqual(await observable(b.store), await observable(a.store));
          assert.deepEqual(await b.store.snapshot(), image);
          // Both continue identically from the next entry.
          for (const h of [a, b]) await h.run(put('/a', '3'));
          assert.deepEqual(await b.store.snapshot(), await a.store.snapshot());
          const reopened = await b.reopen();
          assert.deepEqual(await observable(reopened.store), await observable(a.store));
          await reopened.store.close();
        });
      });
    }

    test(`a streamed image is a consistent cut while applies go on, in several chunks (${source.name})`, async () => {
      await withTwo(source, source, async (a, b) => {
        await fill(a, 1500, 2);
        const expected = await a.store.snapshot();
        const stream = await a.store.snapshotStream();
        assert.equal(stream.appliedIndex, 3000);
        await a.run(put('/after', 'not in the image'));
        await a.run(compact(2000));
        let chunks = 0;
        async function* counted(): AsyncGenerator<Uint8Array> {
          for await (const chunk of stream.chunks()) {
            chunks++;
            yield chunk;
          }
        }
        await b.store.restore(counted(), 3000);
        assert.ok(chunks > 3, `${chunks} chunks`);
        assert.deepEqual(await b.store.snapshot(), expected);
        assert.equal(b.store.revision(), 3000);
        assert.equal(await b.value('/registry/pods/ns/p0042'), 'r1-42');
        assert.equal(await b.value('/registry/pods/ns/p0042', 1000), 'r0-42');
      });
    });

    test(`a damaged image is refused and changes nothing (${source.name})`, async () => {
      await withTwo(source, source, async (a, b) => {
        await a.put('/a', '1');
        await a.put('/b', '2');
        await b.put('/mine', 'x');
        const image = await a.store.snapshot();
        const before = await b.store.snapshot();
        const flipped = image.slice();
        flipped[Math.floor(flipped.length / 2)]! ^= 0x01;
        const damaged = [image.subarray(0, image.length - 5), flipped, utf8('not an image'), new Uint8Array([0, 0, 0, 1, 0xff])];
        for (const bytes of damaged) await assert.rejects(b.store.restore(bytes), SnapshotImageError);
        await assert.rejects(b.store.restore(image, 7), /taken at applied index 2, not at 7/);
        assert.deepEqual(await b.store.snapshot(), before);
        assert.equal(await b.value('/mine'), 'x');
      });
    });

    test(`an empty image resets to the initial state at the given index (${source.name})`, async () => {
      await withStore(source, async (h) => {
        await h.put('/a', '1');
        await h.store.restore(new Uint8Array(0), 42);
        assert.deepEqual([h.store.appliedIndex(), h.store.revision(), h.store.compactedRevision()], [42, 0, 0]);
        assert.equal((await h.store.range({ prefix: new Uint8Array() })).count, 0);
        const result = await h.store.apply(43, encodeCommand(put('/b', '1')));
        assert.equal(result.header.revision, 1);
      });
    });

    test(`watches continue from the restored history, or end with compacted (${source.name})`, async () => {
      await withTwo(source, source, async (leader, follower) => {
        await leader.put('/k', 'v1'); // 1
        await follower.put('/k', 'v1'); // 1
        const resumes = new Collector();
        follower.store.watch({ prefix: utf8('/') }, resumes.callback);
        await leader.put('/k', 'v2'); // 2
        await leader.put('/j', 'v3'); // 3
        let image = await leader.store.snapshot();
        await follower.store.restore(image, leader.store.appliedIndex());
        await resumes.waitForEvents(2);
        assert.deepEqual(resumes.events, ['PUT /k=v2@2', 'PUT /j=v3@3']);

        const lagging = new Collector();
        follower.store.watch({ prefix: utf8('/'), startRevision: 4 }, lagging.callback);
        await leader.put('/k', 'v4'); // 4
        await leader.put('/k', 'v5'); // 5
        await leader.run(compact(5));
        image = await leader.store.snapshot();
        await follower.store.restore(image, leader.store.appliedIndex());
        await lagging.waitFor((c) => c.responses.length > 0, 'compacted');
        assert.deepEqual(lagging.responses, [{ type: 'compacted', compactRevision: 5 }]);
      });
    });
  }
});
