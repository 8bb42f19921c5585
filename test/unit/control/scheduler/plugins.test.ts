// One test per filter and score plugin, on hand-built cluster states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostPortsFree, imageArchitecture, nodeRunsPlatform, interPodAffinity, nodeAffinity, podTopologySpread, prepare, resourcesFit, taintToleration, nodeReady, IMAGE_PLATFORMS_ANNOTATION, type Filter } from '../../../../src/control/scheduler/filters.ts';
import { leastAllocated, ownerSpread, preferredNodeAffinity, preferredPodAntiAffinity } from '../../../../src/control/scheduler/scores.ts';
import { schedule } from '../../../../src/control/scheduler/schedule.ts';
import { ClusterState } from '../../../../src/control/scheduler/state.ts';
import type { SchedNode, SchedPod } from '../../../../src/control/scheduler/state.ts';
import { pod } from '../../../lib/objects.ts';

function node(name: string, labels: Record<string, string> = {}, extra: Partial<SchedNode> = {}): SchedNode {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels }, ...(extra.metadata ?? {}) },
    spec: extra.spec ?? {},
    status: { allocatable: { cpu: '4', memory: '4Gi', pods: '3' }, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}
function verdicts(filter: Filter, p: SchedPod, state: ClusterState): Record<string, string | undefined> {
  const ctx = prepare(p, state);
  return Object.fromEntries([...state.nodes.values()].map((info) => [info.name, filter(ctx, info, state)]));
}
function stateOf(nodes: SchedNode[], bound: Record<string, SchedPod[]> = {}): ClusterState {
  return ClusterState.fromSnapshot({ nodes, boundPods: bound });
}

test('nodeReady: not Ready and cordoned nodes are refused', () => {
  const down = node('down');
  down.status!.conditions = [{ type: 'Ready', status: 'Unknown' }];
  const s = stateOf([node('up'), down, node('cordoned', {}, { spec: { unschedulable: true } })]);
  assert.deepEqual(verdicts(nodeReady, pod('p'), s), { up: undefined, down: 'node(s) were not ready', cordoned: 'node(s) were unschedulable' });
});

test('nodeAffinity: nodeSelector, required terms (ORed, In/NotIn/Exists/Gt), matchFields metadata.name', () => {
  const s = stateOf([node('a', { 'kubernetes.io/arch': 'arm64', gen: '4' }), node('b', { 'kubernetes.io/arch': 'amd64', gen: '3' }), node('c', {})]);
  const miss = "node(s) didn't match Pod's node affinity/selector";
  assert.deepEqual(verdicts(nodeAffinity, pod('p', { spec: { nodeSelector: { 'kubernetes.io/arch': 'arm64' } } }), s), { a: undefined, b: miss, c: miss });
  const affinity = (terms: object[]) => pod('p', { spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms as never } } } } });
  assert.deepEqual(verdicts(nodeAffinity, affinity([{ matchExpressions: [{ key: 'gen', operator: 'Gt', values: ['3'] }] }, { matchExpressions: [{ key: 'gen', operator: 'DoesNotExist' }] }]), s), { a: undefined, b: miss, c: undefined });
  assert.deepEqual(verdicts(nodeAffinity, affinity([{ matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'NotIn', values: ['arm64'] }, { key: 'gen', operator: 'Exists' }] }]), s), { a: miss, b: undefined, c: miss });
  assert.deepEqual(verdicts(nodeAffinity, affinity([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['c'] }] }]), s), { a: miss, b: miss, c: undefined });
  assert.deepEqual(verdicts(nodeAffinity, affinity([]), s), { a: miss, b: miss, c: miss }, 'no terms matches nothing');
});

test('taintToleration: NoSchedule/NoExecute need a toleration, PreferNoSchedule does not', () => {
  const s = stateOf([node('t', {}, { spec: { taints: [{ key: 'gpu', value: 'x', effect: 'NoSchedule' }] } }), node('soft', {}, { spec: { taints: [{ key: 'k', effect: 'PreferNoSchedule' }] } })]);
  assert.deepEqual(verdicts(taintToleration, pod('p'), s), { t: 'node(s) had untolerated taint {gpu: x}', soft: undefined });
  assert.deepEqual(verdicts(taintToleration, pod('p', { spec: { tolerations: [{ key: 'gpu', operator: 'Equal', value: 'x' }] } }), s), { t: undefined, soft: undefined });
  assert.deepEqual(verdicts(taintToleration, pod('p', { spec: { tolerations: [{ operator: 'Exists' }] } }), s), { t: undefined, soft: undefined });
  assert.deepEqual(verdicts(taintToleration, pod('p', { spec: { tolerations: [{ key: 'gpu', operator: 'Equal', value: 'y' }] } }), s).t, 'node(s) had untolerated taint {gpu: x}');
});

