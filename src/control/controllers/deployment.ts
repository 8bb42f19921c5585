// Deployment: one ReplicaSet per pod template (named by its pod-template-hash), rolled from the
// old ones to the new within maxSurge / maxUnavailable (or Recreate), revision annotations that
// `rollout history|undo` read, old ReplicaSets pruned past revisionHistoryLimit, and the status
// fields `kubectl rollout status` waits on.
import { asDeployment, asReplicaSet, Kinds, type DeploymentSpec, type DeploymentStatus, type KubeObject } from '../../client/index.ts';
import type { ControlContext, Controller } from '../manager.ts';
import { keyOf, WorkQueue } from '../../client/cache/index.ts';
import { POD_TEMPLATE_HASH, templateHash } from './hash.ts';
import { claimSelector, executeClaims, matchingControllers, ORPHAN_INDEX, planClaims, withOrphanIndex } from './claim.ts';
import { podsByOwner, OWNER_INDEX } from './owned.ts';
import { controllerRef, isActive, isAvailable, isReady, nowString, ownerRefTo, setCondition, type Condition } from './pods.ts';

export const REVISION = 'deployment.kubernetes.io/revision';
const CHANGE_CAUSE = 'kubernetes.io/change-cause';

/** The API's default (src/api defaults it too). */
export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;
/** Kubernetes' "no deadline": math.MaxInt32. */
const NO_PROGRESS_DEADLINE = 2_147_483_647;
export const PROGRESS_DEADLINE_EXCEEDED = 'ProgressDeadlineExceeded';

/** Pods of one ReplicaSet as the planner needs them. */
export interface RsPods {
  active: number;
  ready: number;
  available: number;
}

export interface DeploymentPlan {
  create?: KubeObject;
  /** ReplicaSets to write (new replicas and/or annotations). */
  update: KubeObject[];
  delete: KubeObject[];
  status: Record<string, unknown>;
  /** The Deployment's revision annotation, when it must change. */
  revision?: string;
  /** Reconcile again after this long: when the rollout's progress deadline passes if nothing happens meanwhile. */
  recheckMs?: number;
}

/** An int-or-percent of `total`, rounded up (surge) or down (unavailable), as Kubernetes. */
export function resolveIntOrPercent(value: number | string | undefined, fallback: string, total: number, roundUp: boolean): number {
  const v = value ?? fallback;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) return Number.isFinite(Number(v)) ? Number(v) : 0;
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

function replicasOf(rs: KubeObject): number {
  return asReplicaSet(rs).spec?.replicas ?? 0;
}

function revisionOf(rs: KubeObject): number {
  const r = Number(rs.metadata.annotations?.[REVISION]);
  return Number.isInteger(r) ? r : 0;
}

function withReplicas(rs: KubeObject, replicas: number, annotations: Record<string, string> = {}): KubeObject {
  return { ...rs, metadata: { ...rs.metadata, annotations: { ...(rs.metadata.annotations ?? {}), ...annotations } }, spec: { ...asReplicaSet(rs).spec, replicas } };
}

/** maxSurge and maxUnavailable resolved against the desired replicas (Recreate: no surge, all may go). */
interface RolloutBounds {
  rolling: boolean;
  maxSurge: number;
  maxUnavailable: number;
}

