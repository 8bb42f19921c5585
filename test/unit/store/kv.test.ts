import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CompactedError, FutureRevisionError, fromUtf8, InvalidCommandError, prefixRangeEnd, UNBOUNDED_RANGE_END, utf8 } from '../../../src/store/index.ts';
import { backendKinds, compact, del, delPrefix, kvText, put, withStore } from './helpers.ts';

for (const kind of backendKinds) {
  describe(`MVCC store: keys, revisions and ranges (${kind.name})`, () => {
    test('an empty store is at revision 0 and applied index 0', async () => {
      await withStore(kind, async ({ store }) => {
        assert.equal(store.revision(), 0);
        assert.equal(store.appliedIndex(), 0);
        assert.equal(store.compactedRevision(), 0);
        const response = await store.range({ prefix: new Uint8Array() });
        assert.deepEqual(response, { header: { revision: 0 }, kvs: [], count: 0, more: false });
      });
    });

    test('create/mod revision and version follow etcd: version counts puts and resets after delete', async () => {
      await withStore(kind, async (h) => {
        assert.equal(await h.put('/a', '1'), 1);
        assert.equal(await h.put('/b', 'x'), 2);
        assert.equal(await h.put('/a', '2'), 3);
        assert.deepEqual(kvText(await h.store.get(utf8('/a'))), { key: '/a', value: '2', createRevision: 1, modRevision: 3, version: 2 });
        const deleted = await h.run(del('/a'));
        assert.equal(deleted.header.revision, 4);
        assert.equal(await h.store.get(utf8('/a')), undefined);
        assert.equal(await h.put('/a', '3'), 5);
        assert.deepEqual(kvText(await h.store.get(utf8('/a'))), { key: '/a', value: '3', createRevision: 5, modRevision: 5, version: 1 });
        assert.equal(h.store.revision(), 5);
        assert.equal(h.store.appliedIndex(), 5);
      });
    });

    test('put returns the previous version when asked', async () => {
      await withStore(kind, async (h) => {
        const first = await h.run(put('/k', 'v1', { prevKv: true }));
        assert.ok(first.op === 'put');
        assert.equal(first.prevKv, undefined);
        const second = await h.run(put('/k', 'v2', { prevKv: true }));
        assert.ok(second.op === 'put');
        assert.deepEqual(kvText(second.prevKv), { key: '/k', value: 'v1', createRevision: 1, modRevision: 1, version: 1 });
        const third = await h.run(put('/k', 'v3'));
        assert.ok(third.op === 'put' && third.prevKv === undefined);
      });
    });

    test('prefix ranges return keys in order with count and more under a limit', async () => {
      await withStore(kind, async (h) => {
        for (const name of ['c', 'a', 'e', 'b', 'd']) await h.put(`/registry/pods/default/${name}`, name);
        await h.put('/registry/pods/kube-system/x', 'x');
        await h.put('/registry/podsecurity/y', 'y');
        await h.put('/registry/services/default/s', 's');
        const prefix = utf8('/registry/pods/default/');
        const all = await h.store.range({ prefix });
        assert.deepEqual(all.kvs.map((kv) => fromUtf8(kv.value)), ['a', 'b', 'c', 'd', 'e']);
        assert.equal(all.count, 5);
        assert.equal(all.more, false);
        assert.equal(all.header.revision, 8);

        const page = await h.store.range({ prefix, limit: 2 });
        assert.deepEqual(page.kvs.map((kv) => fromUtf8(kv.value)), ['a', 'b']);
        assert.equal(page.count, 5);
        assert.equal(page.more, true);

        // The next page, as the API layer's continue token does: from just after the last key.
        const last = page.kvs[1]!.key;
        const next = await h.store.range({ key: new Uint8Array([...last, 0]), rangeEnd: prefixRangeEnd(prefix), limit: 2 });
        assert.deepEqual(next.kvs.map((kv) => fromUtf8(kv.value)), ['c', 'd']);
        assert.equal(next.more, true);

        assert.deepEqual(await h.keys('/registry/pods/'), [
          '/registry/pods/default/a',
          '/registry/pods/default/b',
          '/registry/pods/default/c',
          '/registry/pods/default/d',
          '/registry/pods/default/e',
          '/registry/pods/kube-system/x',
        ]);
        assert.equal((await h.store.range({ prefix: utf8('/registry/'), limit: 3 })).count, 8);
        assert.equal((await h.store.range({ prefix: utf8('/registry/pods'), limit: 100 })).more, false);
      });
    });

    test('countOnly, keysOnly, key ranges and an unbounded end', async () => {
      await withStore(kind, async (h) => {
        for (const name of ['a', 'b', 'c', 'd']) await h.put(name, `value-${name}`);
        const counted = await h.store.range({ prefix: new Uint8Array(), countOnly: true });
        assert.deepEqual(counted.kvs, []);
        assert.equal(counted.count, 4);
        const keys = await h.store.range({ key: utf8('b'), rangeEnd: utf8('d'), keysOnly: true });
        assert.deepEqual(keys.kvs.map((kv) => [fromUtf8(kv.key), kv.value.byteLength, kv.version, kv.modRevision]), [
          ['b', 0, 1, 2],
          ['c', 0, 1, 3],
        ]);
        const rest = await h.store.range({ key: utf8('c'), rangeEnd: UNBOUNDED_RANGE_END });
        assert.deepEqual(rest.kvs.map((kv) => fromUtf8(kv.key)), ['c', 'd']);
        assert.equal((await h.store.range({ key: utf8('d'), rangeEnd: utf8('a') })).count, 0, 'an end below the start selects nothing');
        assert.equal((await h.store.range({ key: utf8('zz') })).count, 0);
      });
    });

    test('prefixes that end in 0xff and binary keys', async () => {
      await withStore(kind, async (h) => {
        const keys = [new Uint8Array([1, 0xff]), new Uint8Array([1, 0xff, 0]), new Uint8Array([1, 0xff, 0xff, 3]), new Uint8Array([2])];
        for (const [i, key] of keys.entries()) await h.run({ op: 'put', key, value: new Uint8Array([i]) });
        const inPrefix = await h.store.range({ prefix: new Uint8Array([1, 0xff]) });
        assert.deepEqual(inPrefix.kvs.map((kv) => [...kv.value]), [[0], [1], [2]]);
        const kv = await h.store.get(new Uint8Array([1, 0xff, 0]));
        assert.deepEqual(kv?.key, new Uint8Array([1, 0xff, 0]));
      });
    });

    test('deleteRange returns how many keys it deleted and, when asked, their last versions', async () => {
      await withStore(kind, async (h) => {
        await h.put('/p/a', 'A');
        await h.put('/p/b', 'B');
        await h.put('/q', 'Q');
        const none = await h.run(del('/p/zzz'));
        assert.ok(none.op === 'deleteRange');
        assert.equal(none.deleted, 0);
        assert.equal(none.header.revision, 3, 'deleting nothing does not take a revision');
        const result = await h.run(delPrefix('/p/', { prevKv: true }));
        assert.ok(result.op === 'deleteRange');
        assert.equal(result.deleted, 2);
        assert.equal(result.header.revision, 4, 'one revision for the whole range');
        assert.deepEqual(result.prevKvs.map(kvText), [
          { key: '/p/a', value: 'A', createRevision: 1, modRevision: 1, version: 1 },
          { key: '/p/b', value: 'B', createRevision: 2, modRevision: 2, version: 1 },
        ]);
        assert.deepEqual(await h.keys('/'), ['/q']);
        const again = await h.run(delPrefix('/p/'));
        assert.ok(again.op === 'deleteRange' && again.deleted === 0 && again.prevKvs.length === 0);
        const ranged = await h.run({ op: 'deleteRange', key: utf8('/a'), rangeEnd: UNBOUNDED_RANGE_END });
        assert.ok(ranged.op === 'deleteRange' && ranged.deleted === 1);
      });
    });

    test('reads at older revisions see the state of that revision', async () => {
      await withStore(kind, async (h) => {
        await h.put('/x', 'x1'); // 1
        await h.put('/y', 'y1'); // 2
        await h.put('/x', 'x2'); // 3
        await h.run(del('/y')); // 4
        await h.put('/y', 'y2'); // 5
        assert.equal(await h.value('/x', 1), 'x1');
        assert.equal(await h.value('/x', 2), 'x1');
        assert.equal(await h.value('/x', 3), 'x2');
        assert.equal(await h.value('/y', 1), undefined);
        assert.equal(await h.value('/y', 3), 'y1');
        assert.equal(await h.value('/y', 4), undefined);
        assert.equal(await h.value('/y', 5), 'y2');
        assert.deepEqual(await h.keys('/', 4), ['/x']);
        assert.deepEqual(await h.keys('/', 3), ['/x', '/y']);
        const old = await h.store.range({ prefix: utf8('/'), revision: 2 });
        assert.equal(old.header.revision, 5, 'the header carries the current revision, as etcd');
        assert.deepEqual(old.kvs.map(kvText), [
          { key: '/x', value: 'x1', createRevision: 1, modRevision: 1, version: 1 },
          { key: '/y', value: 'y1', createRevision: 2, modRevision: 2, version: 1 },
        ]);
      });
    });

    test('a future revision and a compacted one are explicit errors', async () => {
      await withStore(kind, async (h) => {
        await h.put('/a', '1');
        await h.put('/a', '2');
        await h.put('/a', '3');
        await assert.rejects(h.store.range({ key: utf8('/a'), revision: 4 }), (error: unknown) => {
          assert.ok(error instanceof FutureRevisionError);
          assert.equal(error.revision, 4);
          assert.equal(error.currentRevision, 3);
          return true;
        });
        await h.run(compact(2));
        await assert.rejects(h.store.range({ key: utf8('/a'), revision: 1 }), (error: unknown) => {
          assert.ok(error instanceof CompactedError);
          assert.equal(error.compactRevision, 2);
          return true;
        });
        assert.equal(await h.value('/a', 2), '2', 'the compaction revision itself is still readable');
      });
    });

    test('malformed read options are refused', async () => {
      await withStore(kind, async ({ store }) => {
        await assert.rejects(store.range({ key: new Uint8Array() }), InvalidCommandError);
        await assert.rejects(store.range({ key: utf8('a'), limit: -1 }), InvalidCommandError);
        await assert.rejects(store.range({ key: utf8('a'), rangeEnd: new Uint8Array() }), InvalidCommandError);
        await assert.rejects(store.range({ prefix: utf8('a'), key: utf8('a') } as never), InvalidCommandError);
      });
    });
  });
}
