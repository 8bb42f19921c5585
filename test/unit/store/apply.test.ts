import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encode } from 'cbor-x';
import { ApplyOrderError, decodeCommand, encodeCommand, InvalidCommandError, MemoryBackend, MvccStore, utf8 } from '../../../src/store/index.ts';
import type { Command } from '../../../src/store/index.ts';
import { backendKinds, compact, del, delPrefix, put, txn, withStore } from './helpers.ts';

/** A seeded workload of valid and invalid entries (xorshift: the same on every run). */
function workload(seed: number, count: number): (Uint8Array | null)[] {
  let state = seed;
  const next = (n: number): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
  const entries: (Uint8Array | null)[] = [];
  let revisionGuess = 0;
  for (let i = 0; i < count; i++) {
    const key = `/registry/things/ns${next(3)}/obj${next(12)}`;
    const roll = next(100);
    let command: Command | undefined;
    if (roll < 45) command = put(key, `value-${i}`);
    else if (roll < 55) command = del(key);
    else if (roll < 60) command = delPrefix(`/registry/things/ns${next(3)}/obj1`);
    else if (roll < 80) command = txn([{ key: utf8(key), target: 'version', result: '>', value: next(4) }], [put(key, `txn-${i}`)], [{ op: 'range', prefix: utf8('/registry/') }]);
    else if (roll < 85) command = compact(Math.max(1, revisionGuess - next(20)));
    else if (roll < 90) entries.push(null);
    else if (roll < 95) entries.push(new Uint8Array([0xff, next(256), 0x00]));
    else entries.push(encode({ op: 'put', key: 'not bytes', value: 7 }));
    if (command !== undefined) {
      entries.push(encodeCommand(command));
      revisionGuess += 1;
    }
  }
  return entries;
}

describe('MVCC store: apply', () => {
  for (const kind of backendKinds) {
    test(`bad command bytes yield an error result and change nothing but the applied index (${kind.name})`, async () => {
      await withStore(kind, async (h) => {
        await h.put('/a', '1');
        const bad: Uint8Array[] = [
          new Uint8Array(0),
          new Uint8Array([0xff, 0xff]),
          utf8('{"op":"put"}'),
          encode('just a string'),
          encode([1, 2, 3]),
          encode({ op: 'explode' }),
          encode({ op: 'put', key: utf8('/a') }),
          encode({ op: 'put', key: new Uint8Array(0), value: utf8('x') }),
          encode({ op: 'put', key: utf8('/a'), value: utf8('x'), surprise: true }),
          encode({ op: 'deleteRange', prefix: utf8('/'), key: utf8('/a') }),
          encode({ op: 'txn', compare: [{ key: utf8('/a'), target: 'lease', result: '=', value: 1 }], success: [], failure: [] }),
          encode({ op: 'txn', compare: [], success: [{ op: 'txn' }], failure: [] }),
          encode({ op: 'compact', revision: -1 }),
          encode({ op: 'compact', revision: 1.5 }),
          encode({ op: 'range', key: utf8('/a') }),
        ];
        for (const bytes of bad) {
          const index = h.store.appliedIndex() + 1;
          const result = await h.store.apply(index, bytes);
          assert.equal(result.op, 'error', `bytes ${Buffer.from(bytes).toString('hex')}`);
          assert.ok(result.op === 'error' && result.error.code === 'invalid-command');
          assert.equal(result.index, index);
          assert.equal(result.header.revision, 1);
          assert.equal(h.store.appliedIndex(), index);
        }
        assert.equal(await h.value('/a'), '1');
        // An invalid command is exactly an entry without a command: compare the whole state.
        const reference = await MvccStore.open(new MemoryBackend());
        await reference.apply(1, encodeCommand(put('/a', '1')));
        for (let index = 2; index <= h.store.appliedIndex(); index++) await reference.apply(index, null);
        assert.deepEqual(await h.store.snapshot(), await reference.snapshot());
        await reference.close();
      });
    });

    test(`entries without a command advance the applied index only; requestIds are echoed (${kind.name})`, async () => {
      await withStore(kind, async (h) => {
        const results = await h.store.applyBatch([
          { index: 1, command: null },
          { index: 2, command: encodeCommand({ ...put('/a', '1'), requestId: 'req-1' }) },
          { index: 3, command: encode({ op: 'put', key: 'oops', requestId: 'req-2' }) },
          { index: 4, command: encodeCommand({ ...compact(1), requestId: 'req-3' }) },
        ]);
        assert.deepEqual(
          results.map((r) => [r.index, r.op, r.requestId, r.header.revision]),
          [
            [1, 'noop', undefined, 0],
            [2, 'put', 'req-1', 1],
            [3, 'error', 'req-2', 1],
            [4, 'compact', 'req-3', 1],
          ],
        );
        assert.equal(h.store.appliedIndex(), 4);
      });
    });

    test(`entries out of order are a driver bug: refused, nothing applied (${kind.name})`, async () => {
      await withStore(kind, async (h) => {
        await h.put('/a', '1');
        await assert.rejects(h.store.apply(3, encodeCommand(put('/b', '2'))), ApplyOrderError);
        await assert.rejects(h.store.apply(1, encodeCommand(put('/b', '2'))), ApplyOrderError, 'an entry applied already');
        await assert.rejects(
          h.store.applyBatch([
            { index: 2, command: encodeCommand(put('/b', '2')) },
            { index: 4, command: encodeCommand(put('/c', '3')) },
          ]),
          ApplyOrderError,
        );
        assert.equal(h.store.appliedIndex(), 1);
        assert.equal(await h.value('/b'), undefined);
      });
    });
  }

  test('the same entries give the same state on both backends, byte for byte, whatever the batching', async () => {
    const entries = workload(0x5eed, 600);
    const images: Uint8Array[] = [];
    const results: string[] = [];
    for (const [kindIndex, kind] of backendKinds.entries()) {
      for (const batchSize of [1, 7, 600]) {
        await withStore(kind, async ({ store }) => {
          const all = [];
          for (let i = 0; i < entries.length; i += batchSize) {
            all.push(...(await store.applyBatch(entries.slice(i, i + batchSize).map((command, j) => ({ index: i + j + 1, command })))));
          }
          images.push(await store.snapshot());
          results.push(JSON.stringify(all.map((r) => (r.op === 'error' ? [r.op, r.error.code, r.header.revision] : [r.op, r.header.revision]))));
          if (kindIndex === 0 && batchSize === 1) assert.ok(all.some((r) => r.op === 'error') && all.some((r) => r.op === 'compact') && all.some((r) => r.op === 'txn'));
        });
      }
    }
    for (const image of images.slice(1)) assert.deepEqual(image, images[0]);
    for (const result of results.slice(1)) assert.equal(result, results[0]);
  });

  test('encodeCommand refuses a malformed command at the proposer; decodeCommand round-trips', () => {
    assert.throws(() => encodeCommand({ op: 'put', key: new Uint8Array(), value: utf8('x') }), InvalidCommandError);
    assert.throws(() => encodeCommand({ op: 'compact', revision: -2 }), InvalidCommandError);
    const command: Command = {
      op: 'txn',
      requestId: 'r',
      compare: [{ key: utf8('/a'), target: 'value', result: '=', value: utf8('x') }],
      success: [put('/a', 'y', { prevKv: true }), { op: 'range', prefix: utf8('/'), limit: 3, keysOnly: true }],
      failure: [delPrefix('/a')],
    };
    assert.deepEqual(decodeCommand(encodeCommand(command)), command);
  });
});