function rolloutBounds(spec: DeploymentSpec, replicas: number): RolloutBounds {
  const rolling = (spec.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
  let maxSurge = rolling ? resolveIntOrPercent(spec.strategy?.rollingUpdate?.maxSurge, '25%', replicas, true) : 0;
  let maxUnavailable = rolling ? resolveIntOrPercent(spec.strategy?.rollingUpdate?.maxUnavailable, '25%', replicas, false) : replicas;
  // Kubernetes refuses both at 0 in validation; a stored 0/0 still has to make progress.
  if (rolling && maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  maxSurge = Math.max(0, maxSurge);
  maxUnavailable = Math.min(replicas, Math.max(0, maxUnavailable));
  return { rolling, maxSurge, maxUnavailable };
}

/** What one planning pass knows of a Deployment and the ReplicaSets it owns. */
interface Rollout extends RolloutBounds {
  d: KubeObject;
  spec: DeploymentSpec;
  replicas: number;
  hash: string;
  /** Owned ReplicaSets not being deleted. */
  live: KubeObject[];
  /** The live ReplicaSet of the current template, if any. */
  current: KubeObject | undefined;
  /** The other live ones, oldest revision first. */
  old: KubeObject[];
  maxRevision: number;
  /** Sum of the live ReplicaSets' spec.replicas. */
  total: number;
  podsOf: (rs: KubeObject) => RsPods;
}

function rolloutOf(d: KubeObject, owned: readonly KubeObject[], podsOf: (rs: KubeObject) => RsPods): Rollout {
  const spec = asDeployment(d).spec ?? {};
  const replicas = spec.replicas ?? 1;
  const hash = templateHash(spec.template);
  const live = owned.filter((rs) => rs.metadata.deletionTimestamp === undefined);
  const current = live.find((rs) => rs.metadata.labels?.[POD_TEMPLATE_HASH] === hash);
  const old = live.filter((rs) => rs !== current).sort((a, b) => revisionOf(a) - revisionOf(b));
  const maxRevision = Math.max(0, ...live.map(revisionOf));
  const total = live.reduce((s, rs) => s + replicasOf(rs), 0);
  return { d, spec, replicas, hash, live, current, old, maxRevision, total, podsOf, ...rolloutBounds(spec, replicas) };
}

/** Available pods of a ReplicaSet never count beyond its replicas: the extra ones are going. */
function availableOf(r: Rollout, rs: KubeObject): number {
  return Math.min(r.podsOf(rs).available, replicasOf(rs));
}

/** Some old ReplicaSet still has replicas or pods (Recreate waits for none). */
function oldStillRunning(r: Rollout): boolean {
  return r.old.some((rs) => replicasOf(rs) > 0 || r.podsOf(rs).active > 0);
}

/** The annotations of the new ReplicaSet: its revision (kept when it already is the newest), sizes, change cause. */
function revisionAnnotations(r: Rollout): Record<string, string> {
  const { current, maxRevision, replicas, d } = r;
  return {
    [REVISION]: String(current && revisionOf(current) === maxRevision && maxRevision > 0 ? maxRevision : maxRevision + 1),
    'deployment.kubernetes.io/desired-replicas': String(replicas),
    'deployment.kubernetes.io/max-replicas': String(replicas + r.maxSurge),
    ...(d.metadata.annotations?.[CHANGE_CAUSE] ? { [CHANGE_CAUSE]: d.metadata.annotations[CHANGE_CAUSE] } : {}),
  };
}

/** The ReplicaSet of a template not seen before: the first of a Deployment starts full, a later one within the surge. */
function newReplicaSet(r: Rollout): KubeObject {
  const { d, spec, replicas, hash } = r;
  const room = r.rolling ? Math.max(0, replicas + r.maxSurge - r.total) : oldStillRunning(r) ? 0 : replicas;
  const template = structuredClone(spec.template ?? {});
  template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH]: hash } };
  const selector = structuredClone(spec.selector ?? {});
  selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH]: hash };
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: `${d.metadata.name ?? ''}-${hash}`, namespace: d.metadata.namespace ?? 'default', labels: template.metadata.labels, annotations: revisionAnnotations(r), ownerReferences: [ownerRefTo(d)] },
    spec: { replicas: Math.min(replicas, room), minReadySeconds: spec.minReadySeconds ?? 0, selector, template },
  };
}

