import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Coalescer } from '../../../src/agent/coalescer.ts';

/** A task whose runs each wait for the test to release them, counting starts and ends. */
function gatedTask() {
  const gates: Array<() => void> = [];
  const counts = { started: 0, ended: 0, concurrent: 0, mostConcurrent: 0 };
  const task = async () => {
    counts.started += 1;
    counts.concurrent += 1;
    counts.mostConcurrent = Math.max(counts.mostConcurrent, counts.concurrent);
    await new Promise<void>((resolve) => gates.push(resolve));
    counts.concurrent -= 1;
    counts.ended += 1;
  };
  const releaseNext = async () => {
    while (gates.length === 0) await new Promise((resolve) => setImmediate(resolve));
    gates.shift()?.();
  };
  return { task, counts, releaseNext };
}

test('one run at a time; requests during a run give exactly one more run, and each request waits for a run that began after it', async () => {
  const { task, counts, releaseNext } = gatedTask();
  const coalescer = new Coalescer(task, (error) => assert.fail(String(error)));
  const first = coalescer.run();
  const during = [coalescer.run(), coalescer.run(), coalescer.run()];
  assert.equal(during[0], during[2], 'the requests share one follow-up run');
  let duringDone = false;
  void Promise.all(during).then(() => (duringDone = true));
  await releaseNext();
  await first;
  assert.equal(counts.ended, 1);
  assert.equal(duringDone, false, 'a request made during the first run is not answered by it');
  await releaseNext();
  await Promise.all(during);
  assert.deepEqual([counts.started, counts.ended, counts.mostConcurrent], [2, 2, 1]);
});

test('a failing run is reported and does not stop later runs', async () => {
  const errors: unknown[] = [];
  let runs = 0;
  const coalescer = new Coalescer(async () => {
    runs += 1;
    if (runs === 1) throw new Error('engine away');
  }, (error) => errors.push(error));
  await coalescer.run();
  await coalescer.run();
  assert.equal(runs, 2);
  assert.deepEqual(errors.map((e) => (e as Error).message), ['engine away']);
});

test('runSoon: a burst of requests gives one run after the delay; after stop nothing runs', async () => {
  let runs = 0;
  const coalescer = new Coalescer(async () => void (runs += 1), (error) => assert.fail(String(error)));
  for (let i = 0; i < 10; i++) coalescer.runSoon(20);
  const deadline = Date.now() + 10_000;
  while (runs === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(runs, 1);
  coalescer.runSoon(20);
  await coalescer.stop();
  await new Promise((resolve) => setTimeout(resolve, 60));
  await coalescer.run();
  assert.equal(runs, 1, 'a stopped coalescer neither fires its timer nor runs');
});

test('stop waits for the run in progress and its queued follow-up is dropped', async () => {
  const { task, counts, releaseNext } = gatedTask();
  const coalescer = new Coalescer(task, (error) => assert.fail(String(error)));
  void coalescer.run();
  void coalescer.run();
  const stopped = coalescer.stop();
  await releaseNext();
  await stopped;
  assert.deepEqual([counts.started, counts.ended], [1, 1]);
});
