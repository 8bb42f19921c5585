import { WorkQueue } from '../../client/cache/index.ts';
import { PodLifecycleEvents } from './pod-lifecycle-events.ts';
import type { Pod, PodStatus } from '../../client/index.ts';
import type { PodWorker } from './pod-worker.ts';
import { isMirrorPod } from '../mirror-pods.ts';

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
  /**
   * How often the node's containers are listed (one engine call) to catch an exit the engine's
   * event stream did not deliver; exits themselves wake their pod at once (default 20 s).
   */
  relistPeriodMs?: number;
  maxConcurrentSyncs?: number;
  /** A pod's sync failed (its uid), or the relist of the node's containers failed (uid ''). */
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
  /** When a pod needs a sync though its object did not change: its containers exited or changed. */
  private readonly lifecycle: PodLifecycleEvents;
  /** The running sync of each pod, aborted when the pod is deleted (an image pull may take minutes). */
  private readonly syncAborts = new Map<string, AbortController>();
  constructor(private readonly options: PodReconcilerOptions) {
    this.queue = new WorkQueue((uid) => this.process(uid), {
      workers: options.maxConcurrentSyncs ?? 4,
      onError: (uid, error) => options.onError?.(uid, error instanceof Error ? error : new Error(String(error))),
    });
    this.lifecycle = new PodLifecycleEvents({
      runtime: options.worker.runtime,
      relistPeriodMs: options.relistPeriodMs ?? 20_000,
      // Containers of pods this loop does not hold (one finishing its deletion) are not its business.
      onPodChanged: (uid) => {
        if (this.pods.has(uid)) this.enqueue(uid);
      },
      onError: (error) => options.onError?.('', error instanceof Error ? error : new Error(String(error))),
    });
  }

  async start(): Promise<void> {
    const { initial, stop } = await this.options.api.watchPods(this.options.nodeName, (event) => this.onEvent(event));
    this.watch = { stop };
    for (const pod of initial) this.pods.set(pod.metadata.uid, pod);
    // Pods deleted while the agent was down have containers but no object any more.
    await this.options.worker.removeOrphans(new Set(this.pods.keys()), 0);
    for (const uid of this.pods.keys()) this.enqueue(uid);
    this.lifecycle.start();
  }

  async stop(): Promise<void> {
    this.watch?.stop();
    await this.lifecycle.stop();
    for (const abort of this.syncAborts.values()) abort.abort(new Error('the pod loop stopped'));
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
    const uid = event.type === 'upsert' ? event.pod.metadata.uid : event.uid;
    if (event.type === 'deleted' || event.pod.metadata.deletionTimestamp) {
      // Deleting must not wait for a sync stuck in an image pull: the deletion runs right after it gives up.
      this.syncAborts.get(uid)?.abort(new Error(`pod ${uid} is being deleted`));
    }
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
    // A mirror pod is a view of a component built into this process (mirror-pods.ts): nothing to run.
    if (isMirrorPod(pod)) return;
    const status = await this.syncCancellable(pod);
    if (!status) return; // aborted: the deletion that aborted it is queued
    // A probe falling due, a back-off running out, a pod still starting; an idle pod waits for events.
    const after = this.options.worker.resyncAfterMs(pod, status);
    if (after !== null) this.queue.addAfter(uid, after);
    const serialized = JSON.stringify(status);
    if (this.lastWritten.get(uid) !== serialized) {
      await this.options.api.writeStatus(pod, status);
      this.lastWritten.set(uid, serialized);
      pod.status = status;
    }
  }

  /** The pod's sync, or null when a deletion (or stop) aborted it. */
  private async syncCancellable(pod: Pod): Promise<PodStatus | null> {
    const abort = new AbortController();
    this.syncAborts.set(pod.metadata.uid, abort);
    try {
      return await this.options.worker.sync(pod, abort.signal);
    } catch (error) {
      if (abort.signal.aborted) return null;
      throw error;
    } finally {
      this.syncAborts.delete(pod.metadata.uid);
    }
  }
}
