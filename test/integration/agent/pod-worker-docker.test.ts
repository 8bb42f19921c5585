import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { after, describe, test } from 'node:test';
import { RestartBackoff } from '../../../src/agent/pods/backoff.ts';
import { staticConfigSource } from '../../../src/agent/pods/config-sources.ts';
import type { Container, Pod } from '../../../src/client/index.ts';
import { PodWorker, type ReportedPodStatus } from '../../../src/agent/pods/pod-worker.ts';
import { removePodData } from '../../../src/agent/pods/volumes.ts';
import { findPodContainer } from '../../../src/agent/pods/container-lookup.ts';
import { labels } from '../../../src/agent/runtime/labels.ts';
import { DockerRuntime } from '../../../src/agent/runtime/docker-runtime.ts';
import type { RunnablePlatform } from '../../../src/agent/runtime/platforms.ts';
import type { Runtime } from '../../../src/agent/runtime/runtime.ts';
import { testImages } from '../../lib/images.ts';
import { freePort } from '../../lib/ports.ts';
import { AgentDockerScope, engine } from './docker-agent-scope.ts';

const scope = new AgentDockerScope();
const dataDirs: string[] = [];

function newRuntime(suffix: string, runnablePlatforms?: RunnablePlatform[]): Promise<DockerRuntime> {
  return scope.runtime(scope.nodeName(`podworker-${suffix}`), runnablePlatforms ? { runnablePlatforms } : {});
}

async function newDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bramble-agent-data-'));
  dataDirs.push(dir);
  return dir;
}

// Every container of this file's nodes and its pause image are removed by id, whatever happened.
after(async () => {
  await scope.cleanup();
  for (const dir of dataDirs) {
    // removePodData unmounts memory emptyDirs a failed test left mounted.
    for (const uid of await readdir(join(dir, 'pods')).catch(() => [] as string[])) await removePodData(dir, uid).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
});

function podOf(name: string, containers: Container[], extra: Partial<Pod['spec']> = {}): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: randomUUID(), labels: { app: name } }, spec: { containers, terminationGracePeriodSeconds: 5, ...extra } };
}

