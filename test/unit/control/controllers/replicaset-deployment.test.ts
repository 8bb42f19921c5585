// ReplicaSet and Deployment reconcile decisions from given states (pure planners).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../../src/client/index.ts';
import { planReplicaSet } from '../../../../src/control/controllers/replicaset.ts';
import { planDeployment, resolveIntOrPercent, REVISION, type RsPods } from '../../../../src/control/controllers/deployment.ts';
import { templateHash } from '../../../../src/control/controllers/hash.ts';
import { pod } from '../../../lib/objects.ts';

const now = new Date('2026-12-01T12:00:00Z');
const rs = (replicas: number, minReadySeconds = 0): KubeObject => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web-abc', namespace: 'default', uid: 'u', generation: 2 }, spec: { replicas, minReadySeconds, template: { metadata: { labels: { app: 'web' } } } } });

test('ReplicaSet: creates the missing pods; terminating and finished pods do not count', () => {
  const plan = planReplicaSet(rs(3), [pod('a', { node: 'n1' }), pod('b', { deleting: true }), pod('c', { phase: 'Succeeded' })], now);
  assert.equal(plan.create, 2);
  assert.deepEqual(plan.delete, []);
  assert.deepEqual(plan.status, { replicas: 1, fullyLabeledReplicas: 0, readyReplicas: 1, availableReplicas: 1, observedGeneration: 2 });
});

test('ReplicaSet: scales down unscheduled, then not-ready, then the newest pods first', () => {
  const pods = [pod('old-ready', { node: 'n1', created: '2026-12-01T10:00:00Z' }), pod('new-ready', { node: 'n1', created: '2026-12-01T11:30:00Z' }), pod('notready', { node: 'n2', ready: false }), pod('pending')];
  const plan = planReplicaSet(rs(1), pods, now);
  assert.equal(plan.create, 0);
  assert.deepEqual(plan.delete.map((p) => p.metadata.name), ['pending', 'notready', 'new-ready']);
});

test('ReplicaSet: minReadySeconds holds availability back and asks for a re-check', () => {
  const plan = planReplicaSet(rs(1, 3600 * 2), [pod('a', { node: 'n1' })], now);
  assert.equal(plan.status['readyReplicas'], 1);
  assert.equal(plan.status['availableReplicas'], 0);
  assert.equal(plan.recheckMs, 7_200_000);
});

test('intOrPercent: surge rounds up, unavailable down', () => {
  assert.equal(resolveIntOrPercent('25%', '25%', 6, true), 2);
  assert.equal(resolveIntOrPercent('25%', '25%', 6, false), 1);
  assert.equal(resolveIntOrPercent(undefined, '25%', 10, false), 2);
  assert.equal(resolveIntOrPercent(3, '25%', 10, true), 3);
});

const template = (image: string) => ({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } });
function deployment(image: string, o: { replicas?: number; maxSurge?: number | string; maxUnavailable?: number | string; strategy?: 'Recreate'; paused?: boolean; revision?: string } = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'd1', generation: 3, ...(o.revision ? { annotations: { [REVISION]: o.revision } } : {}) },
    spec: {
      replicas: o.replicas ?? 6,
      selector: { matchLabels: { app: 'web' } },
      template: template(image),
      strategy: o.strategy ? { type: 'Recreate' } : { type: 'RollingUpdate', rollingUpdate: { maxSurge: o.maxSurge ?? '25%', maxUnavailable: o.maxUnavailable ?? '25%' } },
      ...(o.paused ? { paused: true } : {}),
    },
  };
}
function ownedRs(image: string, replicas: number, revision: number): KubeObject {
  const hash = templateHash(template(image));
  return { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: `web-${hash}`, namespace: 'default', uid: `rs-${image}`, labels: { app: 'web', 'pod-template-hash': hash }, annotations: { [REVISION]: String(revision) } }, spec: { replicas, template: { ...template(image), metadata: { labels: { app: 'web', 'pod-template-hash': hash } } } } };
}
/** The ReplicaSets whose replicas the plan changes (annotation-only writes left out). */
function scaled(plan: { update: KubeObject[] }, before: KubeObject[]): [string | undefined, number][] {
  const was = new Map(before.map((r) => [r.metadata.uid, (r['spec'] as { replicas: number }).replicas]));
  return plan.update.filter((r) => was.get(r.metadata.uid) !== (r['spec'] as { replicas: number }).replicas).map((r) => [r.metadata.uid, (r['spec'] as { replicas: number }).replicas]);
}
const pods = (m: Record<string, RsPods>) => (r: KubeObject): RsPods => m[r.metadata.uid ?? ''] ?? { active: 0, ready: 0, available: 0 };
const full = (n: number): RsPods => ({ active: n, ready: n, available: n });