/** The size the existing new ReplicaSet may have now: down to the desired replicas, up within the surge (Recreate: once the old are gone). */
function newReplicaSetTarget(r: Rollout, current: KubeObject): number {
  const { replicas } = r;
  const now = replicasOf(current);
  if (now > replicas) return replicas;
  if (r.rolling) return Math.min(replicas, now + Math.max(0, replicas + r.maxSurge - r.total));
  return oldStillRunning(r) ? now : replicas;
}

/**
 * The old ReplicaSets' sizes a rolling update may go down to without dropping below
 * replicas - maxUnavailable available pods (Kubernetes' reconcileOldReplicaSets).
 */
function rollingScaleDown(r: Rollout, current: KubeObject): Map<KubeObject, number> {
  const minAvailable = r.replicas - r.maxUnavailable;
  const scaled = new Map<KubeObject, number>(r.old.map((rs) => [rs, replicasOf(rs)]));
  // First the old pods that are not available anyway: removing them costs nothing.
  let maxScaledDown = r.total - minAvailable - (replicasOf(current) - availableOf(r, current));
  for (const rs of r.old) {
    if (maxScaledDown <= 0) break;
    const cut = Math.min(maxScaledDown, Math.max(0, scaled.get(rs)! - availableOf(r, rs)));
    if (cut > 0) {
      scaled.set(rs, scaled.get(rs)! - cut);
      maxScaledDown -= cut;
    }
  }
  // Then available ones, as long as enough stay available.
  let available = availableOf(r, current) + r.old.reduce((s, rs) => s + Math.min(availableOf(r, rs), scaled.get(rs)!), 0);
  for (const rs of r.old) {
    if (available <= minAvailable) break;
    const cut = Math.min(scaled.get(rs)!, available - minAvailable);
    scaled.set(rs, scaled.get(rs)! - cut);
    available -= cut;
  }
  return scaled;
}

/** Old ReplicaSets to resize once the new one is at its size for now: all to 0 (Recreate), or as availability allows. */
function scaleDownOld(r: Rollout, current: KubeObject): KubeObject[] {
  if (!r.rolling) return r.old.filter((rs) => replicasOf(rs) > 0).map((rs) => withReplicas(rs, 0));
  const scaled = rollingScaleDown(r, current);
  return r.old.filter((rs) => scaled.get(rs)! !== replicasOf(rs)).map((rs) => withReplicas(rs, scaled.get(rs)!));
}

/** ReplicaSet writes for a template already rolled out: the new one resized or re-annotated, then the old ones. */
function resizeReplicaSets(r: Rollout, current: KubeObject): KubeObject[] {
  const wanted = revisionAnnotations(r);
  const needsAnnotations = Object.entries(wanted).some(([k, v]) => current.metadata.annotations?.[k] !== v);
  const target = newReplicaSetTarget(r, current);
  const updates: KubeObject[] = [];
  if (target !== replicasOf(current) || needsAnnotations) updates.push(withReplicas(current, target, wanted));
  if (target === replicasOf(current)) updates.push(...scaleDownOld(r, current));
  return updates;
}

/** History: drained old ReplicaSets beyond revisionHistoryLimit go, oldest first. */
function prunedHistory(r: Rollout, updates: readonly KubeObject[]): KubeObject[] {
  const limit = r.spec.revisionHistoryLimit ?? 10;
  const drained = r.old.filter((rs) => replicasOf(rs) === 0 && r.podsOf(rs).active === 0 && !updates.some((u) => u.metadata.uid === rs.metadata.uid));
  return drained.slice(0, Math.max(0, drained.length - limit));
}

