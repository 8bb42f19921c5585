// Cross-check against an oracle that shares no code with the checker: enumerate every order
// of the operations that respects real time, replay each against a plain Map.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KvOperation } from '../../lib/linearizability/index.ts';
import { checkOperations, kvModel, renderHistory } from '../../lib/linearizability/index.ts';
import { OPEN, pick, randomInt, seededRandom } from './helpers.ts';

/** Replays `order` sequentially; false as soon as an observed result disagrees. */
function replays(order: readonly KvOperation[]): boolean {
  const store = new Map<string, string>();
  for (const op of order) {
    const { input, output } = op;
    const before = store.get(input.key) ?? null;
    if (input.kind === 'get') {
      if (output !== undefined && output !== before) return false;
    } else if (input.kind === 'put') {
      store.set(input.key, input.value);
    } else if (input.kind === 'delete') {
      store.delete(input.key);
    } else {
      const swapped = before === input.expected;
      if (output !== undefined && output !== swapped) return false;
      if (swapped) store.set(input.key, input.value);
    }
  }
  return true;
}

/**
 * Every sequence in which each operation follows all operations that returned before it
 * was invoked; completed operations must all appear, open ones may be left out.
 */
function bruteForceLinearizable(history: readonly KvOperation[]): boolean {
  const used = new Array<boolean>(history.length).fill(false);
  const order: KvOperation[] = [];
  const completedCount = history.filter((op) => op.returnTime !== OPEN).length;
  let completedUsed = 0;

  const extend = (): boolean => {
    if (completedUsed === completedCount && replays(order)) return true;
    for (let i = 0; i < history.length; i++) {
      if (used[i]) continue;
      const candidate = history[i]!;
      const blocked = history.some((other, j) => !used[j] && j !== i && other.returnTime < candidate.invokeTime);
      if (blocked) continue;
      used[i] = true;
      order.push(candidate);
      if (candidate.returnTime !== OPEN) completedUsed++;
      const found = extend();
      if (candidate.returnTime !== OPEN) completedUsed--;
      order.pop();
      used[i] = false;
      if (found) return true;
    }
    return false;
  };
  return extend();
}

/**
 * Small histories over two keys with integer times (so intervals often touch) and results
 * that are sometimes faithful to a real execution and sometimes made up.
 */
function randomHistory(seed: number): KvOperation[] {
  const random = seededRandom(seed);
  const count = 1 + randomInt(random, 7);
  const keys = random() < 0.5 ? ['x'] : ['x', 'y'];
  const written: string[] = [];
  const history: KvOperation[] = [];
  for (let i = 0; i < count; i++) {
    const key = pick(random, keys);
    const invokeTime = randomInt(random, 12);
    const open = random() < 0.15;
    const returnTime = open ? OPEN : invokeTime + randomInt(random, 6);
    const observed = (): string | null => (written.length === 0 || random() < 0.25 ? null : pick(random, written));
    const kind = randomInt(random, 10);
    if (kind < 4) {
      const value = `v${i}`;
      written.push(value);
      history.push({ clientId: i, invokeTime, returnTime, input: { kind: 'put', key, value }, output: open ? undefined : null });
    } else if (kind < 7) {
      history.push({ clientId: i, invokeTime, returnTime, input: { kind: 'get', key }, output: open ? undefined : observed() });
    } else if (kind < 9) {
      const value = `v${i}`;
      written.push(value);
      history.push({
        clientId: i,
        invokeTime,
        returnTime,
        input: { kind: 'cas', key, expected: observed(), value },
        output: open ? undefined : random() < 0.5,
      });
    } else {
      history.push({ clientId: i, invokeTime, returnTime, input: { kind: 'delete', key }, output: open ? undefined : null });
    }
  }
  return history;
}

