import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { RestartBackoff } from '../../../src/agent/pods/backoff.ts';
import { PodConfigError, staticConfigSource } from '../../../src/agent/pods/config-sources.ts';
import { resolveEnv } from '../../../src/agent/pods/env.ts';
import type { Pod } from '../../../src/client/index.ts';
import { PodWorker } from '../../../src/agent/pods/pod-worker.ts';
import { cpuMillicores, memoryBytes, parseQuantity } from '../../../src/agent/pods/quantities.ts';
import { SimEngine, SimRuntime } from '../../../src/agent/runtime/sim-runtime.ts';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('quantities', () => {
  test('CPU and memory as Kubernetes writes them', () => {
    assert.equal(cpuMillicores('500m'), 500);
    assert.equal(cpuMillicores('2'), 2000);
    assert.equal(cpuMillicores('0.25'), 250);
    assert.equal(memoryBytes('64Mi'), 67_108_864);
    assert.equal(memoryBytes('1G'), 1_000_000_000);
    assert.equal(memoryBytes('129e6'), 129_000_000);
    assert.equal(parseQuantity('1Ki'), 1024);
    assert.throws(() => parseQuantity('lots'), /invalid quantity "lots"/);
    assert.throws(() => parseQuantity('10MB'), /invalid quantity/);
  });
});

describe('env', () => {
  const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'api', namespace: 'shop', uid: 'u-1', labels: { tier: 'backend' } }, spec: { containers: [] } };
  const source = staticConfigSource({ configMaps: { 'shop/cfg': { MODE: 'fast', LEVEL: '3' } }, secrets: { 'shop/creds': { TOKEN: Buffer.from('t0k') } } });
  const context = { podIP: '10.0.0.7', hostIP: '192.168.1.20', nodeName: 'pi-3' };

  test('envFrom with prefix, refs, fieldRefs and $(VAR) expansion, in Kubernetes order', async () => {
    const env = await resolveEnv(pod, {
      name: 'app',
      image: 'x',
      envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CFG_' }, { secretRef: { name: 'creds' } }],
      env: [
        { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'MODE' } } },
        { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'TIER', valueFrom: { fieldRef: { fieldPath: "metadata.labels['tier']" } } },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'URL', value: 'http://$(IP):80/$(MODE)/$(UNDEFINED)/$$(MODE)' },
        { name: 'MISSING_OK', valueFrom: { secretKeyRef: { name: 'creds', key: 'nope', optional: true } } },
      ],
    }, source, context);
    assert.deepEqual(env, [
      { name: 'CFG_MODE', value: 'fast' },
      { name: 'CFG_LEVEL', value: '3' },
      { name: 'TOKEN', value: 't0k' },
      { name: 'MODE', value: 'fast' },
      { name: 'NODE', value: 'pi-3' },
      { name: 'TIER', value: 'backend' },
      { name: 'IP', value: '10.0.0.7' },
      { name: 'URL', value: 'http://10.0.0.7:80/fast/$(UNDEFINED)/$(MODE)' },
    ]);
  });

  test('a missing object or key names what is missing', async () => {
    await assert.rejects(resolveEnv(pod, { name: 'a', image: 'x', env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'NOPE' } } }] }, source, context), (error: unknown) => {
      assert.ok(error instanceof PodConfigError);
      assert.equal(error.reason, 'CreateContainerConfigError');
      assert.equal(error.message, 'key "NOPE" not found in configmap "cfg" (env A)');
      return true;
    });
    await assert.rejects(resolveEnv(pod, { name: 'a', image: 'x', envFrom: [{ secretRef: { name: 'gone' } }] }, source, context), /secret "gone" not found in namespace shop/);
    await assert.rejects(resolveEnv(pod, { name: 'a', image: 'x', env: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'spec.bogus' } } }] }, source, context), /unsupported fieldRef "spec.bogus"/);
  });
});

