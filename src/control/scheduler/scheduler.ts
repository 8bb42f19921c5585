// The scheduler loop: pods without a node are queued; each is placed by schedule() over the
// scheduler's incremental view of the cluster and bound through the binding subresource. The
// decision is "assumed" at once (the next pod sees it) while the binding is written, many in
// flight, as Kubernetes' binding cycle. A pod nothing fits gets PodScheduled=False with the
// aggregate message and is tried again when nodes or pods change.
import { ClientError, Kinds, type KubeObject } from '../../client/index.ts';
import { keyOf, splitKey } from '../informer.ts';
import type { ControlContext, Controller } from '../manager.ts';
import { WorkQueue } from '../queue.ts';
import { DEFAULT_PLUGINS, podScheduledFalse, schedule, type Plugins } from './schedule.ts';
import { ClusterState } from './state.ts';
import type { SchedNode, SchedPod } from './types.ts';

export interface SchedulerOptions {
  plugins?: Plugins;
  /** Bindings written at the same time. */
  maxBindsInFlight?: number;
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
  const maxInFlight = options.maxBindsInFlight ?? 128;
  const events = options.events ?? true;
  const pods = ctx.informer(Kinds.pods);
  const nodes = ctx.informer(Kinds.nodes);
  const state = new ClusterState();
  const unschedulable = new Set<string>();
  const inFlight = new Set<Promise<void>>();
  let retryTimer: NodeJS.Timeout | undefined;
  let stopped = false;

  const event = (pod: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void => {
    if (!events) return;
    const ns = pod.metadata.namespace ?? 'default';
    void ctx.client
      .create(Kinds.events, {
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
        firstTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        lastTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        count: 1,
      })
      .catch(() => undefined);
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
    const bound = { ...pod, spec: { ...(pod['spec'] as object), nodeName: result.nodeName } } as unknown as SchedPod;
    state.placePod(key, result.nodeName, bound);
    const binding = ctx.client.bind(namespace ?? 'default', name, result.nodeName).then(
      () => event(pod, 'Normal', 'Scheduled', `Successfully assigned ${namespace ?? 'default'}/${name} to ${result.nodeName}`),
      (error: unknown) => {
        // Not bound after all: forget the assumption; a conflict means someone else decided (or the pod went).
        if (state.nodeOf(key) === result.nodeName && !occupies(pods.get(key) ?? pod)) state.unplacePod(key);
        if (error instanceof ClientError && (error.code === 409 || error.code === 404)) return;
        ctx.failed('scheduler', key, error);
        if (!stopped) queue.retry(key);
      },
    );
    const tracked: Promise<void> = binding.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
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
