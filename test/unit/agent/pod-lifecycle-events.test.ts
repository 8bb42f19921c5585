import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PodLifecycleEvents } from '../../../src/agent/pods/pod-lifecycle-events.ts';
import { SimEngine, SimRuntime } from '../../../src/agent/runtime/sim-runtime.ts';
import { waitFor } from '../../lib/wait.ts';

test('pods are woken by an exit, and by a relist that sees a change no event told; nothing after stop', async () => {
  const engine = new SimEngine();
  engine.loadImage('sim/busybox:1', { os: 'linux', architecture: 'amd64' });
  const runtime = new SimRuntime({ engine, nodeName: 'pi-1' });
  const pod = (uid: string) => ({ uid, namespace: 'default', name: uid });
  const sandboxA = await runtime.runPodSandbox({ pod: pod('a'), hostname: 'a', ports: [], attempt: 0 });
  const app = await runtime.createContainer(sandboxA, { name: 'app', image: 'sim/busybox:1', command: ['sleep', '3600'], env: [], mounts: [], resources: {}, attempt: 0, tty: false, stdin: false });
  await runtime.startContainer(app);

  const woken: string[] = [];
  const events = new PodLifecycleEvents({ runtime, relistPeriodMs: 3_600_000, onPodChanged: (uid) => woken.push(uid), onError: (error) => assert.fail(String(error)) });
  events.start();
  await waitFor('the first relist (the stream opening) wakes the pods it finds', () => woken.includes('a'));
  woken.length = 0;

  await runtime.stopContainer(app, 0);
  await waitFor('the exit wakes its pod', () => woken.includes('a'));
  await events.relist(); // the relist sees the exit too (a's fingerprint changed)
  woken.length = 0;

  // A sandbox created sends no exit event: only a relist can see it.
  await runtime.runPodSandbox({ pod: pod('b'), hostname: 'b', ports: [], attempt: 0 });
  assert.equal(woken.length, 0, 'no event for a created sandbox');
  await events.relist();
  await waitFor('the relist wakes the pod whose containers changed', () => woken.includes('b'));
  assert.ok(!woken.includes('a'), 'an unchanged pod is not woken by a relist');

  woken.length = 0;
  await events.stop();
  await runtime.stopPodSandbox(sandboxA, 0);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(woken.length, 0, 'nothing after stop');
});
