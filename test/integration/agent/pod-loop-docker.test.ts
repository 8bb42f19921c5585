// The pod loop (PodReconciler + PodWorker) on the real Docker engine: what it asks the engine when
// idle (counted by a unix-socket proxy in front of the engine), exits noticed through the engine's
// event stream rather than by polling, and a deletion that does not wait for an image pull.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { staticConfigSource } from '../../../src/agent/pods/config-sources.ts';
import type { Container, Pod, PodStatus } from '../../../src/client/index.ts';
import { PodWorker } from '../../../src/agent/pods/pod-worker.ts';
import { PodReconciler } from '../../../src/agent/pods/reconciler.ts';
import { removePodData } from '../../../src/agent/pods/volumes.ts';
import { buildImageArchive, busyboxLayer } from '../../../src/image/index.ts';
import { CountingDockerProxy } from '../../lib/docker-proxy.ts';
import { RecordingPodApi } from '../../lib/pod-api.ts';
import { busyboxCacheDir, testImages } from '../../lib/images.ts';
import { AgentDockerScope, engine } from './docker-agent-scope.ts';
import { LoopbackRegistry } from './loopback-registry.ts';
import { waitFor } from '../../lib/wait.ts';

const scope = new AgentDockerScope();
const dataDirs: string[] = [];
let proxy: CountingDockerProxy;

before(async () => {
  proxy = await CountingDockerProxy.start();
});

after(async () => {
  await proxy.close();
  await scope.cleanup();
  for (const dir of dataDirs) {
    for (const uid of await readdir(join(dir, 'pods')).catch(() => [] as string[])) await removePodData(dir, uid).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
});

/** Waits until the proxy has seen no request for `quietMs` (a loop settling after its pods started). */
async function quiet(quietMs: number): Promise<void> {
  let seen = -1;
  let since = Date.now();
  await waitFor('the engine to see no request for a while', () => {
    if (proxy.requests.length !== seen) {
      seen = proxy.requests.length;
      since = Date.now();
    }
    return Date.now() - since >= quietMs;
  });
}

const sleeper = (name: string): Container => ({ name, image: testImages.amd64, command: ['sleep', '3600'] });
const podOf = (name: string, containers: Container[]): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', uid: randomUUID() },
  spec: { containers, terminationGracePeriodSeconds: 0 },
});
const running = (status: PodStatus | undefined) => status?.phase === 'Running' && status.containerStatuses?.every((c) => c.ready) === true;

async function loop(suffix: string, pods: Pod[], relistPeriodMs: number) {
  const runtime = await scope.runtime(scope.nodeName(`loop-${suffix}`), { docker: proxy.docker() });
  const dataDir = await mkdtemp(join(tmpdir(), 'bramble-pod-loop-'));
  dataDirs.push(dataDir);
  const worker = new PodWorker({ runtime, hostIP: '127.0.0.1', dataDir, configSource: staticConfigSource({}) });
  const api = new RecordingPodApi(pods);
  const errors: string[] = [];
  const reconciler = new PodReconciler({ worker, api, nodeName: runtime.nodeName, relistPeriodMs, onError: (uid, error) => errors.push(`${uid}: ${error.message}`) });
  await reconciler.start();
  return { runtime, worker, api, reconciler, errors };
}

