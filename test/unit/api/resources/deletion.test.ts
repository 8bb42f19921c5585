import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findByKind, planDeletion, readyToRemove, type KubeObject, type ResourceInfo } from '../../../../src/api/resources/index.ts';
import { pod } from '../../../lib/objects.ts';

const NOW = new Date('2026-11-23T08:00:00Z');
const PODS = findByKind('v1', 'Pod') as ResourceInfo;
const CM = findByKind('v1', 'ConfigMap') as ResourceInfo;
const NS = findByKind('v1', 'Namespace') as ResourceInfo;


test('deletion: a running pod is marked for its grace period; unscheduled or finished pods go at once', () => {
  const plan = planDeletion(PODS, pod('p', { node: 'pi-1', spec: { terminationGracePeriodSeconds: 10 } }), { now: NOW });
  assert.equal(plan.action, 'mark');
  assert.equal(plan.action === 'mark' && plan.object.metadata.deletionTimestamp, '2026-11-23T08:00:10Z');
  assert.equal(plan.action === 'mark' && plan.object.metadata.deletionGracePeriodSeconds, 10);
  assert.equal(plan.action === 'mark' && readyToRemove(PODS, plan.object), false, 'the agent deletes it with grace 0');
  const defaultGrace = planDeletion(PODS, pod('p', { node: 'pi-1' }), { now: NOW });
  assert.equal(defaultGrace.action === 'mark' && defaultGrace.object.metadata.deletionGracePeriodSeconds, 30);
  assert.deepEqual(planDeletion(PODS, pod('p'), { now: NOW }), { action: 'remove' });
  assert.deepEqual(planDeletion(PODS, pod('p', { node: 'pi-1', phase: 'Succeeded' }), { now: NOW }), { action: 'remove' });
  assert.deepEqual(planDeletion(PODS, pod('p', { node: 'pi-1' }), { now: NOW, gracePeriodSeconds: 0 }), { action: 'remove' });
  if (plan.action !== 'mark') return;
  const forced = planDeletion(PODS, plan.object, { now: NOW, gracePeriodSeconds: 0 });
  assert.deepEqual(forced, { action: 'remove' }, 'a forced second delete removes a marked pod');
  const longer = planDeletion(PODS, plan.object, { now: NOW, gracePeriodSeconds: 60 });
  assert.equal(longer.action === 'mark' && longer.object.metadata.deletionGracePeriodSeconds, 10, 'a second delete cannot lengthen the grace period');
});

test('deletion: finalizers and propagation policies keep the object marked until cleared', () => {
  const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' } };
  assert.deepEqual(planDeletion(CM, cm, { now: NOW }), { action: 'remove' });
  const held = planDeletion(CM, { ...cm, metadata: { ...cm.metadata, finalizers: ['example.com/hold'] } }, { now: NOW });
  assert.equal(held.action, 'mark');
  if (held.action !== 'mark') return;
  assert.equal(held.object.metadata.deletionTimestamp, '2026-11-23T08:00:00Z');
  assert.equal(readyToRemove(CM, held.object), false);
  assert.equal(readyToRemove(CM, { ...held.object, metadata: { ...held.object.metadata, finalizers: [] } }), true);
  const orphan = planDeletion(CM, cm, { now: NOW, propagationPolicy: 'Orphan' });
  assert.deepEqual(orphan.action === 'mark' && orphan.object.metadata.finalizers, ['orphan']);
  const fg = planDeletion(CM, cm, { now: NOW, propagationPolicy: 'Foreground' });
  assert.deepEqual(fg.action === 'mark' && fg.object.metadata.finalizers, ['foregroundDeletion']);
  assert.equal(readyToRemove(CM, cm), false, 'an unmarked object is never removed by an update');
});

test('deletion: a namespace turns Terminating and waits for its spec finalizers', () => {
  const ns: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'student1' }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } };
  const plan = planDeletion(NS, ns, { now: NOW });
  assert.equal(plan.action, 'mark');
  if (plan.action !== 'mark') return;
  assert.deepEqual(plan.object.status, { phase: 'Terminating' });
  assert.equal(readyToRemove(NS, plan.object), false);
  assert.equal(readyToRemove(NS, { ...plan.object, spec: { finalizers: [] } }), true);
});
