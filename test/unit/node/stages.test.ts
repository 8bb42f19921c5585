import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { inBackground, Stages, StagesStoppedError } from '../../../src/node/stages.ts';

const logger = pino({ level: 'silent' });

/** A stage that records its start and stop in `log`. */
function recorded(log: string[], name: string) {
  return async () => {
    await Promise.resolve();
    log.push(`start ${name}`);
    return { stop: async () => void log.push(`stop ${name}`) };
  };
}

test('stages stop last first', async () => {
  const log: string[] = [];
  const stages = new Stages(logger);
  for (const name of ['storage', 'raft', 'server']) await stages.start(name, recorded(log, name));
  await stages.stop();
  assert.deepEqual(log, ['start storage', 'start raft', 'start server', 'stop server', 'stop raft', 'stop storage']);
});

test('a stage that fails to start stops the started ones in reverse, and its error reaches the caller', async () => {
  const log: string[] = [];
  const stages = new Stages(logger);
  await stages.start('storage', recorded(log, 'storage'));
  await stages.start('raft', recorded(log, 'raft'));
  const failure = new Error('port taken');
  await assert.rejects(stages.start('server', () => Promise.reject(failure)), (error) => error === failure);
  assert.deepEqual(log, ['start storage', 'start raft', 'stop raft', 'stop storage']);
  assert.equal(stages.stopping, true);
  await assert.rejects(stages.start('api', recorded(log, 'api')), StagesStoppedError);
  assert.ok(!log.includes('start api'), 'nothing starts after a failed start');
});

test('stop is idempotent: one promise, each stage stopped once', async () => {
  const log: string[] = [];
  const stages = new Stages(logger);
  await stages.start('a', recorded(log, 'a'));
  await stages.start('b', recorded(log, 'b'));
  const first = stages.stop();
  assert.equal(stages.stop(), first);
  await first;
  await stages.stop();
  assert.deepEqual(log.filter((line) => line.startsWith('stop')), ['stop b', 'stop a']);
});

test('a stage that fails to stop does not keep the ones below it running', async () => {
  const log: string[] = [];
  const stages = new Stages(logger);
  await stages.start('a', recorded(log, 'a'));
  await stages.start('b', () => ({ stop: () => Promise.reject(new Error('stuck')) }));
  await stages.start('c', recorded(log, 'c'));
  await stages.stop();
  assert.deepEqual(log, ['start a', 'start c', 'stop c', 'stop a']);
});

test('a stage that finishes starting after close() is stopped at once', async () => {
  const log: string[] = [];
  const stages = new Stages(logger);
  let release!: () => void;
  const slow = stages.start('agent', async () => {
    await new Promise<void>((resolve) => (release = resolve));
    return recorded(log, 'agent')();
  });
  stages.close();
  release();
  await assert.rejects(slow, StagesStoppedError);
  assert.deepEqual(log, ['start agent', 'stop agent']);
});

test('a background stage: stop waits for its body to give up, then stops its stages last first', async () => {
  const log: string[] = [];
  let releaseApi!: () => void;
  const apiReady = new Promise<void>((resolve) => (releaseApi = resolve));
  const outer = new Stages(logger);
  await outer.start('raft', recorded(log, 'raft'));
  await outer.start('services', () =>
    inBackground('services', logger, async (stages) => {
      await stages.start('api', async () => {
        await apiReady;
        return recorded(log, 'api')();
      });
      await stages.start('control', recorded(log, 'control'));
      await stages.start('agent', recorded(log, 'agent'));
    }),
  );
  assert.deepEqual(log, ['start raft'], 'the node is up while the API still starts');
  releaseApi();
  // The body runs on; wait until it has started the agent.
  while (!log.includes('start agent')) await new Promise((resolve) => setImmediate(resolve));
  await outer.stop();
  assert.deepEqual(log, ['start raft', 'start api', 'start control', 'start agent', 'stop agent', 'stop control', 'stop api', 'stop raft']);
});

test('a background stage stopped while its body is still starting: nothing after is started, what started is stopped', async () => {
  const log: string[] = [];
  let releaseApi!: () => void;
  const apiReady = new Promise<void>((resolve) => (releaseApi = resolve));
  const services = inBackground('services', logger, async (stages) => {
    await stages.start('api', async () => {
      await apiReady;
      return recorded(log, 'api')();
    });
    await stages.start('agent', recorded(log, 'agent'));
  });
  const stopping = services.stop();
  releaseApi();
  await stopping;
  assert.deepEqual(log, ['start api', 'stop api']);
});
