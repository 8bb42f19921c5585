// The health endpoints' runner: a check that hangs is cut off at the timeout and not started again
// by the probes that follow (they share its run), and the event-loop check sees a real stall.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventLoopCheck, Health, type HealthCheck } from '../../../src/api/health.ts';
import { waitFor } from '../../lib/wait.ts';

test('a check that never answers fails at the timeout, and concurrent or later probes share its one run', async () => {
  let calls = 0;
  const hung: HealthCheck = {
    name: 'hung',
    check: () => {
      calls += 1;
      return new Promise<void>(() => undefined);
    },
  };
  const health = new Health({ livez: [], readyz: [hung], healthz: [] }, 100);
  const answers = await Promise.all(Array.from({ length: 20 }, () => health.answer('/readyz', new URLSearchParams('verbose'))));
  for (const answer of answers) assert.deepEqual(answer, { code: 500, body: '[-]hung failed: reason withheld\nreadyz check failed\n' });
  assert.deepEqual(await health.answer('/readyz/hung', new URLSearchParams()), { code: 500, body: 'internal server error: the check did not answer within 100 ms\n' });
  assert.equal(calls, 1, 'the hung check was started once for all 21 probes');
});

test('a check that recovers is run afresh by the next probe; an endpoint without checks has ping', async () => {
  let healthy = false;
  const flaky: HealthCheck = {
    name: 'flaky',
    check: async () => {
      await new Promise((resolve) => setImmediate(resolve));
      if (!healthy) throw new Error('not yet');
    },
  };
  const health = new Health({ livez: [], readyz: [flaky], healthz: [] });
  assert.deepEqual(await health.answer('/readyz/flaky', new URLSearchParams()), { code: 500, body: 'internal server error: not yet\n' });
  healthy = true;
  assert.deepEqual(await health.answer('/readyz/flaky', new URLSearchParams()), { code: 200, body: 'ok' });
  assert.deepEqual(await health.answer('/livez', new URLSearchParams('verbose=1')), { code: 200, body: '[+]ping ok\nlivez check passed\n' });
  assert.equal(await health.answer('/version', new URLSearchParams()), undefined);
});

test('event-loop: passes while the loop runs, fails after a real stall beyond the bound, then passes again', async () => {
  const check = eventLoopCheck({ boundMs: 200, intervalMs: 20, holdMs: 1_000 });
  const passes = () => {
    try {
      check.check();
      return true;
    } catch {
      return undefined;
    }
  };
  try {
    await waitFor('the sampler runs and the check passes', passes, 30_000);
    // A synchronous stall of 600 ms: while it lasts nothing runs, which is what a wedged process looks like.
    const until = Date.now() + 600;
    while (Date.now() < until) {
      // busy: the event loop is blocked
    }
    // Before any timer has run again, the sampler is overdue by more than the bound.
    assert.throws(() => check.check(), /^Error: the event loop's timers are \d+ ms overdue \(bound 200 ms\)$/);
    // After the sampler has run, the stall is remembered for holdMs.
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.throws(() => check.check(), /^Error: the event loop was blocked for \d+ ms \d+ ms ago \(bound 200 ms\)$/);
    await waitFor('the stall is forgotten after holdMs', passes, 30_000);
  } finally {
    check.stop();
  }
});