describe('restart back-off', () => {
  test('first restart at once, then 10s, 20s, 40s ... capped; a long run resets it', () => {
    const backoff = new RestartBackoff(10_000, 40_000);
    const key = 'uid/app';
    assert.equal(backoff.backedOffUntil(key, 1000, 0, 1000), null, 'first crash: restart now');
    backoff.recordRestart(key);
    assert.equal(backoff.backedOffUntil(key, 2000, 1500, 2000), 12_000);
    assert.equal(backoff.backedOffUntil(key, 2000, 1500, 12_000), null);
    backoff.recordRestart(key);
    assert.equal(backoff.backedOffUntil(key, 13_000, 12_500, 13_000), 33_000);
    backoff.recordRestart(key);
    backoff.recordRestart(key);
    assert.equal(backoff.currentDelayMs(key), 40_000, 'capped');
    assert.equal(backoff.backedOffUntil(key, 200_000, 100_000, 200_000), null, 'ran longer than twice the cap: forgiven');
    assert.equal(backoff.currentDelayMs(key), 0);
  });
});

describe('PodWorker on SimRuntime (virtual clock)', () => {
  async function setup() {
    let nowMs = Date.parse('2026-01-01T00:00:00Z');
    const clock = { advance: (ms: number) => (nowMs += ms), now: () => nowMs };
    const engine = new SimEngine({ os: 'linux', architecture: 'amd64' }, clock.now);
    engine.loadImage('sim/busybox:1', { os: 'linux', architecture: 'amd64' });
    const runtime = new SimRuntime({ engine, nodeName: 'sim-1' });
    const dataDir = await mkdtemp(join(tmpdir(), 'bramble-agent-unit-'));
    dirs.push(dataDir);
    const worker = new PodWorker({ runtime, hostIP: '192.168.1.20', dataDir, configSource: staticConfigSource({}), backoff: new RestartBackoff(10_000, 300_000), now: clock.now });
    return { runtime, worker, clock, engine };
  }
  const tick = () => new Promise((resolve) => setImmediate(resolve));

  test('a crashing container: immediate restart, then CrashLoopBackOff until the back-off passes', async () => {
    const { runtime, worker, clock } = await setup();
    const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'crash', namespace: 'default', uid: 'p-crash' }, spec: { containers: [{ name: 'app', image: 'sim/busybox:1', command: ['false'] }] } };
    let status = await worker.sync(pod);
    assert.equal(status.phase, 'Running');
    await tick();
    status = await worker.sync(pod); // attempt 0 exited: restarted at once
    await tick();
    status = await worker.sync(pod); // attempt 1 exited: back-off 10s
    const app = status.containerStatuses[0];
    assert.equal(app?.restartCount, 1);
    assert.ok(app && 'waiting' in app.state && app.state.waiting.reason === 'CrashLoopBackOff', JSON.stringify(app?.state));
    assert.match(JSON.stringify(app.state), /back-off 10s/);
    const attempts = async () => (await runtime.listContainers({ podUid: 'p-crash' })).map((c) => c.attempt).sort();
    assert.deepEqual(await attempts(), [1], 'only the newest dead attempt is kept (container GC)');
    clock.advance(5_000);
    await worker.sync(pod);
    assert.deepEqual(await attempts(), [1], 'still backing off');
    clock.advance(6_000);
    status = await worker.sync(pod);
    assert.deepEqual(await attempts(), [1, 2], 'restarted after 10s; the crashed attempt stays for --previous');
    assert.equal(status.containerStatuses[0]?.restartCount, 2);
    await tick();
    status = await worker.sync(pod);
    assert.match(JSON.stringify(status.containerStatuses[0]?.state), /back-off 20s/, 'doubled');
  });

  test('init containers: a failing one is retried with back-off and holds the pod Pending; with Never it fails the pod', async () => {
    const { runtime, worker } = await setup();
    const spec = (restartPolicy: 'Always' | 'Never') => ({
      restartPolicy,
      initContainers: [{ name: 'migrate', image: 'sim/busybox:1', command: ['false'] }],
      containers: [{ name: 'app', image: 'sim/busybox:1', command: ['sleep', '3600'] }],
    });
    const retried: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'retry', namespace: 'default', uid: 'p-init-retry' }, spec: spec('Always') };
    for (let i = 0; i < 3; i++) {
      await worker.sync(retried);
      await tick();
    }
    const status = await worker.sync(retried);
    assert.equal(status.phase, 'Pending');
    assert.deepEqual(status.conditions.find((c) => c.type === 'Initialized'), { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized' });
    const init = status.initContainerStatuses[0];
    assert.ok(init && 'waiting' in init.state && init.state.waiting.reason === 'CrashLoopBackOff', JSON.stringify(init?.state));
    assert.equal(init.restartCount, 1);
    assert.deepEqual((await runtime.listContainers({ podUid: 'p-init-retry' })).map((c) => [c.name, c.attempt]), [['migrate', 1]], 'the app container never started; the first attempt was collected');

    const never: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'never', namespace: 'default', uid: 'p-init-never' }, spec: spec('Never') };
    await worker.sync(never);
    await tick();
    assert.equal((await worker.sync(never)).phase, 'Failed');
  });

  test('a failed pull backs off (ImagePullBackOff) instead of pulling on every sync, and the pod starts once the image is there', async () => {
    const { worker, clock, engine } = await setup();
    const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pull', namespace: 'default', uid: 'p-pull' }, spec: { containers: [{ name: 'app', image: 'sim/later:1', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] } };
    const reason = async () => {
      const state = (await worker.sync(pod)).containerStatuses[0]?.state;
      return state && 'waiting' in state ? state.waiting.reason : Object.keys(state ?? {})[0];
    };
    assert.equal(await reason(), 'ErrImagePull');
    assert.equal(await reason(), 'ImagePullBackOff', 'no new pull within the back-off');
    clock.advance(11_000);
    assert.equal(await reason(), 'ErrImagePull', 'tried again after 10 s');
    clock.advance(11_000);
    assert.equal(await reason(), 'ImagePullBackOff', 'the second back-off is 20 s');
    engine.loadImage('sim/later:1', { os: 'linux', architecture: 'amd64' });
    clock.advance(10_000);
    assert.equal(await reason(), 'running');
  });

  test('phases: Pending on a missing image, Succeeded with OnFailure, Failed with Never; the pod IP and host IP are reported', async () => {
    const { worker } = await setup();
    const missing: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'm', namespace: 'default', uid: 'p-missing' }, spec: { containers: [{ name: 'app', image: 'sim/absent:1', imagePullPolicy: 'Never' }] } };
    const pending = await worker.sync(missing);
    assert.equal(pending.phase, 'Pending');
    assert.equal('waiting' in (pending.containerStatuses[0]?.state ?? {}) && (pending.containerStatuses[0]?.state as { waiting: { reason: string } }).waiting.reason, 'ErrImageNeverPull');
    assert.equal(pending.hostIP, '192.168.1.20');
    assert.match(pending.podIP ?? '', /^10\.88\./);
    assert.equal(pending.startTime, '2026-01-01T00:00:00Z');

    const ok: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ok', namespace: 'default', uid: 'p-ok' }, spec: { restartPolicy: 'OnFailure', containers: [{ name: 'app', image: 'sim/busybox:1', command: ['echo', 'done'] }] } };
    await worker.sync(ok);
    await tick();
    const succeeded = await worker.sync(ok);
    assert.equal(succeeded.phase, 'Succeeded');
    assert.deepEqual(succeeded.conditions.find((c) => c.type === 'Ready'), { type: 'Ready', status: 'False', reason: 'PodCompleted', message: 'containers with unready status: [app]' });

    const bad: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bad', namespace: 'default', uid: 'p-bad' }, spec: { restartPolicy: 'Never', containers: [{ name: 'app', image: 'sim/busybox:1', command: ['false'] }, { name: 'side', image: 'sim/busybox:1', command: ['true'] }] } };
    await worker.sync(bad);
    await tick();
    assert.equal((await worker.sync(bad)).phase, 'Failed');
  });
});