/** The Deployment's status (counts over its existing ReplicaSets, Available and Progressing) and when to look again. */
function deploymentStatus(r: Rollout, newRs: KubeObject | undefined, created: KubeObject | undefined, now: Date): { status: Record<string, unknown>; recheckMs?: number } {
  const { d, spec, replicas } = r;
  const all = r.live.filter((rs) => rs !== created);
  const sum = (f: (p: RsPods) => number): number => all.reduce((s, rs) => s + f(r.podsOf(rs)), 0);
  const updated = newRs && newRs !== created ? r.podsOf(newRs).active : 0;
  const available = sum((p) => p.available);
  const totalActive = sum((p) => p.active);
  const ready = sum((p) => p.ready);
  const newName = newRs?.metadata.name ?? `${d.metadata.name ?? ''}-${r.hash}`;
  const complete = updated === replicas && totalActive === replicas && available === replicas;
  const stored = asDeployment(d).status ?? {};
  let conditions = setCondition(
    stored.conditions,
    available >= replicas - r.maxUnavailable
      ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
      : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' },
    now,
  );
  const progress = progressingCondition(spec, stored, { newName, complete, updated, totalActive, ready, available }, now);
  conditions = conditions.filter((c) => c.type !== 'Progressing');
  // Without a deadline there is no Progressing condition at all, as in Kubernetes.
  if (spec.progressDeadlineSeconds !== NO_PROGRESS_DEADLINE) conditions.push(progress.condition);
  // Keep the order Kubernetes shows (Available, then Progressing) and drop churn in lastUpdateTime for unchanged ones.
  conditions.sort((a, b) => (a.type === 'Available' ? -1 : b.type === 'Available' ? 1 : 0));
  const unavailable = Math.max(0, r.total - available);
  const status = {
    observedGeneration: d.metadata.generation ?? 1,
    replicas: totalActive,
    updatedReplicas: updated,
    readyReplicas: ready,
    availableReplicas: available,
    ...(unavailable > 0 ? { unavailableReplicas: unavailable } : {}),
    conditions,
  };
  return progress.recheckMs === undefined ? { status } : { status, recheckMs: progress.recheckMs };
}

/** Pure: the next step of a Deployment, given the ReplicaSets it owns and their pods. */
export function planDeployment(d: KubeObject, owned: readonly KubeObject[], podsOf: (rs: KubeObject) => RsPods, now: Date): DeploymentPlan {
  const r = rolloutOf(d, owned, podsOf);
  const plan: DeploymentPlan = { update: [], delete: [], status: {} };
  if (!r.spec.paused) {
    if (r.current) plan.update = resizeReplicaSets(r, r.current);
    else plan.create = newReplicaSet(r);
    plan.delete = prunedHistory(r, plan.update);
  }
  const newRs = r.current ?? plan.create;
  const { status, recheckMs } = deploymentStatus(r, newRs, plan.create, now);
  plan.status = status;
  if (recheckMs !== undefined) plan.recheckMs = recheckMs;
  const revision = newRs ? (plan.create ?? plan.update.find((u) => u === newRs || u.metadata.uid === newRs.metadata.uid) ?? newRs).metadata.annotations?.[REVISION] : undefined;
  if (revision && d.metadata.annotations?.[REVISION] !== revision) plan.revision = revision;
  return plan;
}

/**
 * The Progressing condition, as Kubernetes' deployment controller keeps it (syncRolloutStatus):
 * its lastUpdateTime is the last time the rollout made progress, so a rollout that makes none for
 * progressDeadlineSeconds turns False with ProgressDeadlineExceeded (and `rollout status` fails).
 * Progress, against the stored status: more updated, ready or available pods, fewer old ones, or a
 * rollout of another ReplicaSet begun (created, undone to, or resumed; Kubernetes' NewReplicaSetCreated,
 * FoundNewReplicaSet and DeploymentResumed). A finished rollout stays NewReplicaSetAvailable while
 * every pod is of the new ReplicaSet; a paused one is Unknown and is not timed.
 */
