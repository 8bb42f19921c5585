import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { staticConfigSource } from '../../../src/agent/pods/config-sources.ts';
import { PodWorker } from '../../../src/agent/pods/pod-worker.ts';
import { SimEngine, SimRuntime } from '../../../src/agent/runtime/sim-runtime.ts';
import { runtimeContract } from './runtime-contract.ts';

let nextPort = 30_000;

runtimeContract('SimRuntime (in memory, for large simulations)', async () => {
  const engine = new SimEngine({ os: 'linux', architecture: 'amd64' });
  engine.loadImage('sim/busybox:amd64', { os: 'linux', architecture: 'amd64' });
  engine.loadImage('sim/busybox:arm64', { os: 'linux', architecture: 'arm64', variant: 'v8' });
  // Like the test host: arm64 runs through a registered emulator.
  const runnablePlatforms = [
    { architecture: 'amd64', variants: [], emulated: false },
    { architecture: 'arm64', variants: [], emulated: true },
  ];
  return {
    newRuntime: async (nodeName, options = {}) => new SimRuntime({ engine, nodeName, runnablePlatforms: options.runnablePlatforms ?? runnablePlatforms }),
    images: { native: 'sim/busybox:amd64', arm64: 'sim/busybox:arm64' },
    nativeOnly: [{ architecture: 'amd64', variants: [], emulated: false }],
    runsProcesses: false,
    hostIP: '127.0.0.1',
    // No socket is opened: host ports are bookkeeping in the simulated engine.
    freePort: async () => nextPort++,
    loadImage: async (tag, platform) => {
      engine.loadImage(tag, platform);
      return async () => void engine.removeImage(tag);
    },
  };
});

test('hollow nodes: 20 simulated nodes on one SimEngine run 25 pods each through the real PodWorker', async () => {
  const engine = new SimEngine({ os: 'linux', architecture: 'arm64', variant: 'v8' });
  engine.loadImage('sim/app:1', { os: 'linux', architecture: 'arm64', variant: 'v8' });
  const dataDir = await mkdtemp(join(tmpdir(), 'bramble-hollow-'));
  try {
    const nodes = Array.from({ length: 20 }, (_, n) => {
      const runtime = new SimRuntime({ engine, nodeName: `hollow-${n}` });
      return { runtime, worker: new PodWorker({ runtime, hostIP: `10.0.0.${n + 1}`, dataDir, configSource: staticConfigSource({}) }) };
    });
    const statuses = await Promise.all(
      nodes.flatMap(({ worker }, n) =>
        Array.from({ length: 25 }, (_, p) =>
          worker.sync({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `pod-${p}`, namespace: 'default', uid: `n${n}-p${p}` }, spec: { containers: [{ name: 'app', image: 'sim/app:1', command: ['sleep', '3600'] }] } }),
        ),
      ),
    );
    assert.equal(statuses.filter((s) => s.phase === 'Running' && s.containerStatuses[0]?.ready).length, 500);
    for (const { runtime } of nodes) assert.equal((await runtime.listContainers()).length, 25, 'each node sees only its own');
    assert.equal(new Set(statuses.map((s) => s.podIP)).size, 500, 'every pod has its own address');
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
