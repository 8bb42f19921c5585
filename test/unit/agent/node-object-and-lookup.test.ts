import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NodeFacts } from '../../../src/agent/node-info.ts';
import { buildNodeObject, nodeObjectChanged } from '../../../src/agent/node-object.ts';
import { ContainerLookupError, findPodContainer } from '../../../src/agent/pods/container-lookup.ts';
import type { Pod } from '../../../src/client/index.ts';
import { SimEngine, SimRuntime } from '../../../src/agent/runtime/sim-runtime.ts';

const facts: NodeFacts = {
  capacity: { cpu: '4', memory: '3884096Ki', pods: '110' },
  allocatable: { cpu: '4', memory: '3621952Ki', pods: '110' },
  nodeInfo: { architecture: 'arm64', operatingSystem: 'linux', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.6.51+rpt-rpi-v8', containerRuntimeVersion: 'docker://28.2.2', kubeletVersion: 'v1.32.0-bramble', machineID: 'm', bootID: 'b', systemUUID: 'm' },
  labels: { 'kubernetes.io/arch': 'arm64', 'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': 'pi-1' },
  boardModel: 'Raspberry Pi 4 Model B Rev 1.4',
};
const ready = { type: 'Ready', status: 'True' as const, reason: 'KubeletReady', message: 'bramble agent is posting ready status' };
const cool = { type: 'ThermalThrottling', status: 'False' as const, reason: 'TemperatureNormal', message: 'thermal_zone0 at 45.0 °C' };

test('the Node object changes only when a fact or condition does, keeping transition times', () => {
  const first = buildNodeObject({ nodeName: 'pi-1', facts, conditions: [ready, cool], internalIP: '192.168.1.21', nowMs: Date.parse('2026-01-01T00:00:00Z') });
  assert.equal(first.metadata.labels['kubernetes.io/arch'], 'arm64');
  assert.equal(first.metadata.annotations?.['bramble.io/board-model'], 'Raspberry Pi 4 Model B Rev 1.4');
  assert.deepEqual(first.status.addresses, [{ type: 'InternalIP', address: '192.168.1.21' }, { type: 'Hostname', address: 'pi-1' }]);
  const same = buildNodeObject({ nodeName: 'pi-1', facts, conditions: [ready, cool], internalIP: '192.168.1.21', nowMs: Date.parse('2026-01-01T00:05:00Z'), previous: first });
  assert.equal(nodeObjectChanged(first, same), false, 'nothing to write for an unchanged node');
  const hot = { ...cool, status: 'True' as const, reason: 'TemperatureHigh', message: 'thermal_zone0 at 83.0 °C' };
  const changed = buildNodeObject({ nodeName: 'pi-1', facts, conditions: [ready, hot], internalIP: '192.168.1.21', nowMs: Date.parse('2026-01-01T00:10:00Z'), previous: same });
  assert.equal(nodeObjectChanged(same, changed), true);
  assert.equal(changed.status.conditions[0]?.lastTransitionTime, '2026-01-01T00:00:00Z', 'Ready did not change');
  assert.equal(changed.status.conditions[1]?.lastTransitionTime, '2026-01-01T00:10:00Z');
  assert.equal(nodeObjectChanged(null, first), true);
});

test('logs/exec container lookup answers like Kubernetes', async () => {
  const engine = new SimEngine();
  engine.loadImage('sim/busybox:1', { os: 'linux', architecture: 'amd64' });
  const runtime = new SimRuntime({ engine, nodeName: 'pi-1' });
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', uid: 'uid-web' },
    spec: { containers: [{ name: 'app', image: 'sim/busybox:1' }, { name: 'sidecar', image: 'sim/busybox:1' }] },
    status: { phase: 'Pending', conditions: [], initContainerStatuses: [], containerStatuses: [{ name: 'sidecar', state: { waiting: { reason: 'ErrImageNeverPull' } }, lastState: {}, ready: false, started: false, restartCount: 0, image: 'x', imageID: '' }] },
  };
  const sandbox = await runtime.runPodSandbox({ pod: { uid: 'uid-web', namespace: 'default', name: 'web' }, hostname: 'web', ports: [], attempt: 0 });
  const base = { name: 'app', image: 'sim/busybox:1', env: [], mounts: [], resources: {}, tty: false, stdin: false };
  const first = await runtime.createContainer(sandbox, { ...base, command: ['echo', 'one'], attempt: 0 });
  const second = await runtime.createContainer(sandbox, { ...base, command: ['echo', 'two'], attempt: 1 });

  assert.equal((await findPodContainer(runtime, pod, 'app', { previous: false })).id, second);
  assert.equal((await findPodContainer(runtime, pod, 'app', { previous: true })).id, first);
  // In a back-off the crashed attempt is lastState (and the only one container GC keeps): --previous shows it.
  const backingOff: Pod = {
    ...pod,
    status: { phase: 'Running', conditions: [], initContainerStatuses: [], containerStatuses: [
      { name: 'app', state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: '2026-01-01T00:00:00Z', containerID: `sim://${second}` } }, ready: false, started: false, restartCount: 1, image: 'x', imageID: '' },
    ] },
  };
  assert.equal((await findPodContainer(runtime, backingOff, 'app', { previous: true })).id, second);
  const refused = async (name: string | undefined, previous: boolean, message: string) =>
    assert.rejects(findPodContainer(runtime, pod, name, { previous }), (error: unknown) => {
      assert.ok(error instanceof ContainerLookupError);
      assert.equal(error.statusCode, 400);
      assert.equal(error.message, message);
      return true;
    });
  await refused(undefined, false, 'a container name must be specified for pod web, choose one of: [app sidecar]');
  await refused('db', false, 'container db is not valid for pod web');
  await refused('sidecar', false, 'container "sidecar" in pod "web" is waiting to start: ErrImageNeverPull');
  await refused('sidecar', true, 'previous terminated container "sidecar" in pod "web" not found');
  await runtime.removePodSandbox(sandbox);
});
