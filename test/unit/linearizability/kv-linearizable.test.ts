import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KvOperation } from '../../lib/linearizability/index.ts';
import { checkOperations, kvModel, renderIllegal } from '../../lib/linearizability/index.ts';
import { cas, del, get, OPEN, put } from './helpers.ts';

function assertLinearizable(history: KvOperation[]): void {
  const outcome = checkOperations(kvModel, history, { maxSteps: 5_000_000 });
  if (outcome.result === 'illegal') assert.fail(renderIllegal(kvModel, outcome.illegal));
  assert.equal(outcome.result, 'ok');
}

describe('kvModel: linearizable histories are accepted', () => {
  it('empty history', () => {
    assertLinearizable([]);
  });

  it('sequential puts, gets and deletes', () => {
    assertLinearizable([
      get(1, 0, 1, 'x', null),
      put(1, 2, 3, 'x', 'a'),
      get(2, 4, 5, 'x', 'a'),
      put(2, 6, 7, 'x', 'b'),
      get(1, 8, 9, 'x', 'b'),
      del(1, 10, 11, 'x'),
      get(2, 12, 13, 'x', null),
    ]);
  });

  it('a read overlapping a write may see the old value', () => {
    assertLinearizable([put(1, 0, 1, 'x', 'a'), put(1, 2, 10, 'x', 'b'), get(2, 3, 4, 'x', 'a')]);
  });

  it('a read overlapping a write may see the new value', () => {
    assertLinearizable([put(1, 0, 1, 'x', 'a'), put(1, 2, 10, 'x', 'b'), get(2, 3, 4, 'x', 'b')]);
  });

  it('two overlapping reads may see new then old when both overlap the write', () => {
    // Both reads overlap each other and the write, so old-after-new is still orderable.
    assertLinearizable([put(1, 0, 1, 'x', 'a'), put(1, 2, 20, 'x', 'b'), get(2, 3, 10, 'x', 'b'), get(3, 4, 12, 'x', 'a')]);
  });

  it('intervals are closed: a return and an invocation at the same instant are concurrent', () => {
    assertLinearizable([put(1, 0, 5, 'x', 'a'), get(2, 5, 6, 'x', null)]);
  });

  it('an open write that took effect, observed later', () => {
    assertLinearizable([put(1, 0, 1, 'x', 'a'), put(2, 2, OPEN, 'x', 'b'), get(3, 50, 51, 'x', 'b'), get(3, 52, 53, 'x', 'b')]);
  });

  it('an open write that never took effect', () => {
    assertLinearizable([put(1, 0, 1, 'x', 'a'), put(2, 2, OPEN, 'x', 'b'), get(3, 50, 51, 'x', 'a'), get(3, 52, 53, 'x', 'a')]);
  });

  it('an open write that took effect only after later writes returned', () => {
    assertLinearizable([
      put(1, 0, OPEN, 'x', 'a'),
      put(2, 5, 6, 'x', 'b'),
      get(3, 7, 8, 'x', 'b'),
      get(3, 9, 10, 'x', 'a'),
    ]);
  });

  it('open writes on several keys, some applied and some not', () => {
    assertLinearizable([
      put(1, 0, OPEN, 'x', 'x1'),
      put(2, 0, OPEN, 'y', 'y1'),
      put(3, 0, OPEN, 'z', 'z1'),
      get(4, 10, 11, 'x', 'x1'),
      get(4, 12, 13, 'y', null),
      get(4, 14, 15, 'z', 'z1'),
    ]);
  });

  it('a read without a result constrains nothing', () => {
    assertLinearizable([put(1, 0, 1, 'x', 'a'), get(2, 2, OPEN, 'x', null), put(1, 3, 4, 'x', 'b')]);
    // Also without the partition step that drops such reads.
    const unpartitioned = { ...kvModel, partition: undefined };
    const outcome = checkOperations(unpartitioned, [put(1, 0, 1, 'x', 'a'), get(2, 2, OPEN, 'x', null)]);
    assert.equal(outcome.result, 'ok');
    // A read that returned but whose result was lost must still be linearized somewhere.
    const resultLost = { ...get(2, 2, 3, 'x', null), output: undefined };
    assert.equal(checkOperations(unpartitioned, [put(1, 0, 1, 'x', 'a'), resultLost]).result, 'ok');
  });

  it('cas successes and failures that agree with the writes', () => {
    assertLinearizable([
      cas(1, 0, 1, 'x', null, 'a', true),
      cas(2, 2, 3, 'x', null, 'z', false),
      cas(1, 4, 5, 'x', 'a', 'b', true),
      cas(2, 6, 7, 'x', 'a', 'c', false),
      get(3, 8, 9, 'x', 'b'),
      del(3, 10, 11, 'x'),
      cas(1, 12, 13, 'x', null, 'd', true),
      get(2, 14, 15, 'x', 'd'),
    ]);
  });

  it('two racing cas on the same expected value: exactly one wins', () => {
    assertLinearizable([
      put(1, 0, 1, 'x', 'a'),
      cas(2, 2, 10, 'x', 'a', 'b', false),
      cas(3, 3, 9, 'x', 'a', 'c', true),
      get(1, 11, 12, 'x', 'c'),
    ]);
  });

  it('an open cas that applied, and one that did not', () => {
    assertLinearizable([
      put(1, 0, 1, 'x', 'a'),
      cas(2, 2, OPEN, 'x', 'a', 'b', true),
      cas(3, 2, OPEN, 'x', 'a', 'c', true),
      get(1, 20, 21, 'x', 'c'),
      get(1, 22, 23, 'x', 'c'),
    ]);
  });
});