test('Deployment: the first ReplicaSet is created full, named by the template hash, revision 1', () => {
  const plan = planDeployment(deployment('v1'), [], pods({}), now);
  assert.ok(plan.create);
  assert.equal(plan.create.metadata.name, `web-${templateHash(template('v1'))}`);
  assert.equal((plan.create['spec'] as { replicas: number }).replicas, 6);
  assert.equal(plan.create.metadata.annotations?.[REVISION], '1');
  assert.deepEqual((plan.create['spec'] as { selector: unknown }).selector, { matchLabels: { app: 'web', 'pod-template-hash': templateHash(template('v1')) } });
  assert.equal(plan.create.metadata.ownerReferences?.[0]?.uid, 'd1');
  assert.equal(plan.revision, '1');
});

test('Deployment: a new template surges by maxSurge, then old pods go only as new ones become available', () => {
  const v1 = ownedRs('v1', 6, 1);
  // Step 1: the new ReplicaSet is created within the surge (6 + 2 - 6 = 2).
  let plan = planDeployment(deployment('v2'), [v1], pods({ 'rs-v1': full(6) }), now);
  assert.equal((plan.create?.['spec'] as { replicas: number }).replicas, 2);
  assert.equal(plan.create?.metadata.annotations?.[REVISION], '2');
  // Step 2: new pods not ready yet: only maxUnavailable (1) old pod may go.
  const v2 = ownedRs('v2', 2, 2);
  plan = planDeployment(deployment('v2'), [v1, v2], pods({ 'rs-v1': full(6), 'rs-v2': { active: 2, ready: 0, available: 0 } }), now);
  assert.deepEqual(scaled(plan, [v1, v2]), [['rs-v1', 5]]);
  // Step 3: one old pod gone frees surge room: the new ReplicaSet grows to 3 (total 8 = 6 + maxSurge).
  const v1at5 = { ...v1, spec: { ...(v1['spec'] as object), replicas: 5 } };
  plan = planDeployment(deployment('v2'), [v1at5, v2], pods({ 'rs-v1': full(5), 'rs-v2': full(2) }), now);
  assert.deepEqual(scaled(plan, [v1at5, v2]), [['rs-v2', 3]]);
  // Step 4: 2 of 3 new available: old may drop to 3 (available 2 + 3 = 5 = replicas - maxUnavailable).
  const v2at3 = { ...v2, spec: { ...(v2['spec'] as object), replicas: 3 } };
  plan = planDeployment(deployment('v2'), [v1at5, v2at3], pods({ 'rs-v1': full(5), 'rs-v2': { active: 3, ready: 2, available: 2 } }), now);
  assert.deepEqual(scaled(plan, [v1at5, v2at3]), [['rs-v1', 3]]);
  assert.equal(plan.status['updatedReplicas'], 3);
  assert.equal((plan.status['conditions'] as { type: string; reason: string }[]).find((c) => c.type === 'Progressing')?.reason, 'ReplicaSetUpdated');
});

