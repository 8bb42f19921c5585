import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { after, describe, test } from 'node:test';
import { PodMetricsSampler } from '../../../src/agent/pod-metrics.ts';
import { DockerRuntime } from '../../../src/agent/runtime/docker-runtime.ts';
import type { RunnablePlatform } from '../../../src/agent/runtime/platforms.ts';
import { buildPauseImage } from '../../../src/agent/runtime/pause-image.ts';
import { buildImageArchive, ensureImageLoaded } from '../../../src/image/index.ts';
import { busyboxCacheDir, testImages } from '../../lib/images.ts';
import { freePort } from '../../lib/ports.ts';
import { AgentDockerScope, engine } from './docker-agent-scope.ts';
import { runtimeContract } from './runtime-contract.ts';

const scope = new AgentDockerScope();
const newRuntime = (nodeName: string, options: { runnablePlatforms?: RunnablePlatform[] } = {}) => scope.runtime(nodeName, options);
after(() => scope.cleanup());

runtimeContract('DockerRuntime on the real engine', async () => ({
  newRuntime,
  images: { native: testImages.amd64, arm64: testImages.arm64 },
  nativeOnly: [{ architecture: 'amd64', variants: [], emulated: false }],
  runsProcesses: true,
  hostIP: '127.0.0.1',
  freePort,
  loadImage: async (tag, platform) => {
    // The tag in a label makes the id unique to this image: removing it by id touches nothing else.
    const archive = await buildImageArchive({ repoTags: [tag], platform, layer: [{ type: 'file', path: 'hello', content: Buffer.from(tag) }], labels: { 'org.bramble.test-image-tag': tag } });
    await ensureImageLoaded(engine, archive, [tag]);
    return async () => {
      await engine.getImage(archive.imageId).remove({ force: true }).catch((error: { statusCode?: number }) => (error.statusCode === 404 ? undefined : Promise.reject(error)));
    };
  },
}));