export function progressingCondition(
  spec: DeploymentSpec,
  stored: DeploymentStatus,
  next: { newName: string; complete: boolean; updated: number; totalActive: number; ready: number; available: number },
  now: Date,
): { condition: Condition; recheckMs?: number } {
  const current = stored.conditions?.find((c) => c.type === 'Progressing');
  const stamp = nowString(now);
  const make = (status: Condition['status'], reason: string, message: string, keepTransition: boolean): Condition => ({
    type: 'Progressing',
    status,
    reason,
    message,
    lastUpdateTime: stamp,
    lastTransitionTime: keepTransition && current?.status === status && current.lastTransitionTime ? current.lastTransitionTime : stamp,
  });
  if (spec.paused) {
    const paused = make('Unknown', 'DeploymentPaused', 'Deployment is paused', true);
    return { condition: current?.reason === 'DeploymentPaused' && current.status === 'Unknown' ? current : paused };
  }
  const sameRollout = current?.message?.startsWith(`ReplicaSet "${next.newName}" `) === true;
  if (sameRollout && current?.reason === 'NewReplicaSetAvailable' && next.totalActive === next.updated) return { condition: current };
  if (next.complete) return { condition: make('True', 'NewReplicaSetAvailable', `ReplicaSet "${next.newName}" has successfully progressed.`, true) };
  const storedOld = (stored.replicas ?? 0) - (stored.updatedReplicas ?? 0);
  const progressed =
    !sameRollout ||
    next.updated > (stored.updatedReplicas ?? 0) ||
    next.totalActive - next.updated < storedOld ||
    next.ready > (stored.readyReplicas ?? 0) ||
    next.available > (stored.availableReplicas ?? 0);
  const deadlineSeconds = spec.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS;
  const timed = deadlineSeconds !== NO_PROGRESS_DEADLINE;
  const recheck = (since: string | undefined): number | undefined => {
    if (!timed) return undefined;
    const sinceMs = Date.parse(since ?? '');
    // A second past the deadline: the stored times have whole seconds.
    return Number.isFinite(sinceMs) ? Math.max(0, sinceMs + deadlineSeconds * 1000 - now.getTime() + 1000) : undefined;
  };
  if (progressed || current === undefined) {
    const condition = make('True', 'ReplicaSetUpdated', `ReplicaSet "${next.newName}" is progressing.`, true);
    const recheckMs = recheck(condition.lastUpdateTime);
    return recheckMs === undefined ? { condition } : { condition, recheckMs };
  }
  if (current.reason === PROGRESS_DEADLINE_EXCEEDED) return { condition: current };
  const since = Date.parse(current.lastUpdateTime ?? '');
  if (timed && Number.isFinite(since) && since + deadlineSeconds * 1000 < now.getTime()) {
    return { condition: make('False', PROGRESS_DEADLINE_EXCEEDED, `ReplicaSet "${next.newName}" has timed out progressing.`, false) };
  }
  const recheckMs = recheck(current.lastUpdateTime);
  return recheckMs === undefined ? { condition: current } : { condition: current, recheckMs };
}

