// Job: runs pods until `completions` succeed (`parallelism` at a time), gives up after more than
// `backoffLimit` failures or after `activeDeadlineSeconds`, and says so with the Complete or
// Failed condition `kubectl wait --for=condition=complete` reads. Pods left running when the
// Job finishes are deleted.
import { asJob, Kinds, MAX_POD_CREATES_PER_SYNC, type JobStatus, type KubeObject } from '../../client/index.ts';
import type { ControlContext, Controller } from '../manager.ts';
import { ownerLoop } from './owned.ts';
import { isActive, isReady, nowString, podFromTemplate, statusOf, type Condition } from './pods.ts';

export interface JobPlan {
  create: number;
  delete: KubeObject[];
  status: JobStatus;
  /** Check again (the active deadline) after this many ms. */
  recheckMs?: number;
}

function finished(status: JobStatus): boolean {
  return (status.conditions ?? []).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

/** Pure: the Job's next step given the pods it owns. */
export function planJob(job: KubeObject, owned: readonly KubeObject[], now: Date): JobPlan {
  const spec = asJob(job).spec ?? {};
  const old = asJob(job).status ?? {};
  const active = owned.filter(isActive);
  // Counts never go down: a finished pod someone deleted still counted.
  const succeeded = Math.max(old.succeeded ?? 0, owned.filter((p) => statusOf(p).phase === 'Succeeded').length);
  const failed = Math.max(old.failed ?? 0, owned.filter((p) => statusOf(p).phase === 'Failed').length);
  const parallelism = spec.parallelism ?? 1;
  const completions = spec.completions ?? null;
  const backoffLimit = spec.backoffLimit ?? 6;
  const startTime = old.startTime ?? nowString(now);
  const status: JobStatus = { ...old, startTime, active: active.length, succeeded, failed, ready: active.filter(isReady).length };
  for (const k of ['active', 'succeeded', 'failed'] as const) if (status[k] === 0) delete status[k];
  const plan: JobPlan = { create: 0, delete: [], status };
  if (finished(old)) {
    plan.delete = active;
    return plan;
  }
  const conclude = (type: 'Complete' | 'Failed', reason?: string, message?: string): JobPlan => {
    const stamp = nowString(now);
    // Kubernetes 1.31+ sets the target condition first; clients read either.
    const target: Condition = type === 'Complete' ? { type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods', lastProbeTime: stamp, lastTransitionTime: stamp } : { type: 'FailureTarget', status: 'True', reason: reason ?? '', message: message ?? '', lastProbeTime: stamp, lastTransitionTime: stamp };
    const final: Condition = { type, status: 'True', ...(reason ? { reason } : type === 'Complete' ? { reason: 'CompletionsReached' } : {}), ...(message ? { message } : type === 'Complete' ? { message: 'Reached expected number of succeeded pods' } : {}), lastProbeTime: stamp, lastTransitionTime: stamp };
    status.conditions = [...(old.conditions ?? []).filter((c) => c.type !== type && c.type !== target.type), target, final];
    if (type === 'Complete') status.completionTime = stamp;
    plan.delete = active;
    return plan;
  };
  if (failed > backoffLimit) return conclude('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
  if (spec.activeDeadlineSeconds !== undefined) {
    const leftMs = Date.parse(startTime) + spec.activeDeadlineSeconds * 1000 - now.getTime();
    if (leftMs <= 0) return conclude('Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline');
    plan.recheckMs = leftMs;
  }
  if (completions !== null ? succeeded >= completions : succeeded > 0 && active.length === 0) return conclude('Complete');
  if (spec.suspend) {
    plan.delete = active;
    return plan;
  }
  // With completions unset (a work queue) no new pods once one has succeeded.
  const wantActive = completions !== null ? Math.min(parallelism, completions - succeeded) : succeeded > 0 ? 0 : parallelism;
  plan.create = Math.max(0, wantActive - active.length);
  return plan;
}

export function createJobController(ctx: ControlContext): Controller {
  const loop = ownerLoop(ctx, 'job', Kinds.jobs, async (job, l) => {
    if (job.metadata.deletionTimestamp) return;
    // A finished Job claims nothing more (as Kubernetes'); it only clears its leftover pods.
    const owned = finished(asJob(job).status ?? {}) ? l.ownedPods(job) : await l.claimPods(job);
    const plan = planJob(job, owned, new Date());
    const template = asJob(job).spec?.template ?? {};
    await Promise.all([
      ...Array.from({ length: Math.min(plan.create, MAX_POD_CREATES_PER_SYNC) }, () => l.createPod(podFromTemplate(job, template, `${job.metadata.name ?? 'job'}-`))),
      ...plan.delete.map((p) => l.deletePod(p)),
    ]);
    const after = plan.create > 0 || plan.delete.length > 0 ? { ...planJob(job, l.ownedPods(job), new Date()).status, conditions: plan.status.conditions, ...(plan.status.completionTime ? { completionTime: plan.status.completionTime } : {}) } : plan.status;
    await l.writeStatus(job, after as Record<string, unknown>);
    if (plan.recheckMs !== undefined) l.queue.addAfter(`${job.metadata.namespace}/${job.metadata.name}`, plan.recheckMs + 50);
  });
  return loop.controller;
}