/** Histories produced by a real atomic store, each operation taking effect inside its interval. */
function executedHistory(seed: number): KvOperation[] {
  const random = seededRandom(seed);
  const count = 2 + randomInt(random, 6);
  const store = new Map<string, string>();
  const plans = Array.from({ length: count }, (_, i) => {
    const invokeTime = randomInt(random, 10);
    const effectTime = invokeTime + random() * 4;
    const neverApplied = random() < 0.1;
    const open = neverApplied || random() < 0.1;
    const returnTime = open ? OPEN : Math.ceil(effectTime + random() * 3);
    return { i, invokeTime, effectTime, returnTime, neverApplied, key: random() < 0.7 ? 'x' : 'y', kind: randomInt(random, 4) };
  });
  const byEffect = [...plans].sort((a, b) => a.effectTime - b.effectTime);
  const history = new Array<KvOperation>(count);
  for (const plan of byEffect) {
    const { i, invokeTime, returnTime, key } = plan;
    const open = returnTime === OPEN;
    const current = store.get(key) ?? null;
    const apply = !plan.neverApplied;
    if (plan.kind === 0) {
      if (apply) store.set(key, `v${i}`);
      history[i] = { clientId: i, invokeTime, returnTime, input: { kind: 'put', key, value: `v${i}` }, output: open ? undefined : null };
    } else if (plan.kind === 1) {
      history[i] = { clientId: i, invokeTime, returnTime, input: { kind: 'get', key }, output: open ? undefined : current };
    } else if (plan.kind === 2) {
      const expected = random() < 0.5 ? current : null;
      const swapped = current === expected;
      if (apply && swapped) store.set(key, `v${i}`);
      history[i] = {
        clientId: i,
        invokeTime,
        returnTime,
        input: { kind: 'cas', key, expected, value: `v${i}` },
        output: open ? undefined : swapped,
      };
    } else {
      if (apply) store.delete(key);
      history[i] = { clientId: i, invokeTime, returnTime, input: { kind: 'delete', key }, output: open ? undefined : null };
    }
  }
  return history;
}

const unpartitioned = { ...kvModel, partition: undefined };

function crossCheck(history: KvOperation[], seed: number): boolean {
  const expected = bruteForceLinearizable(history);
  const context = () => `seed ${seed}, brute force says ${expected}:\n${renderHistory(kvModel, history)}`;
  for (const [label, model, memoize] of [
    ['partitioned', kvModel, true],
    ['unpartitioned', unpartitioned, true],
    ['partitioned without memo', kvModel, false],
  ] as const) {
    const outcome = checkOperations(model, history, { maxSteps: 5_000_000, memoize });
    assert.notEqual(outcome.result, 'unknown', `${label}: timed out; ${context()}`);
    assert.equal(outcome.result === 'ok', expected, `${label}: checker says ${outcome.result}; ${context()}`);
  }
  return expected;
}

describe('checker agrees with a brute-force oracle', () => {
  it('on 600 random small histories with made-up results', () => {
    let linearizable = 0;
    for (let seed = 1; seed <= 600; seed++) {
      if (crossCheck(randomHistory(seed), seed)) linearizable++;
    }
    // Both outcomes must be well represented, or the comparison proves little.
    assert.ok(linearizable >= 100, `only ${linearizable} linearizable histories`);
    assert.ok(600 - linearizable >= 100, `only ${600 - linearizable} non-linearizable histories`);
  });

  it('on 300 histories from a real atomic store, all linearizable', () => {
    for (let seed = 1; seed <= 300; seed++) {
      assert.equal(crossCheck(executedHistory(seed), seed), true, `oracle rejects executed history, seed ${seed}`);
    }
  });

  it('on 300 executed histories with one result corrupted', () => {
    let caught = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const history = executedHistory(seed);
      const random = seededRandom(seed * 7919);
      const index = randomInt(random, history.length);
      const victim = history[index]!;
      if (victim.output === undefined || victim.input.kind === 'put' || victim.input.kind === 'delete') continue;
      const corrupted: KvOperation =
        victim.input.kind === 'get'
          ? { ...victim, output: victim.output === null ? `v${history.length + 1}` : null }
          : { ...victim, output: !victim.output };
      history[index] = corrupted;
      if (!crossCheck(history, seed)) caught++;
    }
    assert.ok(caught >= 30, `only ${caught} corrupted histories were non-linearizable`);
  });
});
