import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { KvInput, KvOutput } from '../../lib/linearizability/index.ts';
import { checkOperations, HistoryRecorder, kvModel, renderIllegal } from '../../lib/linearizability/index.ts';
import { OPEN, randomInt, seededRandom } from './helpers.ts';

/** A clock the test advances by hand. */
function manualClock(): { now: () => number; advance: (ticks: number) => void } {
  let time = 0;
  return {
    now: () => time,
    advance: (ticks) => {
      time += ticks;
    },
  };
}

describe('HistoryRecorder', () => {
  it('records intervals from the injected clock, in invocation order', () => {
    const clock = manualClock();
    const recorder = new HistoryRecorder<KvInput, KvOutput>(clock.now);
    const write = recorder.invoke(1, { kind: 'put', key: 'x', value: 'a' });
    clock.advance(2);
    const read = recorder.invoke(2, { kind: 'get', key: 'x' });
    clock.advance(3);
    recorder.complete(read, 'a');
    clock.advance(1);
    recorder.complete(write, null);
    assert.deepEqual(recorder.operations(), [
      { clientId: 1, input: { kind: 'put', key: 'x', value: 'a' }, output: null, invokeTime: 0, returnTime: 6 },
      { clientId: 2, input: { kind: 'get', key: 'x' }, output: 'a', invokeTime: 2, returnTime: 5 },
    ]);
    assert.equal(checkOperations(kvModel, recorder.operations()).result, 'ok');
  });

  it('operations still pending come out open; discarded ones vanish', () => {
    const clock = manualClock();
    const recorder = new HistoryRecorder<KvInput, KvOutput>(clock.now);
    recorder.invoke(1, { kind: 'put', key: 'x', value: 'lost-reply' });
    const rejected = recorder.invoke(2, { kind: 'put', key: 'x', value: 'rejected' });
    clock.advance(1);
    recorder.discard(rejected);
    assert.equal(recorder.pendingCount, 1);
    const ops = recorder.operations();
    assert.equal(ops.length, 1);
    assert.equal(ops[0]!.returnTime, OPEN);
    assert.equal(ops[0]!.output, undefined);
  });

  it('rejects completing an operation twice or one it never issued', () => {
    const recorder = new HistoryRecorder<KvInput, KvOutput>(() => 0);
    const id = recorder.invoke(1, { kind: 'get', key: 'x' });
    recorder.complete(id, null);
    assert.throws(() => recorder.complete(id, null), /not pending/);
    assert.throws(() => recorder.discard(42), /not pending/);
  });

  it('refuses a clock that goes backwards', () => {
    let time = 10;
    const recorder = new HistoryRecorder<KvInput, KvOutput>(() => time);
    const id = recorder.invoke(1, { kind: 'get', key: 'x' });
    time = 9;
    assert.throws(() => recorder.complete(id, null), /monotonic/);
  });

  it('records real concurrent clients against an atomic store with performance.now()', async () => {
    const store = new Map<string, string>();
    const recorder = new HistoryRecorder<KvInput, KvOutput>(() => performance.now());
    const random = seededRandom(7);
    const client = async (clientId: number): Promise<void> => {
      for (let seq = 0; seq < 15; seq++) {
        const key = `k${randomInt(random, 3)}`;
        const write = random() < 0.5;
        const id = recorder.invoke(clientId, write ? { kind: 'put', key, value: `${clientId}-${seq}` } : { kind: 'get', key });
        await sleep(randomInt(random, 3));
        // The effect happens here, somewhere inside the interval.
        const output = write ? (store.set(key, `${clientId}-${seq}`), null) : (store.get(key) ?? null);
        await sleep(randomInt(random, 3));
        recorder.complete(id, output);
      }
    };
    await Promise.all([1, 2, 3, 4, 5].map(client));
    const outcome = checkOperations(kvModel, recorder.operations(), { maxSteps: 1_000_000 });
    if (outcome.result === 'illegal') assert.fail(renderIllegal(kvModel, outcome.illegal));
    assert.equal(outcome.result, 'ok');
    assert.equal(outcome.partitionsTotal, 3);
  });
});