async function syncUntil(worker: PodWorker, pod: Pod, what: string, done: (status: ReportedPodStatus) => boolean, timeoutMs = 60_000): Promise<ReportedPodStatus> {
  const deadline = Date.now() + timeoutMs;
  let status = await worker.sync(pod);
  while (!done(status)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last status: ${JSON.stringify(status, null, 1)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    status = await worker.sync(pod);
    pod.status = status;
  }
  pod.status = status;
  return status;
}

async function execText(runtime: Runtime, containerId: string, command: string[]): Promise<string> {
  const session = await runtime.exec(containerId, { command, stdin: false, tty: false });
  const [out, err] = await Promise.all([text(session.stdout), session.stderr ? text(session.stderr) : Promise.resolve('')]);
  const code = await session.exitCode();
  if (code !== 0) throw new Error(`${command.join(' ')} exited ${code}: ${err}`);
  return out;
}

const idOf = (status: ReportedPodStatus, name: string) => (status.containerStatuses.find((c) => c.name === name)?.containerID ?? '').replace('docker://', '');
const sleeper = (name: string): Container => ({ name, image: testImages.amd64, command: ['sleep', '3600'] });

describe('PodWorker on the real Docker engine', () => {
  test('a two-container pod: localhost between them, env and files from a ConfigMap and a Secret, updates reach the files; both containers see the pod\'s resolv.conf', async () => {
    const runtime = await newRuntime('config');
    const configMaps: Record<string, Record<string, string>> = { 'default/settings': { GREETING: 'hello', 'app.conf': 'level=1\n' } };
    const secrets = { 'default/credentials': { password: Buffer.from('s3cret') } };
    const dns = { cluster: () => ({ nameserver: '10.43.0.10', domain: 'cluster.local' }), host: () => Promise.resolve({ nameservers: ['192.0.2.53'], searches: ['lan'], options: [] }) };
    const worker = new PodWorker({ runtime, hostIP: '127.0.0.1', dataDir: await newDataDir(), configSource: staticConfigSource({ configMaps, secrets }), dns });
    const pod = podOf(
      'web',
      [
        { name: 'server', image: testImages.amd64, command: ['sh', '-c', 'mkdir -p /www && echo "$GREETING from $POD_NAME" > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www'],
          env: [
            { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'settings', key: 'GREETING' } } },
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          ] },
        { ...sleeper('client'),
          env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'credentials', key: 'password' } } }],
          volumeMounts: [{ name: 'config', mountPath: '/etc/app' }, { name: 'secret', mountPath: '/etc/secret' }] },
      ],
      { volumes: [{ name: 'config', configMap: { name: 'settings' } }, { name: 'secret', secret: { secretName: 'credentials' } }],
        dnsConfig: { searches: ['example.test'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] } },
    );
    const status = await syncUntil(worker, pod, 'both containers running', (s) => s.phase === 'Running' && s.containerStatuses.every((c) => c.ready));
    assert.deepEqual(status.conditions.map((c) => [c.type, c.status]), [['PodScheduled', 'True'], ['Initialized', 'True'], ['ContainersReady', 'True'], ['Ready', 'True']]);
    assert.match(status.podIP ?? '', /^\d+\.\d+\.\d+\.\d+$/);
    const client = idOf(status, 'client');
    let body = '';
    for (let i = 0; i < 100 && !body; i++) {
      body = await execText(runtime, client, ['wget', '-qO-', 'http://127.0.0.1:8080/index.html']).catch(() => '');
      if (!body) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(body, 'hello from web\n');
    assert.equal(await execText(runtime, client, ['sh', '-c', 'echo "$PASSWORD"']), 's3cret\n');
    assert.equal(await execText(runtime, client, ['cat', '/etc/app/app.conf']), 'level=1\n');
    assert.equal(await execText(runtime, client, ['cat', '/etc/secret/password']), 's3cret');
    assert.equal((await execText(runtime, client, ['stat', '-L', '-c', '%a', '/etc/secret/password'])).trim(), '400');
    assert.equal((await execText(runtime, client, ['stat', '-L', '-c', '%a', '/etc/app/app.conf'])).trim(), '644');
    const resolvConf = 'nameserver 10.43.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local lan example.test\noptions ndots:2 edns0\n';
    assert.equal(await execText(runtime, client, ['cat', '/etc/resolv.conf']), resolvConf, 'ClusterFirst with the pod\'s dnsConfig merged');
    assert.equal(await execText(runtime, idOf(status, 'server'), ['cat', '/etc/resolv.conf']), resolvConf, 'the pod\'s containers share it');

    configMaps['default/settings'] = { GREETING: 'hello', 'app.conf': 'level=2\n' };
    await worker.sync(pod);
    assert.equal(await execText(runtime, client, ['cat', '/etc/app/app.conf']), 'level=2\n', 'the running container sees the new ConfigMap');
    assert.equal(idOf(await worker.sync(pod), 'client'), client, 'a config update does not restart the container');
    await worker.kill(pod.metadata.uid, 0);
  });

  test('a crash-looping container restarts once at once, then backs off (CrashLoopBackOff) with lastState and previous logs', async () => {
    const runtime = await newRuntime('crash');
    // A long first back-off: after the immediate restart the next crash must wait, whatever the machine's speed.
    const worker = new PodWorker({ runtime, hostIP: '127.0.0.1', dataDir: await newDataDir(), configSource: staticConfigSource({}), backoff: new RestartBackoff(600_000, 600_000) });
    const pod = podOf('crasher', [{ name: 'app', image: testImages.amd64, command: ['sh', '-c', 'echo "crashing now"; exit 3'] }]);
    const status = await syncUntil(worker, pod, 'CrashLoopBackOff', (s) => {
      const state = s.containerStatuses[0]?.state;
      return Boolean(state && 'waiting' in state && state.waiting.reason === 'CrashLoopBackOff');
    });
    const app = status.containerStatuses[0];
    assert.equal(status.phase, 'Running', 'a restarting pod is Running, as in Kubernetes');
    assert.equal(app?.restartCount, 1);
    assert.equal(app?.ready, false);
    assert.ok(app && 'terminated' in app.lastState && app.lastState.terminated.exitCode === 3 && app.lastState.terminated.reason === 'Error');
    assert.match(JSON.stringify(app?.state), /back-off 600s restarting failed container=app pod=crasher_default/);
    const attempts = await runtime.listContainers({ podUid: pod.metadata.uid });
    // Attempt 0 is still there unless a sync after the second crash collected it (container GC).
    assert.equal(Math.max(...attempts.map((c) => c.attempt)), 1, 'no third attempt while backing off');
    for (const attempt of attempts) assert.equal(await text(await runtime.logs(attempt.id, { follow: false, timestamps: false })), 'crashing now\n');
    await worker.kill(pod.metadata.uid, 0);
  });

  test('container GC: a container that exits at once restarts many times and the engine holds only its sandbox and the last two attempts; killed sandboxes do not pile up', async () => {
    const runtime = await newRuntime('gc');
    // A 1 ms back-off: the container restarts at every sync, the fastest a crash loop can grow.
    const worker = new PodWorker({ runtime, hostIP: '127.0.0.1', dataDir: await newDataDir(), configSource: staticConfigSource({}), backoff: new RestartBackoff(1, 1) });
    // Counted through the engine itself by the pod's label, not through the runtime under test.
    const held = async (pod: Pod, role: 'sandbox' | 'container') =>
      (await engine.listContainers({ all: true, filters: { label: [`${labels.podUid}=${pod.metadata.uid}`, `${labels.role}=${role}`] } })).length;
    const flapper = podOf('flapper', [{ name: 'app', image: testImages.amd64, command: ['sh', '-c', 'echo "attempt ran"; exit 1'] }]);
    let most = 0;
    let restarts = 0;
    const deadline = Date.now() + 120_000;
    while (restarts < 12) {
      if (Date.now() > deadline) throw new Error(`timed out after ${restarts} restarts`);
      const status = await worker.sync(flapper);
      flapper.status = status;
      restarts = status.containerStatuses[0]?.restartCount ?? 0;
      most = Math.max(most, (await held(flapper, 'container')) + (await held(flapper, 'sandbox')));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(most <= 3, `at most the sandbox, the current and the previous attempt at any time (saw ${most} containers)`);
    const previous = await findPodContainer(runtime, flapper, 'app', { previous: true });
    assert.equal(previous.attempt, restarts - 1, 'kubectl logs --previous still finds the attempt before the current one');
    assert.equal(await text(await runtime.logs(previous.id, { follow: false, timestamps: false })), 'attempt ran\n');
    await worker.kill(flapper.metadata.uid, 0);

    const steady = podOf('steady', [sleeper('app')], { terminationGracePeriodSeconds: 0 });
    let sandboxId = '';
    for (let kill = 0; kill < 4; kill++) {
      if (sandboxId) await engine.getContainer(sandboxId).kill();
      const status = await syncUntil(worker, steady, 'running in a new sandbox', (s) => s.phase === 'Running' && s.containerStatuses[0]?.ready === true && s.containerStatuses[0].restartCount === kill);
      const sandboxes = await runtime.listPodSandboxes({ podUid: steady.metadata.uid });
      sandboxId = sandboxes.find((s) => s.state === 'ready')?.id ?? '';
      assert.ok(status.podIP);
    }
    assert.ok((await held(steady, 'sandbox')) <= 2, 'the current sandbox and at most the one holding the previous attempt');
    assert.ok((await held(steady, 'container')) <= 2, 'the current and the previous attempt');
    await worker.kill(steady.metadata.uid, 0);
  });

  test('init containers run first and in order; restartPolicy Never fails the pod, OnFailure succeeds it', async () => {
    const runtime = await newRuntime('init');
    const worker = new PodWorker({ runtime, hostIP: '127.0.0.1', dataDir: await newDataDir(), configSource: staticConfigSource({}) });
    const pod = podOf(
      'staged',
      [{ name: 'app', image: testImages.amd64, command: ['cat', '/work/steps'], volumeMounts: [{ name: 'work', mountPath: '/work' }] }],
      {
        restartPolicy: 'OnFailure',
        volumes: [{ name: 'work', emptyDir: {} }],
        initContainers: [
          { name: 'first', image: testImages.amd64, command: ['sh', '-c', 'echo first >> /work/steps'], volumeMounts: [{ name: 'work', mountPath: '/work' }] },
          { name: 'second', image: testImages.amd64, command: ['sh', '-c', 'echo second >> /work/steps'], volumeMounts: [{ name: 'work', mountPath: '/work' }] },
        ],
      },
    );
    const done = await syncUntil(worker, pod, 'Succeeded', (s) => s.phase === 'Succeeded');
    assert.deepEqual(done.initContainerStatuses.map((c) => 'terminated' in c.state && c.state.terminated.reason), ['Completed', 'Completed']);
    assert.equal(await text(await runtime.logs(idOf(done, 'app'), { follow: false, timestamps: false })), 'first\nsecond\n');
    assert.equal((await runtime.listPodSandboxes({ podUid: pod.metadata.uid }))[0]?.state, 'notready', 'a finished pod gives up its sandbox');

    const failing = podOf('fails', [{ name: 'app', image: testImages.amd64, command: ['false'] }], { restartPolicy: 'Never' });
    const failed = await syncUntil(worker, failing, 'Failed', (s) => s.phase === 'Failed');
    assert.equal(failed.containerStatuses[0]?.restartCount, 0);
    assert.ok(failed.containerStatuses[0] && 'terminated' in failed.containerStatuses[0].state);
    await worker.kill(pod.metadata.uid, 0);
    await worker.kill(failing.metadata.uid, 0);
  });

  test('graceful deletion: SIGTERM, the process cleans up within the grace period, then everything of the pod is gone', async () => {
    const runtime = await newRuntime('delete');
    const dataDir = await newDataDir();
    const worker = new PodWorker({ runtime, hostIP: '127.0.0.1', dataDir, configSource: staticConfigSource({}) });
    const pod = podOf('polite', [
      { name: 'app', image: testImages.amd64, command: ['sh', '-c', "trap 'echo bye > /scratch/bye; exit 0' TERM; while :; do sleep 1 & wait $!; done"], volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }] },
    ], { volumes: [{ name: 'scratch', emptyDir: {} }] });
    const status = await syncUntil(worker, pod, 'running', (s) => s.phase === 'Running' && s.containerStatuses.every((c) => c.ready));
    const id = idOf(status, 'app');
    assert.ok(existsSync(join(dataDir, 'pods', pod.metadata.uid, 'volumes', 'scratch')));
    const finished = new Promise<number>((resolve) => {
      void engine.getContainer(id).wait().then((result: { StatusCode: number }) => resolve(result.StatusCode));
    });
    await worker.kill(pod.metadata.uid, 20);
    assert.equal(await finished, 0, 'the trap ran: exit 0, not 137');
    assert.deepEqual(await runtime.listContainers({ podUid: pod.metadata.uid }), []);
    assert.deepEqual(await runtime.listPodSandboxes({ podUid: pod.metadata.uid }), []);
    assert.equal(existsSync(join(dataDir, 'pods', pod.metadata.uid)), false, 'the pod directory is removed');
  });

  test('an emptyDir with medium Memory is a tmpfs on the node shared by the containers, unmounted with the pod', async () => {
    const runtime = await newRuntime('memory');
    const dataDir = await newDataDir();
    const worker = new PodWorker({ runtime, hostIP: '127.0.0.1', dataDir, configSource: staticConfigSource({}) });
    const mount = [{ name: 'cache', mountPath: '/cache' }];
    const pod = podOf('ram', [
      { ...sleeper('writer'), volumeMounts: mount },
      { ...sleeper('reader'), volumeMounts: mount },
    ], { volumes: [{ name: 'cache', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } }] });
    const status = await syncUntil(worker, pod, 'running', (s) => s.phase === 'Running' && s.containerStatuses.every((c) => c.ready));
    const hostDir = join(dataDir, 'pods', pod.metadata.uid, 'volumes', 'cache');
    const mountLine = (await readFile('/proc/mounts', 'utf8')).split('\n').find((line) => line.split(' ')[1] === hostDir);
    assert.match(mountLine ?? '', /^tmpfs .* tmpfs .*size=8192k/, 'a tmpfs of the requested size on the node');
    await execText(runtime, idOf(status, 'writer'), ['sh', '-c', 'echo in-ram > /cache/note']);
    assert.equal(await execText(runtime, idOf(status, 'reader'), ['cat', '/cache/note']), 'in-ram\n');
    await worker.kill(pod.metadata.uid, 0);
    assert.equal((await readFile('/proc/mounts', 'utf8')).includes(hostDir), false, 'unmounted');
    assert.equal(existsSync(hostDir), false);
  });

  test('probes: a failing liveness probe restarts the container; readiness (httpGet, tcpSocket) drives Ready; an invalid probe is refused', async () => {
    const runtime = await newRuntime('probes');
    const worker = new PodWorker({ runtime, hostIP: '127.0.0.1', dataDir: await newDataDir(), configSource: staticConfigSource({}) });
    const live = podOf('live', [{
      name: 'app',
      image: testImages.amd64,
      command: ['sh', '-c', "touch /tmp/healthy; trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done"],
      livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 1, failureThreshold: 2 },
    }], { terminationGracePeriodSeconds: 2 });
    const healthy = await syncUntil(worker, live, 'running', (s) => s.containerStatuses.every((c) => c.ready));
    const firstId = idOf(healthy, 'app');
    await execText(runtime, firstId, ['rm', '/tmp/healthy']);
    const restarted = await syncUntil(worker, live, 'a restart after the liveness probe failed', (s) => s.containerStatuses[0]?.restartCount === 1 && s.containerStatuses[0].ready);
    assert.notEqual(idOf(restarted, 'app'), firstId);
    assert.ok(restarted.containerStatuses[0] && 'terminated' in restarted.containerStatuses[0].lastState, 'the killed attempt is lastState');

    const gated = podOf('gated', [{
      name: 'web',
      image: testImages.amd64,
      command: ['sh', '-c', 'mkdir -p /www && exec httpd -f -p 8080 -h /www'],
      ports: [{ name: 'http', containerPort: 8080 }],
      readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 1 },
    }, {
      name: 'tcp',
      image: testImages.amd64,
      command: ['sleep', '3600'],
      readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
    }]);
    const notReady = await syncUntil(worker, gated, 'both running, web not ready', (s) => s.phase === 'Running' && s.containerStatuses.every((c) => c.started) && s.containerStatuses.find((c) => c.name === 'tcp')?.ready === true);
    assert.equal(notReady.containerStatuses.find((c) => c.name === 'web')?.ready, false, '404 on /ready');
    assert.deepEqual(notReady.conditions.find((c) => c.type === 'Ready'), { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [web]' });
    await execText(runtime, idOf(notReady, 'web'), ['sh', '-c', 'echo ok > /www/ready']);
    const ready = await syncUntil(worker, gated, 'web ready', (s) => s.conditions.find((c) => c.type === 'Ready')?.status === 'True');
    assert.ok(ready.containerStatuses.every((c) => c.ready && c.restartCount === 0), 'readiness never restarts');

    const invalid = podOf('invalid-probe', [{ ...sleeper('app'), livenessProbe: { exec: { command: ['true'] }, tcpSocket: { port: 1 } } }]);
    const refused = await worker.sync(invalid);
    assert.deepEqual(refused.containerStatuses[0]?.state, { waiting: { reason: 'CreateContainerConfigError', message: 'livenessProbe of container "app" must have exactly one of exec, httpGet or tcpSocket (it has 2)' } });
    for (const pod of [live, gated, invalid]) await worker.kill(pod.metadata.uid, 0);
  });

  test('an agent restart keeps containers running; pods deleted while it was down are removed', async () => {
    const first = await newRuntime('restart');
    const dataDir = await newDataDir();
    const before = new PodWorker({ runtime: first, hostIP: '127.0.0.1', dataDir, configSource: staticConfigSource({}) });
    const kept = podOf('kept', [sleeper('app')]);
    const deleted = podOf('deleted', [sleeper('app')]);
    const keptStatus = await syncUntil(before, kept, 'kept running', (s) => s.phase === 'Running' && s.containerStatuses.every((c) => c.ready));
    await syncUntil(before, deleted, 'deleted running', (s) => s.phase === 'Running' && s.containerStatuses.every((c) => c.ready));

    const restarted = await scope.runtime(first.nodeName);
    const after = new PodWorker({ runtime: restarted, hostIP: '127.0.0.1', dataDir, configSource: staticConfigSource({}) });
    assert.deepEqual(await after.removeOrphans(new Set([kept.metadata.uid]), 0), [deleted.metadata.uid]);
    const again = await after.sync(kept);
    assert.equal(idOf(again, 'app'), idOf(keptStatus, 'app'), 'same container');
    assert.deepEqual(again.containerStatuses[0]?.state, keptStatus.containerStatuses[0]?.state, 'same start time: not restarted');
    assert.equal(again.containerStatuses[0]?.restartCount, 0);
    assert.deepEqual(await restarted.listContainers({ podUid: deleted.metadata.uid }), []);
    await after.kill(kept.metadata.uid, 0);
  });

  test('bad input waits with a clear reason: missing ConfigMap (then created), wrong-arch image, hostPort in use', async () => {
    const runtime = await newRuntime('bad', [{ architecture: 'amd64', variants: [], emulated: false }]);
    const configMaps: Record<string, Record<string, string>> = {};
    const worker = new PodWorker({ runtime, hostIP: '127.0.0.1', dataDir: await newDataDir(), configSource: staticConfigSource({ configMaps }) });

    const needsConfig = podOf('needs-config', [{ ...sleeper('app'), envFrom: [{ configMapRef: { name: 'later' } }] }]);
    const waiting = await worker.sync(needsConfig);
    assert.equal(waiting.phase, 'Pending');
    assert.deepEqual(waiting.containerStatuses[0]?.state, { waiting: { reason: 'CreateContainerConfigError', message: 'configmap "later" not found in namespace default: create it or mark the reference optional' } });
    configMaps['default/later'] = { MODE: 'on' };
    await syncUntil(worker, needsConfig, 'running once the ConfigMap exists', (s) => s.phase === 'Running' && s.containerStatuses.every((c) => c.ready));

    const arm = podOf('arm-only', [{ name: 'app', image: testImages.arm64, command: ['uname', '-m'] }]);
    const mismatch = await worker.sync(arm);
    const state = mismatch.containerStatuses[0]?.state;
    assert.ok(state && 'waiting' in state && state.waiting.reason === 'ImageArchitectureMismatch', JSON.stringify(state));
    assert.match(state.waiting.message ?? '', /is linux\/arm64\/v8 but node .* runs linux\/amd64/);
    assert.deepEqual(await runtime.listContainers({ podUid: arm.metadata.uid }), [], 'no container that would die with exec format error');

    // A real listener on the node's loopback holds the port.
    const hostPort = await freePort();
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(hostPort, '127.0.0.1', resolve));
    try {
      const clash = podOf('clash', [{ ...sleeper('app'), ports: [{ containerPort: 80, hostPort, hostIP: '127.0.0.1' }] }]);
      const blocked = await worker.sync(clash);
      const blockedState = blocked.containerStatuses[0]?.state;
      assert.ok(blockedState && 'waiting' in blockedState && blockedState.waiting.reason === 'CreatePodSandboxError', JSON.stringify(blockedState));
      assert.match(blockedState.waiting.message ?? '', new RegExp(`hostPort ${hostPort}/TCP is already in use`));
      assert.deepEqual(await runtime.listPodSandboxes({ podUid: clash.metadata.uid }), []);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
    await worker.kill(needsConfig.metadata.uid, 0);
    await worker.kill(arm.metadata.uid, 0);
  });
});
