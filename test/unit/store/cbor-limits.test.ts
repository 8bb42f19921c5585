// The shape bound on CBOR bodies of the store's client API: each hostile body, byte for byte, and
// the exact refusal; real requests of the client (the largest txn it may send) pass.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CBOR_LIMITS, checkCborShape } from '../../../src/store/cbor-limits.ts';
import { MAX_TXN_OPS } from '../../../src/store/index.ts';
import { wire } from '../../../src/store/wire.ts';

const tooMany = { name: 'CborLimitError', message: 'the request body has more than 10000 CBOR items' };
const tooDeep = { name: 'CborLimitError', message: 'the request body nests deeper than 32 CBOR levels' };
const MAX_BODY = 4 * 1024 * 1024;

describe('CBOR request bodies', () => {
  test('the limits are 32 levels and 10 000 items', () => {
    assert.deepEqual(CBOR_LIMITS, { maxDepth: 32, maxItems: 10_000 });
  });

  test('an array of 4 million one-byte integers (4 MiB) is refused by its declared length, before decoding', () => {
    const body = Buffer.alloc(MAX_BODY);
    body.set([0x9a, 0x00, 0x3f, 0xff, 0xfb], 0);
    body.fill(0x01, 5);
    assert.throws(() => checkCborShape(body), tooMany);
  });

  test('an indefinite array of 4 million integers, and a map of a million keys, are refused at item 10 001', () => {
    const indefinite = Buffer.alloc(MAX_BODY, 0x01);
    indefinite[0] = 0x9f;
    assert.throws(() => checkCborShape(indefinite), tooMany);
    const map = wire.encode(Object.fromEntries(Array.from({ length: 1_000_000 }, (_, i) => [i.toString(36), 1])));
    assert.throws(() => checkCborShape(map), tooMany);
  });

  test('4 MiB of nested one-element arrays, indefinite arrays or tags are refused at level 33', () => {
    for (const byte of [0x81, 0x9f, 0xc6]) assert.throws(() => checkCborShape(Buffer.alloc(MAX_BODY, byte)), tooDeep, `0x${byte.toString(16)}`);
    const nested = (levels: number) => Buffer.concat([Buffer.alloc(levels, 0x81), Buffer.from([0x01])]);
    assert.equal(checkCborShape(nested(32)), undefined);
    assert.throws(() => checkCborShape(nested(33)), tooDeep);
  });

  test('a declared length of 2^64 - 1 is refused without being believed', () => {
    assert.throws(() => checkCborShape(Buffer.from([0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), tooMany);
  });

  test('the largest txn the client sends passes, and so do byte strings of any length', () => {
    const op = (i: number) => ({ put: { key: Buffer.from(`/registry/configmaps/default/cm-${i}`), value: Buffer.alloc(1000, 1) } });
    const compare = (i: number) => ({ key: Buffer.from(`/registry/configmaps/default/cm-${i}`), target: 'mod', result: 'equal', modRevision: 7 });
    const txn = { compare: Array.from({ length: MAX_TXN_OPS }, (_, i) => compare(i)), success: Array.from({ length: MAX_TXN_OPS }, (_, i) => op(i)), failure: Array.from({ length: MAX_TXN_OPS }, (_, i) => op(i)) };
    assert.equal(checkCborShape(wire.encode(txn)), undefined);
    assert.equal(checkCborShape(wire.encode({ key: Buffer.from('k'), value: Buffer.alloc(3 * 1024 * 1024) })), undefined);
  });

  test('malformed bodies are left to the decoder', () => {
    for (const body of [Buffer.alloc(0), Buffer.from([0x1c]), Buffer.from([0x82, 0x01]), Buffer.from([0x81, 0xff]), Buffer.from([0x5a, 0xff])]) {
      assert.equal(checkCborShape(body), undefined);
    }
  });
});
