// The node-health score: a table of nodes (conditions, temperature and load annotations as the
// agent publishes them) to scores and orderings, and its weight against the spread score.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeHealthAnnotations } from '../../../../src/client/index.ts';
import { prepare } from '../../../../src/control/scheduler/filters.ts';
import { nodeHealth, nodeHealthOf } from '../../../../src/control/scheduler/scores.ts';
import { schedule } from '../../../../src/control/scheduler/schedule.ts';
import { ClusterState } from '../../../../src/control/scheduler/state.ts';
import type { SchedNode } from '../../../../src/control/scheduler/state.ts';
import { pod } from '../../../lib/objects.ts';

function node(name: string, o: { celsius?: string; load?: string; throttling?: string; underVoltage?: string } = {}): SchedNode {
  const annotations: Record<string, string> = {};
  if (o.celsius !== undefined) annotations[NodeHealthAnnotations.temperatureCelsius] = o.celsius;
  if (o.load !== undefined) annotations[NodeHealthAnnotations.loadPerCpu] = o.load;
  const conditions = [{ type: 'Ready', status: 'True' }];
  if (o.throttling) conditions.push({ type: 'ThermalThrottling', status: o.throttling });
  if (o.underVoltage) conditions.push({ type: 'UnderVoltage', status: o.underVoltage });
  return { metadata: { name, labels: { 'kubernetes.io/hostname': name }, annotations }, spec: {}, status: { allocatable: { cpu: '4', memory: '4Gi', pods: '110' }, conditions } };
}
/** Pods of one ReplicaSet, which the spreading score keeps apart. */
const ofRs1 = { owners: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs1', uid: 'rs1', controller: true }] };

test('nodeHealth: a table of nodes and their scores', () => {
  const table: [SchedNode, number][] = [
    [node('cool-idle', { celsius: '40', load: '0' }), 100],
    [node('colder-than-cool', { celsius: '25', load: '0' }), 100],
    [node('warm-idle', { celsius: '60', load: '0' }), 10 + 90 * 0.75],
    [node('cool-half-loaded', { celsius: '40', load: '0.5' }), 10 + 90 * 0.75],
    [node('hot-busy', { celsius: '80', load: '1' }), 10],
    [node('overloaded', { celsius: '40', load: '3.5' }), 10 + 90 * 0.5],
    [node('temperature-only', { celsius: '50' }), 10 + 90 * 0.75],
    [node('load-only', { load: '0.25' }), 10 + 90 * 0.75],
    [node('no-readings'), 55],
    [node('garbled', { celsius: 'hot', load: '' }), 55],
    [node('throttling', { celsius: '40', load: '0', throttling: 'True' }), 0],
    [node('under-voltage', { celsius: '40', load: '0', underVoltage: 'True' }), 0],
    [node('conditions-false', { celsius: '40', load: '0', throttling: 'False', underVoltage: 'False' }), 100],
    [node('conditions-unknown', { celsius: '40', load: '0', underVoltage: 'Unknown' }), 100],
  ];
  for (const [n, expected] of table) assert.ok(Math.abs(nodeHealthOf(n) - expected) < 1e-9, `${n.metadata.name}: ${nodeHealthOf(n)} != ${expected}`);
});

test('nodeHealth: cool and idle first, a throttled or under-powered board last, even below a hot busy one', () => {
  const nodes = [
    node('e-throttled', { celsius: '75', load: '0', throttling: 'True' }),
    node('a-hot-busy', { celsius: '80', load: '1' }),
    node('b-cool-idle', { celsius: '45', load: '0' }),
    node('c-under-voltage', { celsius: '40', load: '0', underVoltage: 'True' }),
    node('d-warm-loaded', { celsius: '60', load: '0.75' }),
  ];
  const state = ClusterState.fromSnapshot({ nodes, boundPods: {} });
  const ctx = prepare(pod('p'), state);
  const infos = [...state.nodes.values()];
  const order = infos
    .map((info) => ({ name: info.name, score: nodeHealth(ctx, info, infos, state) }))
    .sort((x, y) => y.score - x.score || x.name.localeCompare(y.name))
    .map((x) => x.name);
  assert.deepEqual(order, ['b-cool-idle', 'd-warm-loaded', 'a-hot-busy', 'c-under-voltage', 'e-throttled']);
});

test('nodeHealth in the weighted sum: a pod avoids a throttled board even if the other already holds a replica; a few degrees do not beat spread', () => {
  const twoNodes = (a: SchedNode, b: SchedNode) => ClusterState.fromSnapshot({ nodes: [a, b], boundPods: { a: [pod('r0', ofRs1)] } });
  // a holds a replica of rs1; b is empty but throttling: health wins over the spread of the second replica.
  assert.deepEqual(schedule(pod('r1', ofRs1), twoNodes(node('a', { celsius: '45', load: '0' }), node('b', { celsius: '45', load: '0', throttling: 'True' }))), { nodeName: 'a' });
  // b is empty and only 15 °C warmer: the spread wins.
  assert.deepEqual(schedule(pod('r1', ofRs1), twoNodes(node('a', { celsius: '45', load: '0' }), node('b', { celsius: '60', load: '0' }))), { nodeName: 'b' });
  // Equal otherwise: the cooler of two empty boards.
  assert.deepEqual(schedule(pod('x'), ClusterState.fromSnapshot({ nodes: [node('a', { celsius: '65', load: '0' }), node('b', { celsius: '45', load: '0' })], boundPods: {} })), { nodeName: 'b' });
});