export function createDeploymentController(ctx: ControlContext): Controller {
  const deployments = ctx.informer(Kinds.deployments);
  const replicaSets = ctx.informer(Kinds.replicasets);
  const pods = podsByOwner(ctx);
  // A second addIndex of the same name keeps the first: controllers share these caches.
  replicaSets.addIndex(OWNER_INDEX, (rs) => {
    const ref = controllerRef(rs);
    return ref ? [ref.uid] : [];
  });
  withOrphanIndex(replicaSets);
  const podsOf = (rs: KubeObject): RsPods => {
    const minReady = asReplicaSet(rs).spec?.minReadySeconds ?? 0;
    const now = new Date();
    const active = pods.byIndex(OWNER_INDEX, rs.metadata.uid ?? '').filter(isActive);
    return { active: active.length, ready: active.filter(isReady).length, available: active.filter((p) => isAvailable(p, minReady, now)).length };
  };
  const reconcile = async (key: string): Promise<void> => {
    const d = deployments.get(key);
    if (!d || d.metadata.deletionTimestamp) return;
    // Adopt orphan ReplicaSets the selector matches (e.g. left by `delete --cascade=orphan`), release relabelled ones.
    const claims = planClaims(d, [...replicaSets.byIndex(OWNER_INDEX, d.metadata.uid ?? ''), ...replicaSets.byIndex(ORPHAN_INDEX, d.metadata.namespace ?? '')], claimSelector(d));
    let owned = claims.owned;
    if (claims.adopt.length > 0 || claims.release.length > 0) {
      const result = await executeClaims(ctx.client, Kinds.deployments, d, Kinds.replicasets, replicaSets, claims);
      if (result.conflicts > 0) throw new Error(`${result.conflicts} ReplicaSet(s) changed while Deployment ${d.metadata.name ?? ''} claimed them; retrying`);
      owned = result.owned;
    }
    const plan = planDeployment(d, owned, podsOf, new Date());
    if (plan.create) {
      try {
        replicaSets.observe(await ctx.client.create(Kinds.replicasets, plan.create));
      } catch (error) {
        // A ReplicaSet of that name exists but is not ours (or not seen yet): the next pass decides.
        if ((error as { code?: number }).code !== 409) throw error;
      }
    }
    for (const rs of plan.update) replicaSets.observe(await ctx.client.update(Kinds.replicasets, rs));
    for (const rs of plan.delete) await ctx.client.delete(Kinds.replicasets, rs.metadata.namespace, rs.metadata.name ?? '').catch((e: unknown) => ((e as { code?: number }).code === 404 ? undefined : Promise.reject(e)));
    let current = d;
    if (plan.revision) {
      current = await ctx.client.update(Kinds.deployments, { ...d, metadata: { ...d.metadata, annotations: { ...(d.metadata.annotations ?? {}), [REVISION]: plan.revision } } });
      deployments.observe(current);
    }
    // The status after these writes: plan again on the updated caches so rollout status sees the truth.
    const after = planDeployment(current, replicaSets.byIndex(OWNER_INDEX, d.metadata.uid ?? ''), podsOf, new Date());
    const prev = asDeployment(current).status ?? {};
    const stripTimes = (s: DeploymentStatus) => JSON.stringify({ ...s, conditions: (s.conditions ?? []).map((c) => ({ ...c, lastUpdateTime: undefined, lastTransitionTime: undefined })) });
    if (stripTimes(prev) !== stripTimes(after.status)) deployments.observe(await ctx.client.update(Kinds.deployments, { ...current, status: after.status }, { subresource: 'status' }));
    // Nothing may happen before the progress deadline passes (a stuck rollout): look again then.
    if (after.recheckMs !== undefined) queue.addAfter(key, after.recheckMs);
  };
  const queue = new WorkQueue(reconcile, { paused: true, workers: 4, onError: (key, error) => ctx.failed('deployment', key, error) });
  const enqueueOwner = (obj: KubeObject, kind: string): void => {
    const ref = controllerRef(obj);
    if (ref && ref.kind === kind) queue.add(`${obj.metadata.namespace ?? 'default'}/${ref.name}`);
  };
  deployments.on((_t, d) => queue.add(keyOf(d)));
  replicaSets.on((type, rs, old) => {
    enqueueOwner(rs, 'Deployment');
    if (old && old !== rs) enqueueOwner(old, 'Deployment');
    // An orphan ReplicaSet: a Deployment whose selector matches may adopt it.
    if (type !== 'delete') for (const key of matchingControllers(deployments, rs)) queue.add(key);
  });
  pods.on((_t, pod) => {
    const ref = controllerRef(pod);
    if (!ref || ref.kind !== 'ReplicaSet') return;
    const rs = replicaSets.get(`${pod.metadata.namespace ?? 'default'}/${ref.name}`);
    if (rs) enqueueOwner(rs, 'Deployment');
  });
  return { name: 'deployment', start: () => queue.resume(), stop: () => queue.stop() };
}
