import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  applyChangeToConfState,
  confChangeProblem,
  decodeConfChange,
  encodeConfChange,
} from '../../../src/raft/conf-change.ts';
import type { ConfChange } from '../../../src/raft/types.ts';

describe('conf change', () => {
  test('encoding round-trips, with and without context', () => {
    const changes: ConfChange[] = [
      { type: 'addVoter', nodeId: 'pi-4' },
      { type: 'addLearner', nodeId: 'ünïcode', context: new Uint8Array([1, 2, 3]) },
      { type: 'removeNode', nodeId: 'x' },
    ];
    for (const change of changes) assert.deepEqual(decodeConfChange(encodeConfChange(change)), change);
  });

  test('decoding rejects garbage', () => {
    assert.throws(() => decodeConfChange(new Uint8Array([1, 2])));
    const bytes = encodeConfChange({ type: 'addVoter', nodeId: 'a' });
    bytes[1] = 99;
    assert.throws(() => decodeConfChange(bytes));
    assert.throws(() => decodeConfChange(encodeConfChange({ type: 'addVoter', nodeId: 'a' }).subarray(0, 8)));
  });

  test('each change sets the membership of one node outright', () => {
    const start = { voters: ['a', 'b'], learners: ['c'] };
    assert.deepEqual(applyChangeToConfState(start, { type: 'addVoter', nodeId: 'c' }), { voters: ['a', 'b', 'c'], learners: [] });
    assert.deepEqual(applyChangeToConfState(start, { type: 'addLearner', nodeId: 'b' }), { voters: ['a'], learners: ['b', 'c'] });
    assert.deepEqual(applyChangeToConfState(start, { type: 'removeNode', nodeId: 'c' }), { voters: ['a', 'b'], learners: [] });
    assert.deepEqual(applyChangeToConfState(start, { type: 'addVoter', nodeId: 'a' }), start);
    assert.deepEqual(start, { voters: ['a', 'b'], learners: ['c'] }, 'input untouched');
  });

  test('a change that would leave no voter is a problem', () => {
    assert.notEqual(confChangeProblem({ voters: ['a'], learners: [] }, { type: 'removeNode', nodeId: 'a' }), null);
    assert.notEqual(confChangeProblem({ voters: ['a'], learners: [] }, { type: 'addLearner', nodeId: 'a' }), null);
    assert.equal(confChangeProblem({ voters: ['a', 'b'], learners: [] }, { type: 'removeNode', nodeId: 'a' }), null);
  });
});
