import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KvOperation } from '../../lib/linearizability/index.ts';
import { checkOperations, kvModel } from '../../lib/linearizability/index.ts';
import { get, put } from './helpers.ts';

// The search tries the earliest-invoked candidate first, so a read of the first write forces
// it to exhaust every order that puts another write last: (n-1)! without the memo, but only
// 2^(n-1)·(n-1) distinct (set, value) pairs with it.
function concurrentWritesThenReads(writeCount: number): KvOperation[] {
  const history = Array.from({ length: writeCount }, (_, i) => put(i, 0, 100, 'x', `w${i}`));
  history.push(get(50, 101, 102, 'x', 'w0'), get(51, 103, 104, 'x', 'w0'));
  return history;
}

// Two racing writes per round, rounds in sequence, and a final read of a value nobody wrote:
// 2^rounds orders without the memo, a handful of configurations per round with it.
function racingRoundsThenBogusRead(rounds: number): KvOperation[] {
  const history: KvOperation[] = [];
  for (let round = 0; round < rounds; round++) {
    const start = round * 10;
    history.push(put(1, start, start + 5, 'x', `a${round}`), put(2, start + 1, start + 6, 'x', `b${round}`));
  }
  history.push(get(3, rounds * 10, rounds * 10 + 1, 'x', 'never-written'));
  return history;
}

describe('memoization', () => {
  it('13 concurrent writes followed by reads of the first one finish with the memo', () => {
    const history = concurrentWritesThenReads(13);
    const outcome = checkOperations(kvModel, history, { maxSteps: 5_000_000 });
    assert.equal(outcome.result, 'ok');
    assert.ok(outcome.stats.memoHits > 0, 'the memo was never consulted successfully');
    assert.ok(outcome.stats.memoEntries <= 2 ** 12 * 13 + 13, `memo holds ${outcome.stats.memoEntries} entries`);
  });

  it('the same history is out of reach without the memo', () => {
    const outcome = checkOperations(kvModel, concurrentWritesThenReads(13), { maxSteps: 2_000_000, memoize: false });
    assert.equal(outcome.result, 'unknown');
    if (outcome.result === 'unknown') assert.deepEqual(outcome.undecidedKeys, ['x']);
    assert.ok(outcome.stats.steps <= 2_000_001, `the budget was overrun: ${outcome.stats.steps} steps`);
  });

  it('40 rounds of racing writes are refuted in linear work with the memo', () => {
    const outcome = checkOperations(kvModel, racingRoundsThenBogusRead(40), { maxSteps: 5_000_000 });
    assert.equal(outcome.result, 'illegal');
    assert.ok(outcome.stats.steps < 1000, `${outcome.stats.steps} steps`);
  });

  it('and time out without it', () => {
    const outcome = checkOperations(kvModel, racingRoundsThenBogusRead(40), { maxSteps: 2_000_000, memoize: false });
    assert.equal(outcome.result, 'unknown');
    assert.equal(outcome.partitionsChecked, 0);
  });
});
