import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createPrng, seedFromString } from '../../../src/raft/prng.ts';

describe('prng', () => {
  test('the same seed gives the same stream; different seeds differ', () => {
    const a = createPrng(42);
    const b = createPrng(42);
    const c = createPrng(43);
    const streamA = Array.from({ length: 20 }, () => a.nextUint32());
    const streamB = Array.from({ length: 20 }, () => b.nextUint32());
    const streamC = Array.from({ length: 20 }, () => c.nextUint32());
    assert.deepEqual(streamA, streamB);
    assert.notDeepEqual(streamA, streamC);
  });

  test('nextInt stays in range and hits every value; nextFloat is in [0, 1)', () => {
    const prng = createPrng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const value = prng.nextInt(10);
      assert.ok(Number.isInteger(value) && value >= 0 && value < 10);
      seen.add(value);
      const f = prng.nextFloat();
      assert.ok(f >= 0 && f < 1);
    }
    assert.equal(seen.size, 10);
    assert.throws(() => prng.nextInt(0), RangeError);
    assert.throws(() => prng.nextInt(1.5), RangeError);
  });

  test('nextInt is roughly uniform', () => {
    const prng = createPrng(1234);
    const counts = new Array<number>(4).fill(0);
    const draws = 40_000;
    for (let i = 0; i < draws; i++) counts[prng.nextInt(4)]!++;
    for (const count of counts) assert.ok(Math.abs(count - draws / 4) < draws * 0.02, `count ${count}`);
  });

  test('split gives a deterministic, different stream', () => {
    const parent1 = createPrng(5);
    const parent2 = createPrng(5);
    const child1 = parent1.split();
    const child2 = parent2.split();
    const values1 = Array.from({ length: 5 }, () => child1.nextUint32());
    assert.deepEqual(values1, Array.from({ length: 5 }, () => child2.nextUint32()));
    assert.notDeepEqual(values1, Array.from({ length: 5 }, () => parent1.nextUint32()));
  });

  test('seedFromString is stable and discriminates', () => {
    assert.equal(seedFromString('node-a'), seedFromString('node-a'));
    assert.notEqual(seedFromString('node-a'), seedFromString('node-b'));
  });
});
