// The pod subnet planner from given Nodes: one /24 each, never one twice, exhaustion, release
// when a Node goes, and a new leader deciding from the stored Nodes alone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../../../src/client/index.ts';
import { parseClusterCidr, planPodCidr, subnetCount, subnetIndex } from '../../../../src/control/controllers/pod-cidr.ts';

const node = (name: string, podCIDR?: string, podCIDRs?: string[]): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name },
  spec: { ...(podCIDR ? { podCIDR } : {}), ...(podCIDRs ? { podCIDRs } : {}) },
});

/** What a leader would store, one Node after the other, as the controller does with one worker. */
function allocateAll(names: string[], stored: KubeObject[], range = parseClusterCidr('10.42.0.0/16')): KubeObject[] {
  const nodes = [...stored];
  for (const name of names) {
    const fresh = node(name);
    nodes.push(fresh);
    const plan = planPodCidr(fresh, nodes, range);
    if (plan.kind === 'assign') nodes[nodes.length - 1] = node(name, plan.cidr, [plan.cidr]);
  }
  return nodes;
}

const cidrs = (nodes: KubeObject[]) => nodes.map((n) => (n['spec'] as { podCIDR?: string }).podCIDR ?? '-');

test('the default range holds 256 /24s; each Node gets the lowest free one', () => {
  const range = parseClusterCidr('10.42.0.0/16');
  assert.equal(subnetCount(range), 256);
  assert.deepEqual(cidrs(allocateAll(['pi1', 'pi2', 'pi3'], [])), ['10.42.0.0/24', '10.42.1.0/24', '10.42.2.0/24']);
});

test('a Node that has a subnet keeps it; one with podCIDR alone gets podCIDRs to match', () => {
  const range = parseClusterCidr('10.42.0.0/16');
  const all = [node('pi1', '10.42.7.0/24', ['10.42.7.0/24']), node('pi2', '10.42.9.0/24')];
  assert.deepEqual(planPodCidr(all[0]!, all, range), { kind: 'keep' });
  assert.deepEqual(planPodCidr(all[1]!, all, range), { kind: 'assign', cidr: '10.42.9.0/24' });
});

test('a full range leaves the Node without a subnet and says why and what to do', () => {
  const range = parseClusterCidr('10.42.0.0/23');
  const nodes = allocateAll(['pi1', 'pi2', 'pi3'], [], range);
  assert.deepEqual(cidrs(nodes), ['10.42.0.0/24', '10.42.1.0/24', '-']);
  assert.deepEqual(planPodCidr(nodes[2]!, nodes, range), {
    kind: 'exhausted',
    message: 'no free /24 left in the cluster CIDR 10.42.0.0/23 (2 taken): delete a Node that is gone, or start the cluster with a larger --cluster-cidr',
  });
});

test('a deleted Node frees its subnet and the next Node re-uses it', () => {
  const range = parseClusterCidr('10.42.0.0/23');
  const nodes = allocateAll(['pi1', 'pi2', 'pi3'], [], range);
  const afterDelete = nodes.filter((n) => n.metadata.name !== 'pi1');
  assert.deepEqual(planPodCidr(afterDelete[1]!, afterDelete, range), { kind: 'assign', cidr: '10.42.0.0/24' });
});

test('a new leader reads what is taken from the stored Nodes: no subnet handed out twice', () => {
  // Leader 1 stored pi1..pi3; pi2 was deleted since. Leader 2 starts from the store alone.
  const stored = allocateAll(['pi1', 'pi2', 'pi3'], []).filter((n) => n.metadata.name !== 'pi2');
  const next = allocateAll(['pi4', 'pi5'], stored);
  assert.deepEqual(cidrs(next), ['10.42.0.0/24', '10.42.2.0/24', '10.42.1.0/24', '10.42.3.0/24']);
  assert.equal(new Set(cidrs(next)).size, next.length);
});

test('subnets outside the range, of another size or malformed take nothing from it', () => {
  const range = parseClusterCidr('10.42.0.0/16');
  for (const foreign of ['10.43.0.0/24', '10.42.0.0/25', '10.42.0.128/24', 'garbage', '10.42.0.0']) assert.equal(subnetIndex(range, foreign), undefined, foreign);
  const nodes = [node('odd', '10.43.0.0/24', ['10.43.0.0/24']), node('new')];
  assert.deepEqual(planPodCidr(nodes[1]!, nodes, range), { kind: 'assign', cidr: '10.42.0.0/24' });
});

test('a /24 cluster CIDR holds one board, a /0 holds 2^24', () => {
  assert.equal(subnetCount(parseClusterCidr('10.42.5.0/24')), 1);
  assert.equal(subnetCount(parseClusterCidr('0.0.0.0/0')), 2 ** 24);
});