describe('the pod loop on the real Docker engine', () => {
  test('an idle node with 10 running pods asks the engine nothing between relists, and a relist is one list call', async () => {
    const pods = Array.from({ length: 10 }, (_, i) => podOf(`idle-${i}`, [sleeper('app')]));
    const { api, reconciler, errors } = await loop('idle', pods, 3_600_000);
    try {
      await waitFor('10 pods running', () => pods.every((p) => running(api.latest(p.metadata.name))));
      await quiet(2_000);
      const from = proxy.requests.length;
      // The measurement window, not a wait for a condition: whatever the loop asks in it is counted.
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      assert.deepEqual(proxy.since(from), [], 'an idle pod with no probes costs the engine nothing until the next relist');
      assert.deepEqual(errors, []);
    } finally {
      await reconciler.stop();
    }

    // The same pods under a new loop (an agent restart) that relists every second.
    const again = await loop('idle', pods, 1_000);
    try {
      await quiet(0);
      const windowMs = 6_000;
      await new Promise((resolve) => setTimeout(resolve, 3_000)); // the restart's own syncs settle
      const from = proxy.requests.length;
      await new Promise((resolve) => setTimeout(resolve, windowMs));
      const asked = proxy.since(from);
      console.log(`10 idle pods, relist every 1 s: ${asked.length} engine requests in ${windowMs / 1000} s: ${JSON.stringify([...new Set(asked.map((r) => r.replace(/\?.*/, '')))])}`);
      assert.ok(asked.every((r) => /^GET (\/v[\d.]+)?\/containers\/json\?/.test(r)), `only relists (one list call each): ${JSON.stringify(asked)}`);
      assert.ok(asked.length <= windowMs / 1_000 + 2, `at most one list per relist period: ${asked.length}`);
      assert.deepEqual(again.errors, []);
    } finally {
      await again.reconciler.stop();
    }
    for (const pod of pods) await again.worker.kill(pod.metadata.uid, 0);
  });

  test('a container killed from outside is restarted through the engine\'s exit event, also after the event stream broke and came back', async () => {
    const pod = podOf('killed', [sleeper('app')]);
    // No relist within the test: only an event can make the loop look.
    const { api, reconciler, worker, errors } = await loop('kill', [pod], 3_600_000);
    try {
      const restartedTo = async (count: number) => {
        await waitFor(`restart ${count} running`, () => {
          const status = api.latest('killed');
          return running(status) && status?.containerStatuses?.[0]?.restartCount === count;
        });
      };
      const idOf = () => (api.latest('killed')?.containerStatuses?.[0]?.containerID ?? '').replace('docker://', '');
      await restartedTo(0);
      await engine.getContainer(idOf()).kill();
      await restartedTo(1);

      const subscriptions = () => proxy.requests.filter((r) => /^GET (\/v[\d.]+)?\/events\?/.test(r)).length;
      const before = subscriptions();
      proxy.dropConnections(); // as an engine restart would: the event stream ends
      await waitFor('the event stream resubscribed', () => subscriptions() > before);
      await engine.getContainer(idOf()).kill();
      await restartedTo(2);
      assert.deepEqual(errors, []);
    } finally {
      await reconciler.stop();
      await worker.kill(pod.metadata.uid, 0);
    }
  });

  test('a pod deleted while its sync waits on an image pull that does not finish is deleted without waiting for it', async () => {
    const registry = new LoopbackRegistry();
    registry.stallBlobs = true;
    await registry.start();
    const binary = join(busyboxCacheDir(), 'amd64', 'bin', 'busybox');
    const applets = execFileSync(binary, ['--list-full'], { encoding: 'utf8' }).split('\n');
    const archive = await buildImageArchive({
      repoTags: [],
      platform: { os: 'linux', architecture: 'amd64' },
      layer: busyboxLayer(await readFile(binary), applets),
      cmd: ['sh'],
      labels: { 'io.bramble.test-run': scope.run, purpose: 'stalled-pull' },
    });
    await registry.publish('bramble-test/stalled', 'v1', archive);
    const pod = podOf('stuck', [{ name: 'app', image: `${registry.host}/bramble-test/stalled:v1`, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }]);
    const { api, reconciler, runtime, errors } = await loop('stalled', [pod], 3_600_000);
    try {
      await waitFor('the pull waiting on a blob', () => registry.stalledBlobs > 0);
      api.emit({ type: 'upsert', pod: { ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 0 } } });
      await waitFor('the deletion finished', () => api.finished.includes('stuck'));
      assert.equal(await runtime.inspectImage(`${registry.host}/bramble-test/stalled:v1`), null, 'the deletion did not wait for the pull: the image never arrived');
      assert.deepEqual(await runtime.listPodSandboxes({ podUid: pod.metadata.uid }), []);
      assert.deepEqual(await runtime.listContainers({ podUid: pod.metadata.uid }), []);
      assert.deepEqual(errors, [], 'an aborted sync is not an error');
    } finally {
      await reconciler.stop();
      await registry.stop();
      await engine.getImage(archive.imageId).remove({ force: true }).catch(() => undefined);
    }
  });
});
