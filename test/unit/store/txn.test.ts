import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fromUtf8, MAX_TXN_OPS, utf8 } from '../../../src/store/index.ts';
import type { ApplyResult, Compare, TxnResponse } from '../../../src/store/index.ts';
import { backendKinds, compact, del, delPrefix, kvText, put, txn, withStore } from './helpers.ts';

function asTxn(result: ApplyResult): TxnResponse {
  assert.equal(result.op, 'txn', JSON.stringify(result));
  return result as TxnResponse;
}

const modRevision = (key: string, result: Compare['result'], value: number): Compare => ({ key: utf8(key), target: 'modRevision', result, value });
const version = (key: string, result: Compare['result'], value: number): Compare => ({ key: utf8(key), target: 'version', result, value });
const createRevision = (key: string, result: Compare['result'], value: number): Compare => ({ key: utf8(key), target: 'createRevision', result, value });
const valueIs = (key: string, result: Compare['result'], value: string): Compare => ({ key: utf8(key), target: 'value', result, value: utf8(value) });

for (const kind of backendKinds) {
  describe(`MVCC store: transactions (${kind.name})`, () => {
    test('update only if unchanged since read (modRevision): the optimistic concurrency of the API layer', async () => {
      await withStore(kind, async (h) => {
        const created = asTxn(await h.run(txn([modRevision('/pod', '=', 0)], [put('/pod', 'v1')], [{ op: 'range', key: utf8('/pod') }])));
        assert.equal(created.succeeded, true, 'create-if-absent: a missing key has modRevision 0');
        assert.equal(created.header.revision, 1);

        const again = asTxn(await h.run(txn([modRevision('/pod', '=', 0)], [put('/pod', 'other')], [{ op: 'range', key: utf8('/pod') }])));
        assert.equal(again.succeeded, false);
        assert.equal(again.header.revision, 1, 'a transaction without writes takes no revision');
        const current = again.responses[0];
        assert.ok(current?.op === 'range');
        assert.deepEqual(current.kvs.map(kvText), [{ key: '/pod', value: 'v1', createRevision: 1, modRevision: 1, version: 1 }]);

        const updated = asTxn(await h.run(txn([modRevision('/pod', '=', 1)], [put('/pod', 'v2', { prevKv: true })])));
        assert.equal(updated.succeeded, true);
        const putResponse = updated.responses[0];
        assert.ok(putResponse?.op === 'put');
        assert.equal(fromUtf8(putResponse.prevKv!.value), 'v1');
        assert.equal(putResponse.header.revision, 2);

        const stale = asTxn(await h.run(txn([modRevision('/pod', '=', 1)], [put('/pod', 'lost update')])));
        assert.equal(stale.succeeded, false);
        assert.deepEqual(stale.responses, []);
        assert.equal(await h.value('/pod'), 'v2');
      });
    });

    test('comparisons on version, createRevision and value, with every operator', async () => {
      await withStore(kind, async (h) => {
        await h.put('/k', 'b'); // 1
        await h.put('/k', 'b'); // 2, version 2
        const cases: [Compare, boolean][] = [
          [version('/k', '=', 2), true],
          [version('/k', '>', 1), true],
          [version('/k', '<', 2), false],
          [version('/k', '!=', 2), false],
          [createRevision('/k', '=', 1), true],
          [modRevision('/k', '>', 1), true],
          [modRevision('/k', '<', 2), false],
          [valueIs('/k', '=', 'b'), true],
          [valueIs('/k', '<', 'c'), true],
          [valueIs('/k', '>', 'a'), true],
          [valueIs('/k', '>', 'ba'), false],
          [valueIs('/k', '!=', 'b'), false],
          [version('/missing', '=', 0), true],
          [createRevision('/missing', '=', 0), true],
          [valueIs('/missing', '!=', 'x'), false], // any comparison of a missing key's value fails, as in etcd
          [valueIs('/missing', '=', ''), false],
        ];
        for (const [condition, expected] of cases) {
          const result = asTxn(await h.run(txn([condition], [], [])));
          assert.equal(result.succeeded, expected, `${condition.target} ${condition.result} ${String(condition.value)} on ${fromUtf8(condition.key)}`);
        }
        const all = asTxn(await h.run(txn([version('/k', '=', 2), valueIs('/k', '=', 'b'), version('/missing', '=', 1)], [], [])));
        assert.equal(all.succeeded, false, 'every comparison must hold');
        const none = asTxn(await h.run(txn([], [put('/empty-compare', 'yes')])));
        assert.equal(none.succeeded, true, 'no comparison: success');
      });
    });

    test('a branch runs in order in one revision; later operations see earlier writes', async () => {
      await withStore(kind, async (h) => {
        await h.put('/a/1', 'old'); // 1
        await h.put('/b', 'b'); // 2
        const result = asTxn(
          await h.run(
            txn(
              [],
              [
                put('/a/2', 'new'),
                { op: 'range', prefix: utf8('/a/') },
                delPrefix('/b', { prevKv: true }),
                { op: 'range', prefix: utf8('/'), countOnly: true },
                { op: 'range', prefix: utf8('/'), revision: 2 },
              ],
            ),
          ),
        );
        assert.equal(result.header.revision, 3);
        const [putResponse, readBack, deleted, counted, old] = result.responses;
        assert.ok(putResponse?.op === 'put' && readBack?.op === 'range' && deleted?.op === 'deleteRange' && counted?.op === 'range' && old?.op === 'range');
        assert.deepEqual(readBack.kvs.map(kvText), [
          { key: '/a/1', value: 'old', createRevision: 1, modRevision: 1, version: 1 },
          { key: '/a/2', value: 'new', createRevision: 3, modRevision: 3, version: 1 },
        ]);
        assert.equal(deleted.deleted, 1);
        assert.equal(fromUtf8(deleted.prevKvs[0]!.value), 'b');
        assert.equal(counted.count, 2);
        assert.deepEqual(old.kvs.map((kv) => fromUtf8(kv.key)), ['/a/1', '/b'], 'a read at an older revision inside the transaction');
        for (const response of result.responses) assert.equal(response.header.revision, 3);
        // Every change of the transaction has the same modRevision.
        const events = await h.store.range({ prefix: utf8('/a/2') });
        assert.equal(events.kvs[0]!.modRevision, 3);
      });
    });

    test('a branch that writes a key twice is refused as a whole (as etcd)', async () => {
      await withStore(kind, async (h) => {
        await h.put('/x/1', 'a');
        const twice = await h.run(txn([], [put('/k', '1'), put('/k', '2')]));
        assert.equal(twice.op, 'error');
        assert.ok(twice.op === 'error' && twice.error.code === 'duplicate-key');
        const putInDelete = await h.run(txn([], [delPrefix('/x/'), put('/x/2', 'b')]));
        assert.ok(putInDelete.op === 'error' && putInDelete.error.code === 'duplicate-key');
        const inFailure = await h.run(txn([], [], [put('/x/1', 'c'), del('/x/1')]));
        assert.ok(inFailure.op === 'error' && inFailure.error.code === 'duplicate-key', 'both branches are checked');
        assert.equal(h.store.revision(), 1);
        assert.equal(h.store.appliedIndex(), 4);
        assert.deepEqual(await h.keys('/'), ['/x/1']);
        const overlappingDeletes = asTxn(await h.run(txn([], [delPrefix('/x/'), del('/x/1')])));
        assert.equal(overlappingDeletes.succeeded, true, 'two deletes of the same key are fine');
      });
    });

    test('too many operations, and reads at compacted or future revisions, refuse the transaction', async () => {
      await withStore(kind, async (h) => {
        await h.put('/a', '1');
        await h.put('/a', '2');
        await h.run(compact(2));
        const many = await h.run(txn([], Array.from({ length: MAX_TXN_OPS + 1 }, (_, i) => put(`/k${i}`, 'v'))));
        assert.ok(many.op === 'error' && many.error.code === 'too-many-ops');
        const compacted = await h.run(txn([], [put('/b', 'b'), { op: 'range', key: utf8('/a'), revision: 1 }]));
        assert.ok(compacted.op === 'error' && compacted.error.code === 'compacted');
        const future = await h.run(txn([], [put('/b', 'b'), { op: 'range', key: utf8('/a'), revision: 3 }]));
        assert.ok(future.op === 'error' && future.error.code === 'future-revision');
        assert.equal(await h.value('/b'), undefined, 'nothing of a refused transaction is applied');
        assert.equal(h.store.revision(), 2);
        const other = asTxn(await h.run(txn([version('/a', '=', 99)], [{ op: 'range', key: utf8('/a'), revision: 1 }], [put('/b', 'b')])));
        assert.equal(other.succeeded, false, 'only the branch that runs is checked for revisions');
      });
    });
  });
}
