// One typed Client for the Kubernetes API: control loops and the agent use it in-process, the CLI
// and remote tools over HTTPS. Both implementations pass test/integration/client/contract.test.ts.
import { isFencedStatus, type KubeObject, type ResourceInfo, type Status } from '../api/resources/index.ts';

export type PatchType = 'json' | 'merge' | 'strategic';

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
}

export interface WatchHandle {
  stop(): void;
}

export interface Client {
  get(info: ResourceInfo, namespace: string | undefined, name: string): Promise<KubeObject>;
  list(info: ResourceInfo, options?: ListOptions): Promise<{ items: KubeObject[]; resourceVersion: string }>;
  /** Events after `resourceVersion`; `onError` gets the Status that ended the watch (410 when compacted). */
  watch(info: ResourceInfo, options: ListOptions & { resourceVersion: string }, onEvent: (event: WatchEvent) => void, onError: (status: Status) => void): Promise<WatchHandle>;
  create(info: ResourceInfo, object: KubeObject, options?: { dryRun?: boolean }): Promise<KubeObject>;
  update(info: ResourceInfo, object: KubeObject, options?: { subresource?: 'status' }): Promise<KubeObject>;
  patch(info: ResourceInfo, namespace: string | undefined, name: string, type: PatchType, patch: unknown): Promise<KubeObject>;
  /** The deleted (or, with finalizers or a grace period, the marked) object; over HTTP a Status for kinds Kubernetes answers so. */
  delete(info: ResourceInfo, namespace: string | undefined, name: string, options?: DeleteOptions): Promise<KubeObject | Status>;
  /** POST pods/<name>/binding: sets spec.nodeName and PodScheduled=True; 409 when already bound or being deleted. */
  bind(namespace: string, podName: string, nodeName: string): Promise<void>;
  /**
   * Several bindings, each as `bind`, with an optional Event created with it, in as few store
   * writes as the implementation can (in-process: one transaction per batch; HTTP: one request
   * each). Per binding: null when bound, or the Status that refused it (404, 409). Failures of
   * the Events are not reported; a fenced client's lost fence rejects the whole call.
   */
  bindAll(bindings: readonly PodBinding[]): Promise<(Status | null)[]>;
}

/** One binding of bindAll. */
export interface PodBinding {
  /** The pod as the caller decided on it (namespace, name; its resourceVersion lets a batch skip a read). */
  pod: KubeObject;
  nodeName: string;
  /** An Event (e.g. Scheduled) to create once the pod is bound, in the same write when possible. */
  event?: KubeObject;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  /** What happens to the object's dependents (ownerReferences): see the garbage collector. */
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
}

/** Whether a request was refused by the write fence: this node's control loops lost the cluster. */
export function isFenced(error: unknown): boolean {
  return error instanceof ClientError && isFencedStatus(error.status);
}

/** A request the API refused; `status` is the Kubernetes Status it answered. */
export class ClientError extends Error {
  constructor(readonly status: Status) {
    super(status.message ?? `request failed with ${status.code ?? '?'}`);
    this.name = 'ClientError';
  }

  get code(): number {
    return this.status.code ?? 0;
  }
}
