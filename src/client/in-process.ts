// The Client inside a node's process: straight to the Registry, no HTTP, no authorization (the
// callers are the node's own control loops). Patches use the same functions as the server.
import { ApiError, type Registry, type RegistryWrite } from '../api/registry.ts';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, bindPod, findResource, PatchError, patchPinsResourceVersion, SelectorError, badRequest, failure, type JsonPatchOp, type KubeObject, type Status } from '../api/resources/index.ts';
import { bindOneByOne } from './bind-all.ts';
import { ClientError, type Client, type PodBinding } from './client.ts';
import { MAX_BINDINGS_PER_TXN } from './well-known.ts';

async function mapped<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof ApiError) throw new ClientError(error.status);
    if (error instanceof SelectorError) throw new ClientError(badRequest(error.message));
    if (error instanceof PatchError) throw new ClientError(failure(error.code, error.code === 422 ? 'Invalid' : 'BadRequest', error.message));
    throw error;
  }
}

export class InProcessClient implements Client {
  constructor(private readonly registry: Registry) {}

  /**
   * A client for the Raft leader's control loops of `term`: claims the registry's write fence for
   * the term (ClientError 409 "fenced: ..." when a newer term holds it) and carries it on every write.
   */
  static async fenced(registry: Registry, term: number, holder: string): Promise<InProcessClient> {
    const fence = await mapped(() => registry.acquireFence(term, holder));
    return new InProcessClient(registry.fenced(fence));
  }

  get: Client['get'] = (info, namespace, name) => mapped(() => this.registry.get(info, namespace, name));

  list: Client['list'] = (info, options = {}) => mapped(() => this.registry.list(info, options));

  watch: Client['watch'] = (info, options, onEvent, onError) =>
    mapped(() => {
      const w = this.registry.watch(info, { ...options, fromRevision: Number(options.resourceVersion) }, (type, object) => onEvent({ type, object }), onError);
      return Promise.resolve({ stop: () => w.cancel() });
    });

  create: Client['create'] = (info, object, options = {}) => mapped(() => this.registry.create(info, object.metadata.namespace, object, options));

  update: Client['update'] = (info, object, options = {}) => mapped(() => this.registry.update(info, object.metadata.namespace, object.metadata.name ?? '', object, options));

  patch: Client['patch'] = (info, namespace, name, type, patch) =>
    mapped(() =>
      this.registry.updateFrom(
        info,
        namespace,
        name,
        (current): KubeObject => {
          if (type === 'json') return applyJsonPatch(current, patch as JsonPatchOp[]) as KubeObject;
          if (type === 'merge') return applyMergePatch(current, patch) as KubeObject;
          return applyStrategicMergePatch(info, current, patch) as KubeObject;
        },
        { retryOnConflict: !patchPinsResourceVersion(type, patch) },
      ),
    );

  delete: Client['delete'] = (info, namespace, name, options = {}) => mapped(() => this.registry.delete(info, namespace, name, options));

  bind: Client['bind'] = (namespace, podName, nodeName) =>
    mapped(async () => {
      const pods = findResource('', 'v1', 'pods');
      if (!pods) throw new Error('pods missing from the resource catalog');
      // This node's copy is enough: the write below compares the pod's revision (409 if it moved).
      const pod = await this.registry.get(pods, namespace, podName, true);
      const bound = bindPod(pods, pod, { apiVersion: 'v1', kind: 'Binding', metadata: { name: podName, namespace }, target: { kind: 'Node', name: nodeName } }, new Date());
      if (bound.kind === 'Status') throw new ClientError(bound as Status);
      await this.registry.writeIfUnchanged(pods, pod, bound as KubeObject);
    });

  /**
   * The bindings and their Events in one store transaction per batch (Registry.writeAll), each
   * binding against the pod's resourceVersion the caller decided on, so no read is needed; when
   * the transaction is refused (a pod had moved since), the batch is done one by one with a fresh
   * read, as `bind`. Invalid Events are left out rather than failing their bindings.
   */
  bindAll: Client['bindAll'] = (bindings) =>
    mapped(async () => {
      const pods = findResource('', 'v1', 'pods');
      const events = findResource('', 'v1', 'events');
      if (!pods || !events) throw new Error('pods or events missing from the resource catalog');
      const results: (Status | null)[] = new Array<Status | null>(bindings.length).fill(null);
      const now = new Date();
      // Two writes per binding with its Event: a batch stays within one transaction.
      const perBatch = MAX_BINDINGS_PER_TXN;
      const batches: { index: number; binding: PodBinding; writes: RegistryWrite[] }[][] = [];
      let batch: { index: number; binding: PodBinding; writes: RegistryWrite[] }[] = [];
      bindings.forEach((binding, index) => {
        const { pod, nodeName, event } = binding;
        const namespace = pod.metadata.namespace ?? 'default';
        const bound = bindPod(pods, pod, { apiVersion: 'v1', kind: 'Binding', metadata: { name: pod.metadata.name, namespace }, target: { kind: 'Node', name: nodeName } }, now);
        if (bound.kind === 'Status') {
          results[index] = bound as Status;
          return;
        }
        const writes: RegistryWrite[] = [{ op: 'replace', info: pods, old: pod, obj: bound as KubeObject }];
        if (event) writes.push({ op: 'create', info: events, namespace: event.metadata.namespace ?? namespace, obj: event });
        batch.push({ index, binding, writes });
        if (batch.length === perBatch) {
          batches.push(batch);
          batch = [];
        }
      });
      if (batch.length > 0) batches.push(batch);
      await Promise.all(
        batches.map(async (items) => {
          let applied: boolean;
          try {
            applied = await this.registry.writeAll(items.flatMap((item) => item.writes));
          } catch (error) {
            // An invalid Event (422) must not cost the bindings: the batch is done one by one.
            if (!(error instanceof ApiError && (error.status.code === 422 || error.status.code === 400))) throw error;
            applied = false;
          }
          if (applied) return;
          const answers = await bindOneByOne(this, items.map((item) => item.binding));
          answers.forEach((answer, i) => (results[items[i]!.index] = answer));
        }),
      );
      return results;
    });
}