describe('DockerRuntime specifics', () => {
  const run = randomUUID().slice(0, 8);

  test('env, workingDir, a read-only bind mount, memory and CPU limits reach the engine', async () => {
    const runtime = await newRuntime(`docker-${run}-config`);
    const dir = await mkdtemp(join(tmpdir(), 'bramble-agent-mount-'));
    const pod = { uid: randomUUID(), namespace: 'default', name: 'configured' };
    const sandboxId = await runtime.runPodSandbox({ pod, hostname: 'configured', ports: [], attempt: 0 });
    try {
      await writeFile(join(dir, 'greeting'), 'hello from the node\n');
      const id = await runtime.createContainer(sandboxId, {
        name: 'app',
        image: testImages.amd64,
        command: ['sh', '-c', 'echo "$GREETING $(pwd)"; cat /config/greeting; touch /config/x 2>/dev/null && echo writable || echo read-only; hostname'],
        env: [{ name: 'GREETING', value: 'hi there' }],
        workingDir: '/tmp',
        mounts: [{ hostPath: dir, containerPath: '/config', readOnly: true }],
        resources: { memoryLimitBytes: 64 * 1024 * 1024, cpuLimitMillicores: 250 },
        attempt: 0,
        tty: false,
        stdin: false,
      });
      const inspected = await engine.getContainer(id).inspect();
      assert.equal(inspected.HostConfig.Memory, 64 * 1024 * 1024);
      assert.equal(inspected.HostConfig.NanoCpus, 250_000_000);
      assert.equal(inspected.HostConfig.NetworkMode, `container:${sandboxId}`);
      await runtime.startContainer(id);
      const logs = await (async () => {
        for (let i = 0; i < 300; i++) {
          const status = await runtime.containerStatus(id);
          if (status.state.kind === 'terminated') return text(await runtime.logs(id, { follow: false, timestamps: false }));
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        throw new Error('container did not finish');
      })();
      assert.equal(logs, 'hi there /tmp\nhello from the node\nread-only\nconfigured\n');
    } finally {
      await runtime.removePodSandbox(sandboxId);
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('the memory limit is enforced by the engine: a container over it is OOMKilled (137)', async () => {
    const runtime = await newRuntime(`docker-${run}-oom`);
    const pod = { uid: randomUUID(), namespace: 'default', name: 'greedy' };
    const sandboxId = await runtime.runPodSandbox({ pod, hostname: 'greedy', ports: [], attempt: 0 });
    try {
      const id = await runtime.createContainer(sandboxId, {
        name: 'app',
        image: testImages.amd64,
        // About 100 MB in a shell variable against a 16 MiB limit (no swap: MemorySwap = Memory).
        command: ['sh', '-c', 'x=$(head -c 100000000 /dev/zero | tr "\\0" a); echo ${#x}'],
        env: [],
        mounts: [],
        resources: { memoryLimitBytes: 16 * 1024 * 1024 },
        attempt: 0,
        tty: false,
        stdin: false,
      });
      await runtime.startContainer(id);
      let state = (await runtime.containerStatus(id)).state;
      for (let i = 0; i < 600 && state.kind !== 'terminated'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        state = (await runtime.containerStatus(id)).state;
      }
      assert.equal(state.kind, 'terminated');
      assert.equal(state.kind === 'terminated' && state.reason, 'OOMKilled');
      assert.equal(state.kind === 'terminated' && state.exitCode, 137);
    } finally {
      await runtime.removePodSandbox(sandboxId);
    }
  });

  test('per-pod usage from the engine: a busy container near its CPU limit, an idle one near zero', async () => {
    const runtime = await newRuntime(`docker-${run}-metrics`);
    const pod = { uid: randomUUID(), namespace: 'default', name: 'measured' };
    const sandboxId = await runtime.runPodSandbox({ pod, hostname: 'measured', ports: [], attempt: 0 });
    try {
      const base = { image: testImages.amd64, env: [], mounts: [], attempt: 0, tty: false, stdin: false };
      const busy = await runtime.createContainer(sandboxId, { ...base, name: 'busy', command: ['sh', '-c', 'while :; do :; done'], resources: { cpuLimitMillicores: 500 } });
      const idle = await runtime.createContainer(sandboxId, { ...base, name: 'idle', command: ['sleep', '3600'], resources: {} });
      await runtime.startContainer(busy);
      await runtime.startContainer(idle);
      const sampler = new PodMetricsSampler(runtime);
      assert.deepEqual(await sampler.sample(), [], 'no rate from a single reading');
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const [measured] = (await sampler.sample()).filter((p) => p.podUid === pod.uid);
      assert.ok(measured, 'the pod is reported');
      assert.deepEqual(measured.containers.map((c) => c.name), ['busy', 'idle']);
      const [busyUsage, idleUsage] = measured.containers;
      assert.ok((busyUsage?.cpuUsageNanocores ?? 0) > 0.05e9, `busy uses CPU: ${busyUsage?.cpuUsageNanocores}`);
      // CFS quota holds the busy loop to half a core over the window (margin for the reading skew).
      assert.ok((busyUsage?.cpuUsageNanocores ?? 0) <= 0.5e9 * 1.5, `busy held by its limit: ${busyUsage?.cpuUsageNanocores}`);
      assert.ok((idleUsage?.cpuUsageNanocores ?? 1e9) < 0.05e9, `idle is idle: ${idleUsage?.cpuUsageNanocores}`);
      assert.ok(measured.containers.every((c) => c.memoryWorkingSetBytes > 0));
    } finally {
      await runtime.removePodSandbox(sandboxId);
    }
  });

  test('a hostPort published on the sandbox reaches the pod over loopback', async () => {
    const runtime = await newRuntime(`docker-${run}-hostport`);
    const hostPort = await freePort();
    const pod = { uid: randomUUID(), namespace: 'default', name: 'served' };
    const sandboxId = await runtime.runPodSandbox({
      pod,
      hostname: 'served',
      ports: [{ containerPort: 8080, hostPort, hostIP: '127.0.0.1', protocol: 'TCP' }],
      attempt: 0,
    });
    try {
      const id = await runtime.createContainer(sandboxId, {
        name: 'web',
        image: testImages.amd64,
        command: ['sh', '-c', 'mkdir -p /www && echo served-through-hostport > /www/index.html && exec httpd -f -p 8080 -h /www'],
        env: [],
        mounts: [],
        resources: {},
        attempt: 0,
        tty: false,
        stdin: false,
      });
      await runtime.startContainer(id);
      let body = '';
      for (let i = 0; i < 100 && body === ''; i++) {
        body = await fetch(`http://127.0.0.1:${hostPort}/index.html`).then((r) => (r.ok ? r.text() : ''), () => '');
        if (body === '') await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.equal(body, 'served-through-hostport\n');
    } finally {
      await runtime.removePodSandbox(sandboxId);
    }
  });

  test('the pause sandbox stops at once on SIGTERM (it has a handler) instead of waiting for SIGKILL', async () => {
    const runtime = await newRuntime(`docker-${run}-pause`);
    const pod = { uid: randomUUID(), namespace: 'default', name: 'paused' };
    const sandboxId = await runtime.runPodSandbox({ pod, hostname: 'paused', ports: [], attempt: 0 });
    try {
      await runtime.stopPodSandbox(sandboxId, 60);
      const state = (await engine.getContainer(sandboxId).inspect()).State;
      assert.equal(state.ExitCode, 0, 'exit 0 from the trap, not 137 from SIGKILL');
    } finally {
      await runtime.removePodSandbox(sandboxId);
    }
  });

  test('a dynamically linked or foreign busybox is refused for the pause image with the fix', async () => {
    await assert.rejects(buildPauseImage(await readFile(process.execPath), { os: 'linux', architecture: 'amd64' }, process.execPath), /dynamically linked.*busybox-static/);
    const arm64Busybox = await readFile(join(busyboxCacheDir(), 'arm64', 'bin', 'busybox'));
    await assert.rejects(buildPauseImage(arm64Busybox, { os: 'linux', architecture: 'amd64' }), /not amd64/);
    await assert.rejects(buildPauseImage(Buffer.from('#!/bin/sh\n'.padEnd(80, ' ')), { os: 'linux', architecture: 'amd64' }), /not an ELF/);
  });

  test('an invalid node name is refused before anything is created', async () => {
    await assert.rejects(DockerRuntime.create({ docker: engine, nodeName: 'Bad_Name' }), /invalid node name "Bad_Name"/);
  });
});