test('imageArchitecture: an image reported arm64-only fits only arm64 nodes; unknown images fit anywhere', () => {
  const platforms = JSON.stringify({ 'pi/app:1': ['linux/arm64'] });
  const s = stateOf([node('arm', { 'kubernetes.io/arch': 'arm64' }, { metadata: { name: 'arm', annotations: { [IMAGE_PLATFORMS_ANNOTATION]: platforms } } }), node('x86', { 'kubernetes.io/arch': 'amd64' })]);
  assert.deepEqual(verdicts(imageArchitecture, pod('p', { spec: { containers: [{ name: 'c', image: 'pi/app:1' }] } }), s), { arm: undefined, x86: "node(s) didn't match image architecture (arm64)" });
  assert.deepEqual(verdicts(imageArchitecture, pod('p', { spec: { containers: [{ name: 'c', image: 'other' }] } }), s), { arm: undefined, x86: undefined });
});

test('imageArchitecture: a Node updated with another image list is read again; junk annotations tell nothing', () => {
  const listing = (platforms: Record<string, string[]>) => node('arm', { 'kubernetes.io/arch': 'arm64' }, { metadata: { name: 'arm', annotations: { [IMAGE_PLATFORMS_ANNOTATION]: JSON.stringify(platforms) } } });
  const s = stateOf([listing({ 'pi/app:1': ['linux/arm64'] }), node('x86', { 'kubernetes.io/arch': 'amd64' })]);
  const p = pod('p', { spec: { containers: [{ name: 'c', image: 'pi/app:1' }] } });
  assert.equal(verdicts(imageArchitecture, p, s).x86, "node(s) didn't match image architecture (arm64)");
  s.setNode(listing({ 'pi/app:1': ['linux/arm64', 'linux/amd64'] }));
  assert.equal(verdicts(imageArchitecture, p, s).x86, undefined, 'the new object is parsed, not the cached old one');
  for (const junk of ['not json', '[1,2]', '{"pi/app:1":"linux/arm64"}', 'null']) {
    s.setNode(node('arm', { 'kubernetes.io/arch': 'arm64' }, { metadata: { name: 'arm', annotations: { [IMAGE_PLATFORMS_ANNOTATION]: junk } } }));
    assert.deepEqual(verdicts(imageArchitecture, p, s), { arm: undefined, x86: undefined }, junk);
  }
});

test('imageArchitecture: 64-bit Pis take 32-bit arm images, armv7 takes armv6 but armv6 not armv7; init containers count', () => {
  const platforms = JSON.stringify({ 'app:v7': ['linux/arm/v7'], 'app:v6': ['linux/arm/v6'], 'tool:x86': ['linux/amd64'] });
  const s = stateOf([
    node('pi4', { 'kubernetes.io/arch': 'arm64', 'bramble.io/arch-variant': 'v8' }, { metadata: { name: 'pi4', annotations: { [IMAGE_PLATFORMS_ANNOTATION]: platforms } } }),
    node('pi3', { 'kubernetes.io/arch': 'arm', 'bramble.io/arch-variant': 'v7' }),
    node('zero', { 'kubernetes.io/arch': 'arm', 'bramble.io/arch-variant': 'v6' }),
    node('x86', { 'kubernetes.io/arch': 'amd64' }),
  ]);
  assert.deepEqual(verdicts(imageArchitecture, pod('p', { spec: { containers: [{ name: 'c', image: 'app:v7' }] } }), s), { pi4: undefined, pi3: undefined, zero: "node(s) didn't match image architecture (arm/v7)", x86: "node(s) didn't match image architecture (arm/v7)" });
  assert.deepEqual(verdicts(imageArchitecture, pod('p', { spec: { containers: [{ name: 'c', image: 'app:v6' }] } }), s), { pi4: undefined, pi3: undefined, zero: undefined, x86: "node(s) didn't match image architecture (arm/v6)" });
  const withInit = pod('p', { spec: { initContainers: [{ name: 'c', image: 'tool:x86' }], containers: [{ name: 'c', image: 'unknown' }] } });
  assert.deepEqual(verdicts(imageArchitecture, withInit, s), { pi4: "node(s) didn't match image architecture (amd64)", pi3: "node(s) didn't match image architecture (amd64)", zero: "node(s) didn't match image architecture (amd64)", x86: undefined });
  assert.equal(nodeRunsPlatform('windows/amd64', 'amd64', undefined), false);
});

test('hostPortsFree: one host port per protocol per node', () => {
  const withPort = (name: string, port: number, protocol: 'TCP' | 'UDP' = 'TCP') => pod(name, { spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80, hostPort: port, protocol }] }] } });
  const s = stateOf([node('a'), node('b')], { a: [withPort('q', 8080)] });
  assert.deepEqual(verdicts(hostPortsFree, withPort('p', 8080), s), { a: "node(s) didn't have free ports for the requested pod ports", b: undefined });
  assert.deepEqual(verdicts(hostPortsFree, withPort('p', 8080, 'UDP'), s), { a: undefined, b: undefined });
});

