import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue } from '../../../src/client/cache/index.ts';
import { waitFor } from '../../lib/wait.ts';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));
const noErrors = { onError: (key: string, error: unknown) => assert.fail(`unexpected failure of ${key}: ${String(error)}`) };

test('a key queued many times runs once; queued while running, it runs again after, never twice at once', async () => {
  const runs: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let release: () => void = () => undefined;
  const q = new WorkQueue(
    async (k) => {
      runs.push(k);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (runs.length === 1) await new Promise<void>((r) => (release = r));
      inFlight--;
    },
    { ...noErrors, workers: 4 },
  );
  q.add('a');
  q.add('a');
  await waitFor('the first run', () => runs.length === 1);
  q.add('a');
  q.add('a');
  await tick(20);
  assert.deepEqual(runs, ['a'], 'not run again while in flight');
  release();
  await waitFor('the second run', () => runs.length === 2 && q.idle);
  assert.deepEqual(runs, ['a', 'a']);
  assert.equal(maxInFlight, 1, 'one key is never processed twice at once, even with 4 workers');
  q.stop();
});

test('distinct keys run in parallel up to the worker count', async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const gates: Array<() => void> = [];
  const q = new WorkQueue(
    async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise<void>((r) => gates.push(r));
      inFlight--;
    },
    { ...noErrors, workers: 2 },
  );
  for (const k of ['a', 'b', 'c', 'd']) q.add(k);
  await waitFor('two in flight', () => gates.length === 2);
  await tick(20);
  assert.equal(gates.length, 2, 'the third waits for a worker');
  while (gates.length > 0 || !q.idle) {
    gates.shift()?.();
    await tick();
  }
  assert.equal(maxInFlight, 2);
  q.stop();
});

test('a failing key is reported and retried with a growing per-key backoff; success forgets it', async () => {
  const attempts: number[] = [];
  const reported: Array<[string, number]> = [];
  const q = new WorkQueue(
    () => {
      attempts.push(Date.now());
      return attempts.length < 4 ? Promise.reject(new Error(`try ${attempts.length}`)) : Promise.resolve();
    },
    { backoff: { baseMs: 40, maxMs: 10_000 }, onError: (k, e, failures) => reported.push([`${k}:${(e as Error).message}`, failures]) },
  );
  q.add('k');
  await waitFor('four attempts and an idle queue', () => attempts.length === 4 && q.idle);
  assert.deepEqual(reported, [
    ['k:try 1', 1],
    ['k:try 2', 2],
    ['k:try 3', 3],
  ]);
  // The delays are at least 40, 80, 160 ms (timers never fire early; a busy machine only adds).
  const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
  assert.ok(gaps[0]! >= 39 && gaps[1]! >= 79 && gaps[2]! >= 159, `backoff grows: ${gaps.join(', ')}`);
  assert.equal(q.requeues('k'), 0, 'the success forgot the failures');
  q.stop();
});

test('forget resets the backoff of a key; addRateLimited counts up from there', () => {
  const q = new WorkQueue(async () => undefined, { ...noErrors, paused: true, backoff: { baseMs: 60_000 } });
  q.addRateLimited('x');
  q.addRateLimited('x');
  assert.equal(q.requeues('x'), 2);
  q.forget('x');
  assert.equal(q.requeues('x'), 0);
  q.addRateLimited('x');
  assert.equal(q.requeues('x'), 1);
  assert.equal(q.idle, false, 'a retry is pending');
  q.stop();
  assert.equal(q.idle, true, 'stop drops pending retries');
});

test('paused until resume(); stop() drops queued keys; drain() waits for the key in flight', async () => {
  const runs: string[] = [];
  let release: () => void = () => undefined;
  const q = new WorkQueue(
    async (k) => {
      runs.push(k);
      if (k === 'slow') await new Promise<void>((r) => (release = r));
    },
    { ...noErrors, paused: true },
  );
  q.add('a');
  await tick();
  assert.deepEqual(runs, []);
  q.resume();
  await waitFor('a ran', () => runs.length === 1);
  q.add('slow');
  q.add('later');
  await waitFor('slow started', () => runs.length === 2);
  let drained = false;
  void q.drain().then(() => (drained = true));
  q.stop();
  await tick(20);
  assert.equal(drained, false, 'the key in flight still runs');
  release();
  await waitFor('drained', () => drained);
  q.add('b');
  await tick();
  assert.deepEqual(runs, ['a', 'slow'], 'nothing runs after stop');
});
