// Controller references from given states: which pods (or ReplicaSets) a controller adopts,
// keeps, releases and leaves alone, and what a ReplicaSet then creates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject, OwnerReference, Pod } from '../../../../src/client/index.ts';
import { claimSelector, planClaims } from '../../../../src/control/controllers/claim.ts';
import { planReplicaSet } from '../../../../src/control/controllers/replicaset.ts';
import { isActive } from '../../../../src/control/controllers/pods.ts';
import { planDaemonSet, placed } from '../../../../src/control/controllers/daemonset.ts';
import { pod, type PodOptions } from '../../../lib/objects.ts';

const now = new Date('2026-12-01T12:00:00Z');
const rsRef: OwnerReference = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'rs1', controller: true, blockOwnerDeletion: true };
const otherRef: OwnerReference = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'other', uid: 'rs2', controller: true };

/** A pod of the web app on n1, as the claims see it. */
const webPod = (name: string, o: PodOptions = {}): Pod => pod(name, { labels: { app: 'web' }, node: 'n1', ...o });
function rs(o: { replicas?: number; deleting?: boolean; selector?: object | null } = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'web', namespace: 'default', uid: 'rs1', generation: 1, ...(o.deleting ? { deletionTimestamp: '2026-12-01T11:59:00Z' } : {}) },
    spec: { replicas: o.replicas ?? 3, ...(o.selector === null ? {} : { selector: o.selector ?? { matchLabels: { app: 'web' } } }), template: { metadata: { labels: { app: 'web' } } } },
  };
}
const names = (objs: readonly KubeObject[]) => objs.map((o) => o.metadata.name);
const plan = (owner: KubeObject, pods: KubeObject[]) => planClaims(owner, pods, claimSelector(owner), isActive);

test('claim: a matching orphan is adopted and counts toward replicas (3 wanted, 2 created)', () => {
  const owner = rs({ replicas: 3 });
  const claims = plan(owner, [webPod('bare')]);
  assert.deepEqual(names(claims.adopt), ['bare']);
  assert.deepEqual(claims.owned, []);
  assert.deepEqual(claims.release, []);
  const rsPlan = planReplicaSet(owner, [...claims.owned, ...claims.adopt], now);
  assert.equal(rsPlan.create, 2);
});

test('claim: an orphan whose labels do not match, one being deleted, or one finished is not adopted', () => {
  const claims = plan(rs(), [webPod('other-app', { labels: { app: 'db' } }), webPod('unlabelled', { labels: {} }), webPod('going', { deleting: true }), webPod('done', { phase: 'Succeeded' })]);
  assert.deepEqual(claims, { owned: [], adopt: [], release: [] });
});

test('claim: a pod controlled by another controller is never touched, even when it matches', () => {
  const foreign = webPod('theirs', { owners: [otherRef] });
  const claims = plan(rs(), [foreign]);
  assert.deepEqual(claims, { owned: [], adopt: [], release: [] });
  assert.equal(planReplicaSet(rs({ replicas: 1 }), claims.owned, now).create, 1);
});

test('claim: a non-controller ownerReference does not stop adoption (only a controller does)', () => {
  const plain: OwnerReference = { apiVersion: 'v1', kind: 'ConfigMap', name: 'cfg', uid: 'cm1' };
  const claims = plan(rs(), [webPod('shared', { owners: [plain] })]);
  assert.deepEqual(names(claims.adopt), ['shared']);
});

test('claim: an owned pod relabelled out of the selector is released, and the ReplicaSet replaces it', () => {
  const kept = webPod('kept', { owners: [rsRef] });
  const relabelled = webPod('relabelled', { owners: [rsRef], labels: {} });
  const claims = plan(rs({ replicas: 2 }), [kept, relabelled]);
  assert.deepEqual(names(claims.owned), ['kept']);
  assert.deepEqual(names(claims.release), ['relabelled']);
  assert.equal(planReplicaSet(rs({ replicas: 2 }), claims.owned, now).create, 1);
});

test('claim: a controller being deleted adopts nothing and releases nothing, but keeps what it owns', () => {
  const owner = rs({ deleting: true });
  const claims = plan(owner, [webPod('bare'), webPod('mine', { owners: [rsRef] }), webPod('relabelled', { owners: [rsRef], labels: { app: 'x' } })]);
  assert.deepEqual(names(claims.owned), ['mine']);
  assert.deepEqual(claims.adopt, []);
  assert.deepEqual(claims.release, []);
});

test('claim: without a usable selector (none, empty) nothing changes hands', () => {
  for (const selector of [null, {}, { matchLabels: {} }]) {
    const owner = rs({ selector });
    assert.equal(claimSelector(owner), undefined);
    const claims = plan(owner, [webPod('bare'), webPod('mine', { owners: [rsRef], labels: { app: 'x' } })]);
    assert.deepEqual(names(claims.owned), ['mine']);
    assert.deepEqual(claims.adopt, []);
    assert.deepEqual(claims.release, []);
  }
});

test('claim: matchExpressions select too', () => {
  const owner = rs({ selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'edge'] }] } });
  const claims = plan(owner, [webPod('front', { labels: { tier: 'front' } }), webPod('back', { labels: { tier: 'back' } })]);
  assert.deepEqual(names(claims.adopt), ['front']);
});

test('claim: a Deployment adopts an orphan ReplicaSet it matches and releases one relabelled', () => {
  const d: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', uid: 'd1' }, spec: { selector: { matchLabels: { app: 'web' } } } };
  const dRef: OwnerReference = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd1', controller: true };
  const set = (name: string, labels: Record<string, string>, owners?: OwnerReference[]): KubeObject => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name, namespace: 'default', uid: name, labels, ...(owners ? { ownerReferences: owners } : {}) }, spec: {} });
  const claims = planClaims(d, [set('orphan', { app: 'web', 'pod-template-hash': 'abc' }), set('mine', { app: 'web' }, [dRef]), set('moved', { app: 'api' }, [dRef]), set('foreign', { app: 'web' }, [{ ...dRef, uid: 'd2', name: 'other' }])], claimSelector(d));
  assert.deepEqual(names(claims.adopt), ['orphan']);
  assert.deepEqual(names(claims.owned), ['mine']);
  assert.deepEqual(names(claims.release), ['moved']);
});

test('claim: a DaemonSet adopts a bare pod bound to an eligible node (no second pod there), not an unplaced one', () => {
  const template = { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'c', image: 'i' }] } };
  const ds: KubeObject = { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent', namespace: 'default', uid: 'ds1', generation: 1 }, spec: { selector: { matchLabels: { app: 'agent' } }, template } };
  const nodes = ['a', 'b'].map((name): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: {} }, spec: {} }));
  const bound = webPod('bound-bare', { labels: { app: 'agent' } });
  (bound['spec'] as { nodeName?: string }).nodeName = 'a';
  const unplaced = webPod('unplaced', { labels: { app: 'agent' } });
  delete (unplaced['spec'] as { nodeName?: string }).nodeName;
  const claims = planClaims(ds, [bound, unplaced], claimSelector(ds), placed);
  assert.deepEqual(names(claims.adopt), ['bound-bare']);
  const dsPlan = planDaemonSet(ds, nodes, claims.adopt, now);
  assert.deepEqual(dsPlan.create.map((c) => c.nodeName), ['b']);
});