test('resourcesFit: cpu, memory and pod count against allocatable minus bound pods', () => {
  const req = (name: string, cpu: string, memory = '0') => pod(name, { requests: { cpu, memory } });
  const s = stateOf([node('a'), node('b'), node('c')], { a: [req('x', '3500m')], b: [req('y', '0', '3584Mi')], c: [req('1', '0'), req('2', '0'), req('3', '0')] });
  assert.deepEqual(verdicts(resourcesFit, req('p', '1', '1Gi'), s), { a: 'Insufficient cpu', b: 'Insufficient memory', c: 'Too many pods' });
});

test('interPodAffinity: required anti-affinity on hostname keeps replicas apart; affinity follows', () => {
  const web = { app: 'web' };
  const anti = pod('p', { labels: web, spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: web }, topologyKey: 'kubernetes.io/hostname' }] } } } });
  const s = stateOf([node('a'), node('b')], { a: [pod('w1', { labels: web })] });
  assert.deepEqual(verdicts(interPodAffinity, anti, s), { a: "node(s) didn't match pod anti-affinity rules", b: undefined });
  const near = pod('p', { spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: web }, topologyKey: 'kubernetes.io/hostname' }] } } } });
  assert.deepEqual(verdicts(interPodAffinity, near, s), { a: undefined, b: "node(s) didn't match pod affinity rules" });
  // Other namespaces do not count.
  const other = stateOf([node('a'), node('b')], { a: [pod('w1', { labels: web, namespace: 'team' })] });
  assert.deepEqual(verdicts(interPodAffinity, anti, other), { a: undefined, b: undefined });
});

test('podTopologySpread: DoNotSchedule keeps skew within maxSkew', () => {
  const web = { app: 'web' };
  const p = pod('p', { labels: web, spec: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: web } }] } });
  const s = stateOf([node('a', { zone: 'z1' }), node('b', { zone: 'z2' }), node('nolabel')], { a: [pod('w1', { labels: web })] });
  assert.deepEqual(verdicts(podTopologySpread, p, s), { a: "node(s) didn't match pod topology spread constraints", b: undefined, nolabel: "node(s) didn't match pod topology spread constraints (missing required label)" });
});

test('leastAllocated prefers the emptier node', () => {
  const req = (name: string, cpu: string) => pod(name, { requests: { cpu } });
  const s = stateOf([node('a'), node('b')], { a: [req('x', '2')] });
  const ctx = prepare(req('p', '1'), s);
  const [a, b] = [s.nodes.get('a')!, s.nodes.get('b')!];
  assert.ok(leastAllocated(ctx, b, [a, b], s) > leastAllocated(ctx, a, [a, b], s));
});

test('ownerSpread: pods of one ReplicaSet spread across nodes', () => {
  const owned = (name: string) => pod(name, { owners: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'rs-1', controller: true }] });
  const s = stateOf([node('a'), node('b')], { a: [owned('x')] });
  const ctx = prepare(owned('p'), s);
  const [a, b] = [s.nodes.get('a')!, s.nodes.get('b')!];
  assert.ok(ownerSpread(ctx, b, [a, b], s) > ownerSpread(ctx, a, [a, b], s));
  // End to end: six replicas on three equal nodes land two per node.
  const big = (name: string): SchedNode => ({ ...node(name), status: { allocatable: { cpu: '4', memory: '4Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] } });
  const cluster = stateOf([big('n1'), big('n2'), big('n3')]);
  for (let i = 0; i < 6; i++) {
    const r = schedule(owned(`r${i}`), cluster);
    assert.ok('nodeName' in r);
    cluster.placePod(`default/r${i}`, r.nodeName, owned(`r${i}`));
  }
  assert.deepEqual([...cluster.nodes.values()].map((n) => n.pods.size), [2, 2, 2]);
});

test('preferredNodeAffinity scores by matched weight', () => {
  const s = stateOf([node('a', { disk: 'ssd' }), node('b')]);
  const p = pod('p', { spec: { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } }] } } } });
  const ctx = prepare(p, s);
  const [a, b] = [s.nodes.get('a')!, s.nodes.get('b')!];
  assert.equal(preferredNodeAffinity(ctx, a, [a, b], s), 100);
  assert.equal(preferredNodeAffinity(ctx, b, [a, b], s), 0);
});

test('preferredPodAntiAffinity: a node already holding a selected pod scores lower', () => {
  const web = { app: 'web' };
  const s = stateOf([node('a'), node('b')], { a: [pod('w', { labels: web })] });
  const p = pod('p', { spec: { affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, podAffinityTerm: { labelSelector: { matchLabels: web }, topologyKey: 'kubernetes.io/hostname' } }] } } } });
  const ctx = prepare(p, s);
  const [a, b] = [s.nodes.get('a')!, s.nodes.get('b')!];
  assert.equal(preferredPodAntiAffinity(ctx, a, [a, b], s), 0);
  assert.equal(preferredPodAntiAffinity(ctx, b, [a, b], s), 100);
});
