import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { daemonSetRolloutState, deploymentRolloutState, restartPatch } from '../../../../src/cli/kube/rollout.ts';
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