test('Deployment: complete rollout reports NewReplicaSetAvailable and the status kubectl rollout status reads', () => {
  const owned = [ownedRs('v1', 0, 1), ownedRs('v2', 6, 2)];
  const plan = planDeployment(deployment('v2', { revision: '2' }), owned, pods({ 'rs-v2': full(6) }), now);
  assert.deepEqual(scaled(plan, owned), []);
  assert.equal(plan.revision, undefined);
  const { conditions, ...rest } = plan.status as { conditions: { type: string; status: string; reason: string }[] };
  assert.deepEqual(rest, { observedGeneration: 3, replicas: 6, updatedReplicas: 6, readyReplicas: 6, availableReplicas: 6 });
  assert.deepEqual(conditions.map((c) => [c.type, c.status, c.reason]), [['Available', 'True', 'MinimumReplicasAvailable'], ['Progressing', 'True', 'NewReplicaSetAvailable']]);
});

test('Deployment: undo to an old template reuses its ReplicaSet and gives it the next revision', () => {
  const plan = planDeployment(deployment('v1', { revision: '2' }), [ownedRs('v1', 0, 1), ownedRs('v2', 6, 2)], pods({ 'rs-v2': full(6) }), now);
  assert.equal(plan.create, undefined);
  const v1 = plan.update.find((r) => r.metadata.uid === 'rs-v1');
  assert.equal((v1?.['spec'] as { replicas: number }).replicas, 2);
  assert.equal(v1?.metadata.annotations?.[REVISION], '3');
  assert.equal(plan.revision, '3');
});

test('Deployment: Recreate scales old to zero first, creates the new one empty until old pods are gone', () => {
  let plan = planDeployment(deployment('v2', { strategy: 'Recreate' }), [ownedRs('v1', 6, 1)], pods({ 'rs-v1': full(6) }), now);
  assert.equal((plan.create?.['spec'] as { replicas: number }).replicas, 0);
  const a = [ownedRs('v1', 6, 1), ownedRs('v2', 0, 2)];
  plan = planDeployment(deployment('v2', { strategy: 'Recreate' }), a, pods({ 'rs-v1': full(6) }), now);
  assert.deepEqual(scaled(plan, a), [['rs-v1', 0]]);
  const b = [ownedRs('v1', 0, 1), ownedRs('v2', 0, 2)];
  plan = planDeployment(deployment('v2', { strategy: 'Recreate' }), b, pods({}), now);
  assert.deepEqual(scaled(plan, b), [['rs-v2', 6]]);
});

test('Deployment: scale down of a finished rollout goes to the new ReplicaSet; paused does nothing', () => {
  const one = [ownedRs('v1', 6, 1)];
  let plan = planDeployment(deployment('v1', { replicas: 2, revision: '1' }), one, pods({ 'rs-v1': full(6) }), now);
  assert.deepEqual(scaled(plan, one), [['rs-v1', 2]]);
  plan = planDeployment(deployment('v2', { paused: true, revision: '1' }), one, pods({ 'rs-v1': full(6) }), now);
  assert.equal(plan.create, undefined);
  assert.deepEqual(plan.update, []);
});

test('Deployment: old drained ReplicaSets beyond revisionHistoryLimit are deleted, oldest first', () => {
  const d = deployment('v9', { revision: '9' });
  (d['spec'] as { revisionHistoryLimit: number }).revisionHistoryLimit = 2;
  const owned = [1, 2, 3, 4].map((i) => ownedRs(`v${i}`, 0, i)).concat([ownedRs('v9', 6, 9)]);
  const plan = planDeployment(d, owned, pods({ 'rs-v9': full(6) }), now);
  assert.deepEqual(plan.delete.map((r) => r.metadata.uid), ['rs-v1', 'rs-v2']);
});

// --- progressDeadlineSeconds: the Progressing condition against a given clock -------------------

