import { test } from 'node:test';
import assert from 'node:assert/strict';
import { schedule, podScheduledFalse } from '../../../../src/control/scheduler/schedule.ts';
import type { SchedNode, SchedPod } from '../../../../src/control/scheduler/state.ts';
import { pod } from '../../../lib/objects.ts';

function node(name: string, opts: { cpu?: string; memory?: string; labels?: Record<string, string>; ready?: boolean; unschedulable?: boolean; taint?: string } = {}): SchedNode {
  return {
    metadata: { name, labels: opts.labels ?? {} },
    spec: { unschedulable: opts.unschedulable ?? false, taints: opts.taint ? [{ key: opts.taint, value: 'x', effect: 'NoSchedule' }] : [] },
    status: { allocatable: { cpu: opts.cpu ?? '4', memory: opts.memory ?? '4Gi', pods: '110' }, conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
  };
}

test('aggregate message counts each reason like Kubernetes', () => {
  const nodes = [node('a', { labels: { 'kubernetes.io/arch': 'amd64' } }), node('b', { memory: '1Gi', labels: { 'kubernetes.io/arch': 'arm64' } }), node('c', { memory: '1Gi', labels: { 'kubernetes.io/arch': 'arm64' } })];
  const r = schedule(pod('p', { requests: { memory: '2Gi' }, spec: { nodeSelector: { 'kubernetes.io/arch': 'arm64' } } }), { nodes, boundPods: {} });
  assert.deepEqual(r, { unschedulable: "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient memory." });
});

test('bound pods consume allocatable; least allocated wins, ties by name', () => {
  const nodes = [node('b'), node('a')];
  assert.deepEqual(schedule(pod('p', { requests: { cpu: '1' } }), { nodes, boundPods: {} }), { nodeName: 'a' });
  const bound = { a: [pod('q', { requests: { cpu: '3' } })] };
  assert.deepEqual(schedule(pod('p', { requests: { cpu: '1' } }), { nodes, boundPods: bound }), { nodeName: 'b' });
  assert.deepEqual(schedule(pod('p', { requests: { cpu: '2' } }), { nodes: [node('a')], boundPods: bound }), { unschedulable: '0/1 nodes are available: 1 Insufficient cpu.' });
});

test('table: 20 nodes with not-ready, unschedulable, tainted and small nodes', () => {
  const nodes: SchedNode[] = [];
  for (let i = 0; i < 20; i++) {
    const name = `pi-${String(i).padStart(2, '0')}`;
    nodes.push(node(name, { ready: i % 5 !== 0, unschedulable: i % 7 === 1, taint: i % 6 === 2 ? 'gpu' : undefined, memory: i < 10 ? '512Mi' : '8Gi' }));
  }
  const cases: { p: SchedPod; want: { nodeName: string } | { unschedulable: string } }[] = [
    { p: pod('small', { requests: { memory: '100Mi' } }), want: { nodeName: 'pi-11' } },
    { p: pod('big', { requests: { memory: '4Gi' } }), want: { nodeName: 'pi-11' } },
    { p: pod('huge', { requests: { memory: '16Gi' } }), want: { unschedulable: '0/20 nodes are available: 12 Insufficient memory, 2 node(s) had untolerated taint {gpu: x}, 3 node(s) were not ready, 3 node(s) were unschedulable.' } },
  ];
  for (const c of cases) assert.deepEqual(schedule(c.p, { nodes, boundPods: {} }), c.want, c.p.metadata.name);
});

test('PodScheduled=False condition carries the message', () => {
  const c = podScheduledFalse('0/1 nodes are available: 1 Insufficient cpu.', new Date(0));
  assert.deepEqual(c, { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient cpu.', lastTransitionTime: '1970-01-01T00:00:00.000Z' });
});
