// The scheduler loop: pods without a node are queued; each is placed by schedule() over the
// scheduler's incremental view of the cluster and bound through the binding subresource. The
// decision is "assumed" at once (the next pod sees it) while the binding is written, many in
// flight, as Kubernetes' binding cycle. A pod nothing fits gets PodScheduled=False with the
// aggregate message and is tried again when nodes or pods change.
import { ClientError, Kinds, MAX_BINDINGS_PER_TXN, type KubeObject, type PodBinding, type Status } from '../../client/index.ts';
import { keyOf, splitKey, WorkQueue } from '../../client/cache/index.ts';
import type { ControlContext, Controller } from '../manager.ts';
import { DEFAULT_PLUGINS, podScheduledFalse, schedule, type Plugins } from './schedule.ts';
import { ClusterState } from './state.ts';
import type { SchedNode, SchedPod } from './types.ts';

export interface SchedulerOptions {
  plugins?: Plugins;
  /** Bindings written at the same time (decisions wait beyond this). */
  maxBindsInFlight?: number;
  /**
   * Bindings (each with its Event) written as one store transaction: decisions made while the
   * previous batches are written go out together, so one Raft entry carries many bindings.
   */
  maxBindsPerBatch?: number;
  /** An Event per decision (Scheduled / FailedScheduling). */
  events?: boolean;
  /** Unschedulable pods are tried again at least this often. */
  retryUnschedulableMs?: number;
}

export const SCHEDULER_NAME = 'default-scheduler';

function phaseOf(pod: KubeObject): string | undefined {
  return (pod['status'] as { phase?: string } | undefined)?.phase;
}

/** A pod the scheduler should place: no node yet, not being deleted, not finished, ours. */
export function wantsScheduling(pod: KubeObject): boolean {
  const spec = pod['spec'] as { nodeName?: string; schedulerName?: string } | undefined;
  if (!spec || spec.nodeName) return false;
  if (pod.metadata.deletionTimestamp) return false;
  const phase = phaseOf(pod);
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  return spec.schedulerName === undefined || spec.schedulerName === SCHEDULER_NAME;
}

/** A bound pod that still holds its node's resources. */
function occupies(pod: KubeObject): string | undefined {
  const nodeName = (pod['spec'] as { nodeName?: string } | undefined)?.nodeName;
  const phase = phaseOf(pod);
  return nodeName && phase !== 'Succeeded' && phase !== 'Failed' ? nodeName : undefined;
}