type Cond = { type: string; status: string; reason?: string; message?: string; lastUpdateTime?: string; lastTransitionTime?: string };
const at = (iso: string) => new Date(iso);
const progressingOf = (plan: { status: Record<string, unknown> }): Cond | undefined => (plan.status['conditions'] as Cond[]).find((c) => c.type === 'Progressing');
/** A Deployment rolling from v1 to v2 with the status the controller stored at `since`. */
function rolling(o: { deadline?: number; paused?: boolean; condition: Cond; status?: Record<string, number> }): KubeObject {
  const d = deployment('v2', { revision: '2', maxSurge: 1, maxUnavailable: 0, ...(o.paused ? { paused: true } : {}) });
  if (o.deadline !== undefined) (d['spec'] as { progressDeadlineSeconds: number }).progressDeadlineSeconds = o.deadline;
  d['status'] = { observedGeneration: 3, replicas: 7, updatedReplicas: 1, readyReplicas: 6, availableReplicas: 6, ...(o.status ?? {}), conditions: [o.condition] };
  return d;
}
const v2name = `web-${templateHash(template('v2'))}`;
const stuck = [ownedRs('v1', 6, 1), ownedRs('v2', 1, 2)];
// The new pod never becomes ready (a bad image, say): the same counts as stored, at every check.
const stuckPods = pods({ 'rs-v1': full(6), 'rs-v2': { active: 1, ready: 0, available: 0 } });
const updatedAt = (iso: string): Cond => ({ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${v2name}" is progressing.`, lastUpdateTime: iso, lastTransitionTime: '2026-12-01T11:00:00Z' });

test('progress deadline: no progress for progressDeadlineSeconds turns Progressing False (ProgressDeadlineExceeded), as Kubernetes words it', () => {
  const d = rolling({ deadline: 60, condition: updatedAt('2026-12-01T12:00:00Z') });
  // 40 s later: unchanged (no write), and a re-check asked for when the deadline passes.
  let plan = planDeployment(d, stuck, stuckPods, at('2026-12-01T12:00:40Z'));
  assert.deepEqual(progressingOf(plan), updatedAt('2026-12-01T12:00:00Z'));
  assert.equal(plan.recheckMs, 21_000, '20 s to the deadline plus a second');
  // Exactly at the deadline: not yet (Kubernetes: from + deadline before now).
  plan = planDeployment(d, stuck, stuckPods, at('2026-12-01T12:01:00Z'));
  assert.equal(progressingOf(plan)?.status, 'True');
  // Past it.
  plan = planDeployment(d, stuck, stuckPods, at('2026-12-01T12:01:01Z'));
  assert.deepEqual(progressingOf(plan), {
    type: 'Progressing',
    status: 'False',
    reason: 'ProgressDeadlineExceeded',
    message: `ReplicaSet "${v2name}" has timed out progressing.`,
    lastUpdateTime: '2026-12-01T12:01:01Z',
    lastTransitionTime: '2026-12-01T12:01:01Z',
  });
  assert.equal(plan.recheckMs, undefined, 'nothing more to wait for');
  assert.equal((plan.status['conditions'] as Cond[])[0]?.type, 'Available', 'Available first, as Kubernetes shows them');
});

test('progress deadline: each sign of progress restarts the clock; a timed-out rollout stays so until it progresses', () => {
  const d = rolling({ deadline: 60, condition: updatedAt('2026-12-01T12:00:00Z') });
  // The new pod became ready and available 50 s in: progress, lastUpdateTime moves, the transition stays.
  const better = pods({ 'rs-v1': full(6), 'rs-v2': full(1) });
  let plan = planDeployment(d, stuck, better, at('2026-12-01T12:00:50Z'));
  assert.equal(progressingOf(plan)?.lastUpdateTime, '2026-12-01T12:00:50Z');
  assert.equal(progressingOf(plan)?.lastTransitionTime, '2026-12-01T11:00:00Z');
  assert.equal(progressingOf(plan)?.reason, 'ReplicaSetUpdated');
  assert.equal(plan.recheckMs, 61_000);
  // Fewer old pods is progress too.
  plan = planDeployment(d, [ownedRs('v1', 5, 1), ownedRs('v2', 1, 2)], pods({ 'rs-v1': full(5), 'rs-v2': { active: 1, ready: 0, available: 0 } }), at('2026-12-01T12:05:00Z'));
  assert.equal(progressingOf(plan)?.status, 'True');
  assert.equal(progressingOf(plan)?.lastUpdateTime, '2026-12-01T12:05:00Z');
  // Timed out: stays False without progress, however late; progress makes it True again.
  const timedOut: Cond = { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${v2name}" has timed out progressing.`, lastUpdateTime: '2026-12-01T12:01:01Z', lastTransitionTime: '2026-12-01T12:01:01Z' };
  const failed = rolling({ deadline: 60, condition: timedOut });
  assert.deepEqual(progressingOf(planDeployment(failed, stuck, stuckPods, at('2026-12-01T13:00:00Z'))), timedOut);
  const recovered = progressingOf(planDeployment(failed, stuck, better, at('2026-12-01T13:00:00Z')));
  assert.deepEqual([recovered?.status, recovered?.reason, recovered?.lastTransitionTime], ['True', 'ReplicaSetUpdated', '2026-12-01T13:00:00Z']);
});

test('progress deadline: 600 s by default; a new rollout starts its own clock; paused is not timed, resuming restarts the clock', () => {
  const d = rolling({ condition: updatedAt('2026-12-01T12:00:00Z') });
  assert.equal(progressingOf(planDeployment(d, stuck, stuckPods, at('2026-12-01T12:09:59Z')))?.status, 'True');
  assert.equal(progressingOf(planDeployment(d, stuck, stuckPods, at('2026-12-01T12:10:01Z')))?.reason, 'ProgressDeadlineExceeded');
  // A condition about the previous rollout (complete, hours old): the new ReplicaSet's rollout begins now.
  const old: Cond = { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: 'ReplicaSet "web-old" has successfully progressed.', lastUpdateTime: '2026-12-01T08:00:00Z', lastTransitionTime: '2026-12-01T08:00:00Z' };
  const begun = progressingOf(planDeployment(rolling({ condition: old, status: { replicas: 7, updatedReplicas: 1 } }), stuck, stuckPods, at('2026-12-01T12:30:00Z')));
  assert.deepEqual([begun?.reason, begun?.message, begun?.lastUpdateTime], ['ReplicaSetUpdated', `ReplicaSet "${v2name}" is progressing.`, '2026-12-01T12:30:00Z']);
  // Paused for an hour: Unknown, no deadline; resumed: the clock starts at the resume.
  const paused = rolling({ deadline: 60, paused: true, condition: updatedAt('2026-12-01T12:00:00Z') });
  let plan = planDeployment(paused, stuck, stuckPods, at('2026-12-01T13:00:00Z'));
  assert.deepEqual([progressingOf(plan)?.status, progressingOf(plan)?.reason, plan.recheckMs], ['Unknown', 'DeploymentPaused', undefined]);
  const resumed = rolling({ deadline: 60, condition: progressingOf(plan)! });
  plan = planDeployment(resumed, stuck, stuckPods, at('2026-12-01T13:00:05Z'));
  assert.deepEqual([progressingOf(plan)?.status, progressingOf(plan)?.reason, progressingOf(plan)?.lastUpdateTime], ['True', 'ReplicaSetUpdated', '2026-12-01T13:00:05Z']);
  // Kubernetes' "no deadline" (MaxInt32): no Progressing condition at all, nothing to re-check.
  const unbounded = planDeployment(rolling({ deadline: 2_147_483_647, condition: updatedAt('2026-12-01T12:00:00Z') }), stuck, stuckPods, at('2027-12-01T12:00:00Z'));
  assert.deepEqual((unbounded.status['conditions'] as Cond[]).map((c) => c.type), ['Available']);
  assert.equal(unbounded.recheckMs, undefined);
});

test('progress deadline: a finished rollout stays NewReplicaSetAvailable when one of its pods goes', () => {
  const done: Cond = { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${v2name}" has successfully progressed.`, lastUpdateTime: '2026-12-01T11:00:00Z', lastTransitionTime: '2026-12-01T10:00:00Z' };
  const d = rolling({ deadline: 60, condition: done, status: { replicas: 6, updatedReplicas: 6, readyReplicas: 6, availableReplicas: 6 } });
  const plan = planDeployment(d, [ownedRs('v1', 0, 1), ownedRs('v2', 6, 2)], pods({ 'rs-v2': { active: 5, ready: 5, available: 5 } }), at('2026-12-01T13:00:00Z'));
  assert.deepEqual(progressingOf(plan), done);
  assert.equal(plan.recheckMs, undefined);
});
