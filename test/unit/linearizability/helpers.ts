// Terse builders for hand-written KV histories, and a seeded PRNG for generated ones.
import type { KvOperation, KvOutput } from '../../lib/linearizability/index.ts';

export const OPEN = Number.POSITIVE_INFINITY;

function outputFor(returnTime: number, output: KvOutput): KvOutput | undefined {
  return returnTime === OPEN ? undefined : output;
}

export function put(clientId: number, invokeTime: number, returnTime: number, key: string, value: string): KvOperation {
  return { clientId, invokeTime, returnTime, input: { kind: 'put', key, value }, output: outputFor(returnTime, null) };
}

export function get(
  clientId: number,
  invokeTime: number,
  returnTime: number,
  key: string,
  value: string | null,
): KvOperation {
  return { clientId, invokeTime, returnTime, input: { kind: 'get', key }, output: outputFor(returnTime, value) };
}

export function cas(
  clientId: number,
  invokeTime: number,
  returnTime: number,
  key: string,
  expected: string | null,
  value: string,
  swapped: boolean,
): KvOperation {
  return {
    clientId,
    invokeTime,
    returnTime,
    input: { kind: 'cas', key, expected, value },
    output: outputFor(returnTime, swapped),
  };
}

export function del(clientId: number, invokeTime: number, returnTime: number, key: string): KvOperation {
  return { clientId, invokeTime, returnTime, input: { kind: 'delete', key }, output: outputFor(returnTime, null) };
}

/** mulberry32: tiny, fast, and good enough to spread test cases. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomInt(random: () => number, below: number): number {
  return Math.floor(random() * below);
}

export function pick<T>(random: () => number, items: readonly T[]): T {
  const item = items[randomInt(random, items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}
