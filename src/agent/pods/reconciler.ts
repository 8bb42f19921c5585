import { WorkQueue } from '../../client/cache/index.ts';
import type { Pod, PodStatus } from './pod-types.ts';
import type { PodWorker } from './pod-worker.ts';

export type PodEvent = { type: 'upsert'; pod: Pod } | { type: 'deleted'; uid: string };

/**
 * What the reconcile loop needs from the API server, in three calls; the API client implements it
 * (a watch on pods with spec.nodeName=<node>, the status subresource, a delete with grace 0).
 */
export interface PodApi {
  /** The pods bound to the node now, then each change through `onEvent` until `stop`. */
  watchPods(nodeName: string, onEvent: (event: PodEvent) => void): Promise<{ initial: Pod[]; stop(): void }>;
  writeStatus(pod: Pod, status: PodStatus): Promise<void>;
  /** The last step of a graceful deletion: the containers are gone, the object may go. */
  finishDeletion(pod: Pod): Promise<void>;
}

export interface PodReconcilerOptions {
  worker: PodWorker;
  api: PodApi;
  nodeName: string;
  /** Every pod is synced at least this often (probes and restarts advance on syncs). */
  resyncIntervalMs?: number;
  maxConcurrentSyncs?: number;
  onError?: (uid: string, error: Error) => void;
}

/**
 * The agent's loop: keeps the node's containers in line with the pods bound to it. Each pod is
 * synced by one task at a time (a change during a sync runs it again after), at most N pods at
 * once, and status is written only when it differs from what was last written, so an idle node
 * sends nothing to the API (and nothing through Raft).
 */
export class PodReconciler {
  private readonly pods = new Map<string, Pod>();
  private readonly lastWritten = new Map<string, string>();
  /** Pod uids to sync: one sync per pod at a time, a change meanwhile runs it again, a failure retries with backoff. */
  private readonly queue: WorkQueue;
  private watch: { stop(): void } | null = null;
  private timer: NodeJS.Timeout | null = null;
  constructor(private readonly options: PodReconcilerOptions) {
    this.queue = new WorkQueue((uid) => this.process(uid), {
      workers: options.maxConcurrentSyncs ?? 4,
      onError: (uid, error) => options.onError?.(uid, error instanceof Error ? error : new Error(String(error))),
    });
  }

  async start(): Promise<void> {
    const { initial, stop } = await this.options.api.watchPods(this.options.nodeName, (event) => this.onEvent(event));
    this.watch = { stop };
    for (const pod of initial) this.pods.set(pod.metadata.uid, pod);
    // Pods deleted while the agent was down have containers but no object any more.
    await this.options.worker.removeOrphans(new Set(this.pods.keys()), 0);
    for (const uid of this.pods.keys()) this.enqueue(uid);
    this.timer = setInterval(() => {
      for (const uid of this.pods.keys()) this.enqueue(uid);
    }, this.options.resyncIntervalMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.watch?.stop();
    if (this.timer) clearInterval(this.timer);
    this.queue.stop();
    await this.queue.drain();
  }

  /** The pod object of a uid bound to this node, as last seen. */
  pod(uid: string): Pod | undefined {
    return this.pods.get(uid);
  }

  /** Resolves when no sync is queued or running. */
  idle(): Promise<void> {
    return this.queue.drain();
  }

  private onEvent(event: PodEvent): void {
    if (event.type === 'upsert') {
      this.pods.set(event.pod.metadata.uid, event.pod);
      this.enqueue(event.pod.metadata.uid);
    } else {
      this.pods.delete(event.uid);
      this.enqueue(event.uid);
    }
  }

  private enqueue(uid: string): void {
    this.queue.add(uid);
  }

  private async process(uid: string): Promise<void> {
    const pod = this.pods.get(uid);
    if (!pod) {
      // Gone without a graceful deletion (force delete, or the agent missed it): nothing waits for the grace period.
      await this.options.worker.kill(uid, 0);
      this.lastWritten.delete(uid);
      return;
    }
    if (pod.metadata.deletionTimestamp) {
      const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
      await this.options.worker.kill(uid, grace);
      await this.options.api.finishDeletion(pod);
      this.pods.delete(uid);
      this.lastWritten.delete(uid);
      return;
    }
    const status = await this.options.worker.sync(pod);
    const serialized = JSON.stringify(status);
    if (this.lastWritten.get(uid) !== serialized) {
      await this.options.api.writeStatus(pod, status);
      this.lastWritten.set(uid, serialized);
      pod.status = status;
    }
  }
}
