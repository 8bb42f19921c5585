import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KvOperation } from '../../lib/linearizability/index.ts';
import { checkOperations, kvModel, renderIllegal } from '../../lib/linearizability/index.ts';
import { get, OPEN, put, randomInt, seededRandom } from './helpers.ts';

const KEY_COUNT = 20;
const OPS_PER_KEY = 30;
const CLIENT_COUNT = 20;

/**
 * 20 clients hammering 20 keys at once against an atomic store: every operation takes
 * effect at a random instant inside its interval, a few never return (half of those still
 * apply). Linearizable by construction.
 */
function busyHistory(seed: number, keyCount = KEY_COUNT, opsPerKey = OPS_PER_KEY, clientCount = CLIENT_COUNT): KvOperation[] {
  const random = seededRandom(seed);
  const specs = Array.from({ length: keyCount * opsPerKey }, (_, i) => ({ key: `k${i % keyCount}`, write: random() < 0.5 }));
  for (let i = specs.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    [specs[i], specs[j]] = [specs[j]!, specs[i]!];
  }
  interface Planned {
    op: Omit<KvOperation, 'output'>;
    effectTime: number;
    applies: boolean;
    index: number;
  }
  const planned: Planned[] = [];
  const clock = new Array<number>(clientCount).fill(0);
  specs.forEach((spec, index) => {
    const clientId = index % clientCount;
    const invokeTime = clock[clientId]! + randomInt(random, 3);
    const durationTicks = 1 + randomInt(random, 20);
    const effectTime = invokeTime + random() * durationTicks;
    clock[clientId] = invokeTime + durationTicks;
    const open = random() < 0.03;
    const input = spec.write ? { kind: 'put' as const, key: spec.key, value: `w${index}` } : { kind: 'get' as const, key: spec.key };
    planned.push({
      op: { clientId, input, invokeTime, returnTime: open ? OPEN : invokeTime + durationTicks },
      effectTime,
      applies: !open || random() < 0.5,
      index,
    });
  });
  const store = new Map<string, string>();
  const history = new Array<KvOperation>(planned.length);
  for (const plan of [...planned].sort((a, b) => a.effectTime - b.effectTime)) {
    const { input } = plan.op;
    const open = plan.op.returnTime === OPEN;
    if (input.kind === 'put') {
      if (plan.applies) store.set(input.key, input.value);
      history[plan.index] = { ...plan.op, output: open ? undefined : null };
    } else {
      history[plan.index] = { ...plan.op, output: open ? undefined : (store.get(input.key) ?? null) };
    }
  }
  return history;
}

function endTime(history: readonly KvOperation[]): number {
  return Math.max(...history.map((op) => (op.returnTime === OPEN ? op.invokeTime : op.returnTime)));
}

describe('per-key partitioning', () => {
  it('20 keys × 30 concurrent operations check quickly', () => {
    for (const seed of [1, 2, 3]) {
      const history = busyHistory(seed);
      const outcome = checkOperations(kvModel, history, { maxSteps: 1_000_000 });
      if (outcome.result === 'illegal') assert.fail(renderIllegal(kvModel, outcome.illegal));
      assert.equal(outcome.result, 'ok');
      assert.equal(outcome.partitionsTotal, KEY_COUNT);
      assert.equal(outcome.partitionsChecked, KEY_COUNT);
      assert.ok(outcome.stats.steps < 50_000, `took ${outcome.stats.steps} steps`);
    }
  });

  it('one key under 10 clients for 2000 operations is still decided', () => {
    // Ten-way concurrency on one key is where the search really works (hundreds of steps
    // per operation); this guards against it turning super-linear.
    const outcome = checkOperations(kvModel, busyHistory(5, 1, 2000, 10), { maxSteps: 5_000_000 });
    assert.equal(outcome.result, 'ok');
    assert.ok(outcome.stats.steps < 3_000_000, `took ${outcome.stats.steps} steps`);
  });

  it('a violation on one key is reported with that key', () => {
    const history = busyHistory(4);
    const firstWrite = history.find((op) => op.input.kind === 'put' && op.input.key === 'k13' && op.returnTime !== OPEN);
    assert.ok(firstWrite && firstWrite.input.kind === 'put');
    // Overwrite the key after everything else, then read the first value back: stale.
    const end = endTime(history);
    const stale = get(99, end + 3, end + 4, 'k13', firstWrite.input.value);
    const outcome = checkOperations(kvModel, [...history, put(98, end + 1, end + 2, 'k13', 'last'), stale]);
    assert.equal(outcome.result, 'illegal');
    if (outcome.result !== 'illegal') return;
    assert.equal(outcome.illegal.key, 'k13');
    assert.equal(outcome.illegal.unplaced, stale);
    assert.ok(outcome.illegal.operations.every((op) => op.input.key === 'k13'));
    assert.match(outcome.illegal.explanation, /^key "k13": /);
  });

  it('open reads are dropped by the partition step', () => {
    const parts = kvModel.partition!([put(1, 0, 1, 'x', 'a'), get(2, 0, OPEN, 'x', null), get(3, 0, OPEN, 'y', null)]);
    assert.deepEqual(
      parts.map((p) => [p.key, p.operations.length]),
      [['x', 1]],
    );
  });

  it('small partitions are checked first, so a hard one cannot hide an easy violation', () => {
    // Without the memo, 13 concurrent writes followed by a read of the first is hopeless.
    const hard = Array.from({ length: 13 }, (_, i) => put(i, 0, 10, 'hard', `h${i}`));
    hard.push(get(20, 11, 12, 'hard', 'h0'));
    const easy = [put(1, 0, 1, 'z', 'a'), get(2, 2, 3, 'z', 'b')];
    const outcome = checkOperations(kvModel, [...hard, ...easy], { memoize: false, maxSteps: 2_000_000 });
    assert.equal(outcome.result, 'illegal');
    if (outcome.result === 'illegal') assert.equal(outcome.illegal.key, 'z');
  });
});
