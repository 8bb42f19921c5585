import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkOperations, kvModel, renderHistory, renderIllegal } from '../../lib/linearizability/index.ts';
import { cas, get, OPEN, put } from './helpers.ts';

describe('rendering', () => {
  it('shows the failing partition sorted by invocation, with prefix positions and the culprit', () => {
    const history = [
      get(3, 20, 22, 'x', 'a'),
      put(1, 10, 50, 'x', 'b'),
      put(1, 0, 1, 'x', 'a'),
      get(2, 12, 14, 'x', 'b'),
      put(4, 30, OPEN, 'y', 'unrelated'),
    ];
    const outcome = checkOperations(kvModel, history);
    assert.equal(outcome.result, 'illegal');
    if (outcome.result !== 'illegal') return;
    assert.equal(
      renderIllegal(kvModel, outcome.illegal),
      [
        'key "x": not linearizable; longest linearizable prefix has 3 of 4 operations (#n = position in it)',
        '[0, 1]    client 1  put(x, "a")    #1',
        '[10, 50]  client 1  put(x, "b")    #2',
        '[12, 14]  client 2  get(x) -> "b"  #3',
        '[20, 22]  client 3  get(x) -> "a"  <-- cannot be placed',
        'state after prefix: {x: "b"}',
      ].join('\n'),
    );
  });

  it('renders open operations and unknown results', () => {
    const text = renderHistory(kvModel, [cas(7, 1.5, OPEN, 'k', null, 'v', true), put(2, 0, 1, 'k', 'w')]);
    assert.equal(text, ['[0, 1]         client 2  put(k, "w")', '[1.500, open]  client 7  cas(k, null => "v") -> ?'].join('\n'));
  });
});
