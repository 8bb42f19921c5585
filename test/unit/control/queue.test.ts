import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue } from '../../../src/control/queue.ts';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

test('a key queued many times runs once; queued while running, it runs again after', async () => {
  const runs: string[] = [];
  let release: () => void = () => undefined;
  const q = new WorkQueue(async (k) => {
    runs.push(k);
    if (runs.length === 1) await new Promise<void>((r) => (release = r));
  });
  q.add('a');
  q.add('a');
  await tick();
  q.add('a');
  q.add('a');
  release();
  await tick(20);
  assert.deepEqual(runs, ['a', 'a']);
  q.stop();
});

test('a failing key is retried with growing delays until it succeeds', async () => {
  let attempts = 0;
  const errors: string[] = [];
  const q = new WorkQueue(
    () => {
      attempts++;
      return attempts < 3 ? Promise.reject(new Error(`try ${attempts}`)) : Promise.resolve();
    },
    { baseRetryDelayMs: 5, onError: (_k, e) => errors.push((e as Error).message) },
  );
  q.add('k');
  for (let i = 0; i < 400 && attempts < 3; i++) await tick();
  await tick(20);
  assert.equal(attempts, 3);
  assert.deepEqual(errors, ['try 1', 'try 2']);
  assert.ok(q.idle);
  q.stop();
});

test('paused until resume(); stop() drops queued keys', async () => {
  const runs: string[] = [];
  const q = new WorkQueue(async (k) => void runs.push(k), { paused: true });
  q.add('a');
  await tick();
  assert.deepEqual(runs, []);
  q.resume();
  await tick();
  assert.deepEqual(runs, ['a']);
  q.stop();
  q.add('b');
  await tick();
  assert.deepEqual(runs, ['a']);
});