export function createScheduler(ctx: ControlContext, options: SchedulerOptions = {}): Controller {
  const plugins = options.plugins ?? DEFAULT_PLUGINS;
  const maxInFlight = options.maxBindsInFlight ?? 512;
  const maxPerBatch = options.maxBindsPerBatch ?? MAX_BINDINGS_PER_TXN;
  const events = options.events ?? true;
  const pods = ctx.informer(Kinds.pods);
  const nodes = ctx.informer(Kinds.nodes);
  const state = new ClusterState();
  const unschedulable = new Set<string>();
  let retryTimer: NodeJS.Timeout | undefined;
  let stopped = false;

  const eventObject = (pod: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): KubeObject => {
    const ns = pod.metadata.namespace ?? 'default';
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${pod.metadata.name ?? 'pod'}.`, namespace: ns },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, namespace: ns, uid: pod.metadata.uid, resourceVersion: pod.metadata.resourceVersion },
      reason,
      message,
      type,
      source: { component: SCHEDULER_NAME },
      reportingComponent: SCHEDULER_NAME,
      reportingInstance: ctx.nodeName,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
  };

  const event = (pod: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void => {
    if (events) void ctx.client.create(Kinds.events, eventObject(pod, type, reason, message)).catch(() => undefined);
  };

  // Decisions waiting for their binding write: flushed as one bindAll when a batch is full, or
  // once the decisions queued now are made (setImmediate runs after the queue's microtasks).
  let pending: { key: string; nodeName: string; binding: PodBinding }[] = [];
  let flushScheduled = false;
  let bindsInFlight = 0;
  const settled = new Set<Promise<void>>();

  const bound = (key: string, nodeName: string, pod: KubeObject, refusal: Status | null | undefined, error?: unknown): void => {
    if (refusal === null) return;
    // Not bound after all: forget the assumption; a conflict means someone else decided (or the pod went).
    if (state.nodeOf(key) === nodeName && !occupies(pods.get(key) ?? pod)) state.unplacePod(key);
    if (refusal && (refusal.code === 409 || refusal.code === 404)) return;
    ctx.failed('scheduler', key, error ?? new ClientError(refusal!));
    if (!stopped) queue.addRateLimited(key);
  };

  const flush = (): void => {
    flushScheduled = false;
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    bindsInFlight += batch.length;
    const write: Promise<void> = ctx.client.bindAll(batch.map((b) => b.binding)).then(
      (answers) => answers.forEach((answer, i) => bound(batch[i]!.key, batch[i]!.nodeName, batch[i]!.binding.pod, answer)),
      (error: unknown) => batch.forEach((b) => bound(b.key, b.nodeName, b.binding.pod, undefined, error)),
    );
    const tracked: Promise<void> = write.finally(() => {
      bindsInFlight -= batch.length;
      settled.delete(tracked);
    });
    settled.add(tracked);
  };

  const retryUnschedulable = (): void => {
    for (const key of unschedulable) queue.add(key);
  };

  const markUnschedulable = async (pod: KubeObject, message: string): Promise<void> => {
    const status = (pod['status'] as { conditions?: { type: string; message?: string }[] } | undefined) ?? {};
    const current = status.conditions?.find((c) => c.type === 'PodScheduled');
    if (current?.message === message) return;
    const conditions = [...(status.conditions ?? []).filter((c) => c.type !== 'PodScheduled'), podScheduledFalse(message, new Date())];
    const updated = await ctx.client.update(Kinds.pods, { ...pod, status: { ...status, conditions } }, { subresource: 'status' });
    pods.observe(updated);
    event(pod, 'Warning', 'FailedScheduling', message);
  };

  const scheduleOne = async (key: string): Promise<void> => {
    const pod = pods.get(key);
    if (!pod || !wantsScheduling(pod) || state.nodeOf(key) !== undefined) {
      unschedulable.delete(key);
      return;
    }
    const result = schedule(pod as unknown as SchedPod, state, plugins);
    if ('unschedulable' in result) {
      unschedulable.add(key);
      await markUnschedulable(pod, result.unschedulable);
      return;
    }
    unschedulable.delete(key);
    const { namespace, name } = splitKey(key);
    const assumed = { ...pod, spec: { ...(pod['spec'] as object), nodeName: result.nodeName } } as unknown as SchedPod;
    state.placePod(key, result.nodeName, assumed);
    const message = `Successfully assigned ${namespace ?? 'default'}/${name} to ${result.nodeName}`;
    pending.push({ key, nodeName: result.nodeName, binding: { pod, nodeName: result.nodeName, ...(events ? { event: eventObject(pod, 'Normal', 'Scheduled', message) } : {}) } });
    if (pending.length >= maxPerBatch) flush();
    else if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
    while (bindsInFlight + pending.length >= maxInFlight && settled.size > 0) await Promise.race(settled);
  };

  const queue = new WorkQueue(scheduleOne, { paused: true, onError: (key, error) => ctx.failed('scheduler', key, error) });

  nodes.on((type, obj) => {
    if (type === 'delete') state.removeNode(obj.metadata.name ?? '');
    else state.setNode(obj as unknown as SchedNode);
    retryUnschedulable();
  });
  pods.on((type, obj) => {
    const key = keyOf(obj);
    const nodeName = type === 'delete' ? undefined : occupies(obj);
    const before = state.nodeOf(key);
    if (nodeName) state.placePod(key, nodeName, obj as unknown as SchedPod);
    else if (before !== undefined && (type === 'delete' || (obj['spec'] as { nodeName?: string }).nodeName)) state.unplacePod(key);
    if (type === 'delete') unschedulable.delete(key);
    if (wantsScheduling(obj)) queue.add(key);
    // A pod leaving a node frees room for the pods that did not fit.
    if (before !== undefined && !nodeName && unschedulable.size > 0) retryUnschedulable();
  });

  return {
    name: 'scheduler',
    start() {
      queue.resume();
      retryTimer = setInterval(retryUnschedulable, options.retryUnschedulableMs ?? 10_000);
      retryTimer.unref();
    },
    stop() {
      stopped = true;
      queue.stop();
      clearInterval(retryTimer);
    },
  };
}
