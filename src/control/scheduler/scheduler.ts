// The scheduler loop: pods without a node are queued; each is placed by schedule() over the
// scheduler's incremental view of the cluster and bound through the binding subresource. The
// decision is "assumed" at once (the next pod sees it) while the binding is written, many in
// flight, as Kubernetes' binding cycle. A pod nothing fits gets PodScheduled=False with the
// aggregate message and is tried again when nodes or pods change.
import { asNode, asPod, ClientError, Kinds, MAX_BINDINGS_PER_TXN, type KubeObject, type Pod, type Status } from '../../client/index.ts';
import { keyOf, splitKey, WorkQueue, type EventType, type ObjectInformer } from '../../client/cache/index.ts';
import type { ControlContext, Controller } from '../manager.ts';
import { DEFAULT_PLUGINS, podScheduledFalse, schedule, type Plugins } from './schedule.ts';
import { BindBatcher, type PendingBind } from './bind-batcher.ts';
import { ClusterState } from './state.ts';

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
  return asPod(pod).status?.phase;
}

/** A pod the scheduler should place: no node yet, not being deleted, not finished, ours. */
export function wantsScheduling(pod: KubeObject): boolean {
  const { spec } = asPod(pod);
  if (spec.nodeName) return false;
  if (pod.metadata.deletionTimestamp) return false;
  const phase = phaseOf(pod);
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  return spec.schedulerName === undefined || spec.schedulerName === SCHEDULER_NAME;
}

/** A bound pod that still holds its node's resources. */
function occupies(pod: KubeObject): string | undefined {
  const { nodeName } = asPod(pod).spec;
  const phase = phaseOf(pod);
  return nodeName && phase !== 'Succeeded' && phase !== 'Failed' ? nodeName : undefined;
}

/** The Event of one decision (Scheduled / FailedScheduling), as Kubernetes' scheduler writes it. */
export function schedulingEvent(pod: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string, reportingInstance: string, now = new Date()): KubeObject {
  const ns = pod.metadata.namespace ?? 'default';
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
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
    reportingInstance,
    firstTimestamp: stamp,
    lastTimestamp: stamp,
    count: 1,
  };
}

/**
 * The loop: informers feed the ClusterState and the work queue; scheduleOne decides and hands the
 * binding to the BindBatcher; a refused or failed binding undoes the assumption (bindAnswered).
 */
