import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IllegalPartition, KvInput, KvOperation, KvOutput, KvState } from '../../lib/linearizability/index.ts';
import { checkOperations, kvModel } from '../../lib/linearizability/index.ts';
import { cas, del, get, OPEN, put } from './helpers.ts';

function assertIllegal(history: KvOperation[]): IllegalPartition<KvState, KvInput, KvOutput> {
  const outcome = checkOperations(kvModel, history, { maxSteps: 5_000_000 });
  assert.equal(outcome.result, 'illegal', `expected a violation, got ${outcome.result}`);
  if (outcome.result !== 'illegal') throw new Error('unreachable');
  return outcome.illegal;
}

describe('kvModel: non-linearizable histories are rejected', () => {
  it('a stale read after a completed write', () => {
    const stale = get(2, 4, 5, 'x', 'a');
    const history = [put(1, 0, 1, 'x', 'a'), put(1, 2, 3, 'x', 'b'), stale];
    const illegal = assertIllegal(history);
    assert.equal(illegal.key, 'x');
    assert.equal(illegal.unplaced, stale);
    assert.deepEqual(illegal.longestPrefix, [history[0], history[1]]);
    assert.deepEqual([...illegal.stateAfterPrefix], [['x', 'b']]);
    assert.match(illegal.explanation, /get\(x\) -> "a"/);
  });

  it('a read of a value never written', () => {
    const bogus = get(2, 2, 3, 'x', 'never');
    const illegal = assertIllegal([put(1, 0, 1, 'x', 'a'), bogus, put(1, 4, 5, 'x', 'b')]);
    assert.equal(illegal.unplaced, bogus);
  });

  it('a read of null after a completed write with no delete', () => {
    assertIllegal([put(1, 0, 1, 'x', 'a'), get(2, 2, 3, 'x', null)]);
  });

  it('new-old inversion: a later read sees an older value than an earlier read', () => {
    // The write overlaps both reads, but the reads do not overlap each other.
    const older = get(3, 20, 22, 'x', 'a');
    const history = [put(1, 0, 1, 'x', 'a'), put(1, 10, 50, 'x', 'b'), get(2, 12, 14, 'x', 'b'), older];
    const illegal = assertIllegal(history);
    assert.equal(illegal.unplaced, older);
    assert.equal(illegal.longestPrefix.length, 3);
  });

  it('a cas that succeeded against a value that could not be current', () => {
    const impossible = cas(2, 4, 5, 'x', 'a', 'c', true);
    const illegal = assertIllegal([put(1, 0, 1, 'x', 'a'), put(1, 2, 3, 'x', 'b'), impossible]);
    assert.equal(illegal.unplaced, impossible);
  });

  it('a cas that failed although the value matched and nothing raced it', () => {
    assertIllegal([put(1, 0, 1, 'x', 'a'), cas(2, 2, 3, 'x', 'a', 'b', false)]);
  });

  it('both racing cas on the same expected value report success', () => {
    assertIllegal([put(1, 0, 1, 'x', 'a'), cas(2, 2, 10, 'x', 'a', 'b', true), cas(3, 3, 9, 'x', 'a', 'c', true)]);
  });

  it('a read that sees a write invoked after the read returned', () => {
    const early = get(1, 0, 1, 'x', 'a');
    const illegal = assertIllegal([early, put(2, 2, 3, 'x', 'a')]);
    assert.equal(illegal.unplaced, early);
    assert.deepEqual(illegal.longestPrefix, []);
  });

  it('a read that sees an open write invoked after the read returned', () => {
    assertIllegal([get(1, 0, 1, 'x', 'a'), put(2, 2, OPEN, 'x', 'a')]);
  });

  it('an open write observed and then un-observed', () => {
    // An operation that never returned may be skipped, but not half-applied.
    assertIllegal([
      put(1, 0, 1, 'x', 'a'),
      put(2, 2, OPEN, 'x', 'b'),
      get(3, 10, 11, 'x', 'b'),
      get(3, 12, 13, 'x', 'a'),
    ]);
  });

  it('a read sees a deleted value', () => {
    assertIllegal([put(1, 0, 1, 'x', 'a'), del(1, 2, 3, 'x'), get(2, 4, 5, 'x', 'a')]);
  });
});
