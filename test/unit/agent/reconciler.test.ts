import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { staticConfigSource } from '../../../src/agent/pods/config-sources.ts';
import type { Pod } from '../../../src/client/index.ts';
import { PodWorker } from '../../../src/agent/pods/pod-worker.ts';
import { PodReconciler } from '../../../src/agent/pods/reconciler.ts';
import { SimEngine, SimRuntime } from '../../../src/agent/runtime/sim-runtime.ts';
import { RecordingPodApi } from '../../lib/pod-api.ts';
import { waitFor } from '../../lib/wait.ts';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const podOf = (name: string, uid: string): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid }, spec: { containers: [{ name: 'app', image: 'sim/busybox:1', command: ['sleep', '3600'] }], terminationGracePeriodSeconds: 0 } });

test('the reconcile loop: runs bound pods, writes status only on change, honours deletions, removes orphans at start', async () => {
  const engine = new SimEngine();
  engine.loadImage('sim/busybox:1', { os: 'linux', architecture: 'amd64' });
  const runtime = new SimRuntime({ engine, nodeName: 'pi-1' });
  const dataDir = await mkdtemp(join(tmpdir(), 'bramble-agent-reconciler-'));
  dirs.push(dataDir);
  const worker = new PodWorker({ runtime, hostIP: '192.168.1.20', dataDir, configSource: staticConfigSource({}) });

  // A pod deleted while the agent was down: its containers exist, its object does not.
  await worker.sync(podOf('left-behind', 'uid-orphan'));
  const api = new RecordingPodApi([podOf('web', 'uid-web')]);
  const errors: string[] = [];
  const reconciler = new PodReconciler({ worker, api, nodeName: 'pi-1', relistPeriodMs: 50, onError: (uid, error) => errors.push(`${uid}: ${error.message}`) });
  await reconciler.start();
  try {
    assert.deepEqual(await runtime.listPodSandboxes({ podUid: 'uid-orphan' }), [], 'orphan removed at start');
    await waitFor('web running', () => api.statusWrites.some((w) => w.name === 'web' && w.status.phase === 'Running' && w.status.containerStatuses?.[0]?.ready === true));
    const writesWhenRunning = api.statusWrites.filter((w) => w.name === 'web').length;
    await new Promise((resolve) => setTimeout(resolve, 400)); // about 8 resyncs
    await reconciler.idle();
    assert.equal(api.statusWrites.filter((w) => w.name === 'web').length, writesWhenRunning, 'an unchanged pod is not written again');

    api.emit({ type: 'upsert', pod: podOf('api', 'uid-api') });
    await waitFor('api running', () => api.statusWrites.some((w) => w.name === 'api' && w.status.phase === 'Running'));

    const deleting = podOf('web', 'uid-web');
    deleting.metadata.deletionTimestamp = new Date().toISOString();
    deleting.metadata.deletionGracePeriodSeconds = 0;
    api.emit({ type: 'upsert', pod: deleting });
    await waitFor('web deletion finished', () => api.finished.includes('web'));
    assert.deepEqual(await runtime.listContainers({ podUid: 'uid-web' }), []);

    api.emit({ type: 'deleted', uid: 'uid-api' });
    await waitFor('api removed', async () => (await runtime.listPodSandboxes({ podUid: 'uid-api' })).length === 0);
    assert.deepEqual(errors, []);
  } finally {
    await reconciler.stop();
  }
  assert.deepEqual(await runtime.listPodSandboxes(), []);
});

test('a mirror pod (a view of a component built into bramble) is never run and never written by the pod loop; its deletion is finished', async () => {
  const engine = new SimEngine();
  const runtime = new SimRuntime({ engine, nodeName: 'pi-1' });
  const dataDir = await mkdtemp(join(tmpdir(), 'bramble-agent-reconciler-'));
  dirs.push(dataDir);
  const worker = new PodWorker({ runtime, hostIP: '192.168.1.20', dataDir, configSource: staticConfigSource({}) });
  const mirror = podOf('kube-proxy-pi-1', 'uid-mirror');
  mirror.metadata.annotations = { 'kubernetes.io/config.mirror': 'kube-proxy' };
  const api = new RecordingPodApi([mirror]);
  const reconciler = new PodReconciler({ worker, api, nodeName: 'pi-1', relistPeriodMs: 50 });
  await reconciler.start();
  try {
    await reconciler.idle();
    assert.deepEqual(await runtime.listPodSandboxes({ podUid: 'uid-mirror' }), []);
    assert.deepEqual(api.statusWrites, []);
    const deleting = structuredClone(mirror);
    deleting.metadata.deletionTimestamp = new Date().toISOString();
    deleting.metadata.deletionGracePeriodSeconds = 30;
    api.emit({ type: 'upsert', pod: deleting });
    await waitFor('the mirror pod\'s deletion finished', () => api.finished.includes('kube-proxy-pi-1'));
  } finally {
    await reconciler.stop();
  }
});