class Scheduler implements Controller {
  readonly name = 'scheduler';
  private readonly plugins: Plugins;
  private readonly events: boolean;
  private readonly pods: ObjectInformer;
  private readonly state = new ClusterState();
  /** Pods nothing fits now: tried again when nodes or pods change, and on a timer. */
  private readonly unschedulable = new Set<string>();
  private readonly queue: WorkQueue;
  private readonly binds: BindBatcher;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly ctx: ControlContext,
    private readonly options: SchedulerOptions,
  ) {
    this.plugins = options.plugins ?? DEFAULT_PLUGINS;
    this.events = options.events ?? true;
    this.pods = ctx.informer(Kinds.pods);
    this.binds = new BindBatcher({
      bindAll: (bindings) => ctx.client.bindAll(bindings),
      onAnswer: (bind, refusal, error) => this.bindAnswered(bind, refusal, error),
      maxPerBatch: options.maxBindsPerBatch ?? MAX_BINDINGS_PER_TXN,
      maxInFlight: options.maxBindsInFlight ?? 512,
    });
    this.queue = new WorkQueue((key) => this.scheduleOne(key), { paused: true, onError: (key, error) => ctx.failed('scheduler', key, error) });
    ctx.informer(Kinds.nodes).on((type, obj) => this.nodeChanged(type, obj));
    this.pods.on((type, obj) => this.podChanged(type, obj));
  }

  start(): void {
    this.queue.resume();
    this.retryTimer = setInterval(() => this.retryUnschedulable(), this.options.retryUnschedulableMs ?? 10_000);
    this.retryTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    this.queue.stop();
    clearInterval(this.retryTimer);
  }

  private event(pod: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (this.events) void this.ctx.client.create(Kinds.events, schedulingEvent(pod, type, reason, message, this.ctx.nodeName)).catch(() => undefined);
  }

  private retryUnschedulable(): void {
    for (const key of this.unschedulable) this.queue.add(key);
  }

  private async scheduleOne(key: string): Promise<void> {
    const pod = this.pods.get(key);
    if (!pod || !wantsScheduling(pod) || this.state.nodeOf(key) !== undefined) {
      this.unschedulable.delete(key);
      return;
    }
    const result = schedule(asPod(pod), this.state, this.plugins);
    if ('unschedulable' in result) {
      this.unschedulable.add(key);
      await this.markUnschedulable(pod, result.unschedulable);
      return;
    }
    this.unschedulable.delete(key);
    await this.assume(key, pod, result.nodeName);
  }

  /** The decision counts at once (the next pod sees it) while its binding is written. */
  private async assume(key: string, pod: KubeObject, nodeName: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const p = asPod(pod);
    const assumed: Pod = { ...p, spec: { ...p.spec, nodeName } };
    this.state.placePod(key, nodeName, assumed);
    const message = `Successfully assigned ${namespace ?? 'default'}/${name} to ${nodeName}`;
    const event = this.events ? { event: schedulingEvent(pod, 'Normal', 'Scheduled', message, this.ctx.nodeName) } : {};
    await this.binds.add({ key, nodeName, binding: { pod, nodeName, ...event } });
  }

  /** PodScheduled=False with the aggregate message (written only when the message changes). */
  private async markUnschedulable(pod: KubeObject, message: string): Promise<void> {
    const status = asPod(pod).status ?? {};
    const current = status.conditions?.find((c) => c.type === 'PodScheduled');
    if (current?.message === message) return;
    const conditions = [...(status.conditions ?? []).filter((c) => c.type !== 'PodScheduled'), podScheduledFalse(message, new Date())];
    const updated = await this.ctx.client.update(Kinds.pods, { ...pod, status: { ...status, conditions } }, { subresource: 'status' });
    this.pods.observe(updated);
    this.event(pod, 'Warning', 'FailedScheduling', message);
  }

  /** Not bound after all: forget the assumption; a conflict means someone else decided (or the pod went). */
  private bindAnswered({ key, nodeName, binding }: PendingBind, refusal: Status | null | undefined, error?: unknown): void {
    if (refusal === null) return;
    if (this.state.nodeOf(key) === nodeName && !occupies(this.pods.get(key) ?? binding.pod)) this.state.unplacePod(key);
    if (refusal && (refusal.code === 409 || refusal.code === 404)) return;
    this.ctx.failed('scheduler', key, error ?? new ClientError(refusal!));
    if (!this.stopped) this.queue.addRateLimited(key);
  }

  private nodeChanged(type: EventType, obj: KubeObject): void {
    if (type === 'delete') this.state.removeNode(obj.metadata.name ?? '');
    else this.state.setNode(asNode(obj));
    this.retryUnschedulable();
  }

  private podChanged(type: EventType, obj: KubeObject): void {
    const key = keyOf(obj);
    const nodeName = type === 'delete' ? undefined : occupies(obj);
    const before = this.state.nodeOf(key);
    if (nodeName) this.state.placePod(key, nodeName, asPod(obj));
    else if (before !== undefined && (type === 'delete' || asPod(obj).spec.nodeName)) this.state.unplacePod(key);
    if (type === 'delete') this.unschedulable.delete(key);
    if (wantsScheduling(obj)) this.queue.add(key);
    // A pod leaving a node frees room for the pods that did not fit.
    if (before !== undefined && !nodeName && this.unschedulable.size > 0) this.retryUnschedulable();
  }
}

export function createScheduler(ctx: ControlContext, options: SchedulerOptions = {}): Controller {
  return new Scheduler(ctx, options);
}
