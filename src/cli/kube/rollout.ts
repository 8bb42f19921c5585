// `bramble rollout status|restart` for Deployments (and DaemonSets' status), with kubectl's
// messages: status watches the object until the controller reports the rollout done, restart
// stamps the pod template so the Deployment controller replaces every pod.

import { asDaemonSet, asDeployment, asReplicaSet, type KubeObject } from '../../client/index.ts';

export interface RolloutState {
  done: boolean;
  message: string;
  /** The rollout cannot finish (progress deadline exceeded): stop waiting, exit 1. */
  failed?: boolean;
}

/** kubectl's DeploymentStatusViewer, message for message. */
export function deploymentRolloutState(object: KubeObject): RolloutState {
  const d = asDeployment(object);
  const name = d.metadata.name ?? '';
  const status = d.status ?? {};
  if ((d.metadata.generation ?? 0) > (status.observedGeneration ?? 0)) return { done: false, message: 'Waiting for deployment spec update to be observed...' };
  if (status.conditions?.some((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded')) {
    return { done: false, failed: true, message: `deployment "${name}" exceeded its progress deadline` };
  }
  const want = d.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  if (updated < want) return { done: false, message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${want} new replicas have been updated...` };
  if ((status.replicas ?? 0) > updated) return { done: false, message: `Waiting for deployment "${name}" rollout to finish: ${(status.replicas ?? 0) - updated} old replicas are pending termination...` };
  if ((status.availableReplicas ?? 0) < updated) return { done: false, message: `Waiting for deployment "${name}" rollout to finish: ${status.availableReplicas ?? 0} of ${updated} updated replicas are available...` };
  return { done: true, message: `deployment "${name}" successfully rolled out` };
}

/** kubectl's DaemonSetStatusViewer (RollingUpdate strategy). */
export function daemonSetRolloutState(object: KubeObject): RolloutState {
  const ds = asDaemonSet(object);
  const name = ds.metadata.name ?? '';
  const status = ds.status ?? {};
  if ((ds.metadata.generation ?? 0) > (status.observedGeneration ?? 0)) return { done: false, message: 'Waiting for daemon set spec update to be observed...' };
  const desired = status.desiredNumberScheduled ?? 0;
  const updated = status.updatedNumberScheduled ?? 0;
  if (updated < desired) return { done: false, message: `Waiting for daemon set "${name}" rollout to finish: ${updated} out of ${desired} new pods have been updated...` };
  const available = status.numberAvailable ?? 0;
  if (available < desired) return { done: false, message: `Waiting for daemon set "${name}" rollout to finish: ${available} of ${desired} updated pods are available...` };
  return { done: true, message: `daemon set "${name}" successfully rolled out` };
}

/** The merge patch of `rollout restart`: a new template annotation, so the template changes. */
export function restartPatch(now: Date): Record<string, unknown> {
  return { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': now.toISOString().replace(/\.\d{3}Z$/, 'Z') } } } } };
}

// --- history and undo, from the Deployment's ReplicaSets (kubectl does the same client-side) -----

const REVISION = 'deployment.kubernetes.io/revision';
const CHANGE_CAUSE = 'kubernetes.io/change-cause';

export interface Revision {
  revision: number;
  replicaSet: KubeObject;
}

/** The ReplicaSets the Deployment owns, by revision (oldest first). */
export function revisionsOf(deployment: KubeObject, replicaSets: readonly KubeObject[]): Revision[] {
  const uid = deployment.metadata.uid;
  return replicaSets
    .filter((rs) => rs.metadata.ownerReferences?.some((o) => o.kind === 'Deployment' && (uid === undefined ? o.name === deployment.metadata.name : o.uid === uid)) === true)
    .map((rs) => ({ revision: Number(rs.metadata.annotations?.[REVISION] ?? 'NaN'), replicaSet: rs }))
    .filter((r) => Number.isInteger(r.revision))
    .sort((a, b) => a.revision - b.revision);
}

export function historyTable(name: string, revisions: readonly Revision[]): string {
  const lines = [`deployment.apps/${name} `, 'REVISION  CHANGE-CAUSE'];
  for (const r of revisions) lines.push(`${String(r.revision).padEnd(10)}${r.replicaSet.metadata.annotations?.[CHANGE_CAUSE] ?? '<none>'}`);
  return `${lines.join('\n')}\n\n`;
}

/**
 * The JSON patch that rolls the Deployment back to `toRevision` (default: the one before the
 * current): the whole pod template replaced, as kubectl does; or an error as kubectl words it.
 */
export function undoPatch(deployment: KubeObject, revisions: readonly Revision[], toRevision?: number): { patch: { op: 'replace'; path: '/spec/template'; value: unknown }[] } | { error: string } {
  const current = Number(deployment.metadata.annotations?.[REVISION] ?? revisions.at(-1)?.revision ?? 0);
  const target = toRevision === undefined || toRevision === 0 ? [...revisions].reverse().find((r) => r.revision < current) : revisions.find((r) => r.revision === toRevision);
  if (target === undefined) return { error: toRevision === undefined || toRevision === 0 ? 'no rollout history found for deployment "' + (deployment.metadata.name ?? '') + '"' : `unable to find specified revision ${toRevision} in history` };
  const template = structuredClone(asReplicaSet(target.replicaSet).spec?.template ?? {});
  // The ReplicaSet controller's hash label is not part of what the user wrote.
  if (template.metadata?.labels !== undefined) delete template.metadata.labels['pod-template-hash'];
  return { patch: [{ op: 'replace', path: '/spec/template', value: template }] };
}
