import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { daemonSetRolloutState, deploymentRolloutState, historyTable, restartPatch, revisionsOf, undoPatch } from '../../../../src/cli/kube/rollout.ts';
import type { KubeObject } from '../../../../src/api/resources/types.ts';

function deploy(generation: number, replicas: number, status: Record<string, unknown>): KubeObject {
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', generation }, spec: { replicas }, status };
}

describe('rollout status messages (kubectl DeploymentStatusViewer)', () => {
  test('each stage of a rolling update, in order', () => {
    assert.deepEqual(deploymentRolloutState(deploy(2, 3, { observedGeneration: 1 })), { done: false, message: 'Waiting for deployment spec update to be observed...' });
    assert.deepEqual(deploymentRolloutState(deploy(2, 3, { observedGeneration: 2, replicas: 4, updatedReplicas: 1, availableReplicas: 3 })).message, 'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...');
    assert.deepEqual(deploymentRolloutState(deploy(2, 3, { observedGeneration: 2, replicas: 4, updatedReplicas: 3, availableReplicas: 3 })).message, 'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...');
    assert.deepEqual(deploymentRolloutState(deploy(2, 3, { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 2 })).message, 'Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...');
    assert.deepEqual(deploymentRolloutState(deploy(2, 3, { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3 })), { done: true, message: 'deployment "web" successfully rolled out' });
  });

  test('a progress deadline exceeded fails the wait', () => {
    const state = deploymentRolloutState(deploy(1, 3, { observedGeneration: 1, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] }));
    assert.deepEqual(state, { done: false, failed: true, message: 'deployment "web" exceeded its progress deadline' });
  });

  test('daemon sets', () => {
    const ds = (status: Record<string, unknown>): KubeObject => ({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent', generation: 1 }, status: { observedGeneration: 1, ...status } });
    assert.equal(daemonSetRolloutState(ds({ desiredNumberScheduled: 3, updatedNumberScheduled: 1 })).message, 'Waiting for daemon set "agent" rollout to finish: 1 out of 3 new pods have been updated...');
    assert.equal(daemonSetRolloutState(ds({ desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 2 })).message, 'Waiting for daemon set "agent" rollout to finish: 2 of 3 updated pods are available...');
    assert.equal(daemonSetRolloutState(ds({ desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3 })).done, true);
  });

  test('restart stamps the template with kubectl\'s annotation', () => {
    assert.deepEqual(restartPatch(new Date('2026-11-23T07:55:01.123Z')), { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-23T07:55:01Z' } } } } });
  });
});

describe('rollout history and undo from the ReplicaSets', () => {
  const deployment: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', uid: 'd-1', annotations: { 'deployment.kubernetes.io/revision': '3' } } };
  const rs = (revision: string, image: string, owner = 'd-1', cause?: string): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: `web-${revision}`, annotations: { 'deployment.kubernetes.io/revision': revision, ...(cause === undefined ? {} : { 'kubernetes.io/change-cause': cause }) }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: owner }] },
    spec: { template: { metadata: { labels: { app: 'web', 'pod-template-hash': `h${revision}` } }, spec: { containers: [{ name: 'web', image }] } } },
  });
  const sets = [rs('3', 'nginx:1.27'), rs('1', 'nginx:1.25', 'd-1', 'first'), rs('2', 'nginx:1.26'), rs('9', 'other', 'someone-else')];

  test('revisions of this deployment only, oldest first; kubectl history layout', () => {
    const revisions = revisionsOf(deployment, sets);
    assert.deepEqual(revisions.map((r) => r.revision), [1, 2, 3]);
    assert.equal(historyTable('web', revisions), 'deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         first\n2         <none>\n3         <none>\n\n');
  });

  test('undo goes to the previous revision, or the one asked; the template without pod-template-hash', () => {
    const revisions = revisionsOf(deployment, sets);
    assert.deepEqual(undoPatch(deployment, revisions), { patch: [{ op: 'replace', path: '/spec/template', value: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.26' }] } } }] });
    const to1 = undoPatch(deployment, revisions, 1);
    assert.ok('patch' in to1 && JSON.stringify(to1.patch).includes('nginx:1.25'));
    assert.deepEqual(undoPatch(deployment, revisions, 7), { error: 'unable to find specified revision 7 in history' });
    assert.deepEqual(undoPatch(deployment, revisions.slice(2)), { error: 'no rollout history found for deployment "web"' });
    assert.equal((sets[0]?.['spec'] as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels['pod-template-hash'], 'h3', 'the ReplicaSet itself is not modified');
  });
});
