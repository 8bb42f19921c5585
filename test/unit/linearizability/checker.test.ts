// The checker with a model other than the KV store: no partitioning, non-idempotent steps.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Model, Operation } from '../../lib/linearizability/index.ts';
import { checkOperations } from '../../lib/linearizability/index.ts';
import { OPEN } from './helpers.ts';

type CounterInput = 'increment' | 'read';
/** `increment` returns the value after incrementing, `read` the current value. */
const counterModel: Model<number, CounterInput, number> = {
  init: () => 0,
  step: (state, input, output) => {
    const next = input === 'increment' ? state + 1 : state;
    return output === undefined || output === next ? { ok: true, next } : { ok: false };
  },
  hash: (state) => String(state),
};

function op(clientId: number, invokeTime: number, returnTime: number, input: CounterInput, output?: number) {
  const operation: Operation<CounterInput, number> = { clientId, invokeTime, returnTime, input, output };
  return operation;
}

describe('checkOperations with a custom model', () => {
  it('an unpartitioned history is one partition with an empty key', () => {
    const outcome = checkOperations(counterModel, [op(1, 0, 1, 'increment', 2)]);
    assert.equal(outcome.partitionsTotal, 1);
    assert.equal(outcome.result, 'illegal');
    if (outcome.result === 'illegal') {
      assert.equal(outcome.illegal.key, '');
      assert.match(outcome.illegal.explanation, /^history: "increment" -> 2 \[0, 1\]/);
    }
  });

  it('open increments count zero or one time each, never half', () => {
    const opens = [op(1, 0, OPEN, 'increment'), op(2, 0, OPEN, 'increment')];
    for (const [seen, expected] of [
      [0, 'ok'],
      [1, 'ok'],
      [2, 'ok'],
      [3, 'illegal'],
    ] as const) {
      assert.equal(checkOperations(counterModel, [...opens, op(3, 5, 6, 'read', seen)]).result, expected, `read ${seen}`);
    }
    // Once both were seen, neither can be un-applied.
    assert.equal(
      checkOperations(counterModel, [...opens, op(3, 5, 6, 'read', 2), op(3, 7, 8, 'read', 1)]).result,
      'illegal',
    );
  });

  it('a history of only open operations is trivially linearizable', () => {
    const outcome = checkOperations(counterModel, [op(1, 0, OPEN, 'increment'), op(2, 3, OPEN, 'read')]);
    assert.equal(outcome.result, 'ok');
    assert.equal(outcome.stats.steps, 0);
  });

  it('long sequential histories need no recursion', () => {
    const history = Array.from({ length: 20_000 }, (_, i) => op(1, 2 * i, 2 * i + 1, 'increment', i + 1));
    const accepted = checkOperations(counterModel, history, { maxSteps: 5_000_000 });
    assert.equal(accepted.result, 'ok');
    // Linear work: one model step per operation, no backtracking.
    assert.equal(accepted.stats.steps, 20_000);
    history.push(op(2, 40_000, 40_001, 'read', 3));
    const outcome = checkOperations(counterModel, history, { maxSteps: 5_000_000 });
    assert.equal(outcome.result, 'illegal');
    if (outcome.result === 'illegal') assert.equal(outcome.illegal.longestPrefix.length, 20_000);
  });

  it('rejects malformed times', () => {
    assert.throws(() => checkOperations(counterModel, [op(1, 5, 4, 'read', 0)]), RangeError);
    assert.throws(() => checkOperations(counterModel, [op(1, Number.NaN, 4, 'read', 0)]), RangeError);
    assert.throws(() => checkOperations(counterModel, [op(1, 0, Number.NaN, 'read', 0)]), RangeError);
    assert.throws(() => checkOperations(counterModel, [op(1, OPEN, OPEN, 'read', 0)]), RangeError);
  });
});
