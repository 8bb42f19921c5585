// Kubernetes objects in the replicated store: resource <-> key `/registry/<resource>/<ns>/<name>`,
// resourceVersion = the store's modRevision of the key, optimistic concurrency through a txn that
// compares modRevision. Secrets pass through the SecretCipher, bound to their key.
import { randomUUID } from 'node:crypto';
import type { SecretCipher } from './encryption/index.ts';
import {
  alreadyExists,
  applyDefaults,
  badRequest,
  conflict,
  failure,
  fenced,
  findResource,
  gone,
  invalidStatus,
  matchesFields,
  matchesLabels,
  notFound,
  parseFieldSelector,
  parseLabelSelector,
  planDeletion,
  prepareForCreate,
  readyToRemove,
  prepareForUpdate,
  validateCreate,
  validateUpdate,
  type KubeObject,
  type PropagationPolicy,
  type ResourceInfo,
  type Status,
} from './resources/index.ts';
import { decodeContinue, encodeContinue, expiredContinue, InvalidContinueError, type ContinuePoint } from './list-continue.ts';
import { allocateService, allocationsOf, DEFAULT_SERVICE_CIDR, newAllocations, parseServiceCidr, type ServiceCidr } from './service-alloc.ts';
import { CompactedError, FutureRevisionError, MAX_TXN_OPS, prefixRangeEnd, type KeyValue, type RangeOptions, type RangeResponse, type TxnRequest, type TxnResponse, type WatchCallback, type WatchOptions, type Watch } from '../store/index.ts';

/** What the registry needs of the store: ReplicatedStore satisfies it. */
export interface RegistryStore {
  range(options: RangeOptions, consistency?: { serializable?: boolean }): Promise<RangeResponse>;
  txn(request: Omit<TxnRequest, 'op'>): Promise<TxnResponse>;
  watch(options: WatchOptions, callback: WatchCallback): Watch;
}

/** A failed request with the Kubernetes Status to answer. */
export class ApiError extends Error {
  constructor(readonly status: Status) {
    super(status.message ?? 'error');
    this.name = 'ApiError';
  }
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function registryPrefix(info: ResourceInfo, namespace?: string): string {
  return info.namespaced && namespace ? `/registry/${info.resource}/${namespace}/` : `/registry/${info.resource}/`;
}

export function registryKey(info: ResourceInfo, namespace: string | undefined, name: string): string {
  return info.namespaced ? `/registry/${info.resource}/${namespace ?? 'default'}/${name}` : `/registry/${info.resource}/${name}`;
}

/** Secret.stringData is write-only: the API server folds it into data (base64) before storing. */
function foldStringData(info: ResourceInfo, obj: KubeObject): KubeObject {
  if (info.kind !== 'Secret' || obj['stringData'] === null || typeof obj['stringData'] !== 'object') return obj;
  const data: Record<string, unknown> = { ...((obj['data'] as Record<string, unknown> | undefined) ?? {}) };
  for (const [k, v] of Object.entries(obj['stringData'] as Record<string, unknown>)) if (typeof v === 'string') data[k] = Buffer.from(v, 'utf8').toString('base64');
  const out: KubeObject = { ...obj, data };
  delete out['stringData'];
  return out;
}

export interface ListQuery {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** serve from this node's state (resourceVersion=0), whole (no paging) unless continued */
  local?: boolean;
  /** At most this many objects (0 or absent: all); the rest through `continue`. */
  limit?: number;
  /** The token of the previous page (ListResult.continue). */
  continue?: string;
  /** Read at exactly this revision (resourceVersionMatch=Exact); ignored with `continue`. */
  revision?: number;
}

/** One list or page: `continue` (and `remainingItemCount` when no selector) only when more items remain. */
export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

/** How many keys one read of a filtered page asks for at most (Kubernetes' maxLimit). */
const MAX_LIST_FETCH = 10_000;

const everything = (): boolean => true;

/** The label and field selectors of a query as one predicate (`everything` when there are none). */
function selectorMatcher(info: ResourceInfo, query: ListQuery): (obj: KubeObject) => boolean {
  const labels = query.labelSelector ? parseLabelSelector(query.labelSelector) : undefined;
  const fields = query.fieldSelector ? parseFieldSelector(query.fieldSelector, info) : undefined;
  if (!labels && !fields) return everything;
  return (o) => (labels ? matchesLabels(labels, o.metadata.labels) : true) && (fields ? matchesFields(fields, o) : true);
}

/** Where a continued list resumes; 400 with Kubernetes' message for a token this server cannot use. */
function continuePoint(token: string, prefix: string): ContinuePoint {
  try {
    return decodeContinue(token, prefix);
  } catch (error) {
    if (error instanceof InvalidContinueError) throw new ApiError(badRequest(`invalid continue token: ${error.message}`));
    throw error;
  }
}

export interface WriteOptions {
  dryRun?: boolean;
}

/**
 * The control plane's write fence: the store key the Raft leader's control loops claimed for
 * their term, and the revision of that claim. A fenced registry's writes apply only while the key
 * is unchanged, so once a newer leader claims it, a deposed leader's late writes all fail.
 */
export interface Fence {
  term: number;
  holder: string;
  revision: number;
}

/** One write of Registry.writeAll. */
export type RegistryWrite =
  | { op: 'replace'; info: ResourceInfo; old: KubeObject; obj: KubeObject }
  | { op: 'create'; info: ResourceInfo; namespace: string | undefined; obj: KubeObject };

/** The writes one writeAll may hold: the store's comparisons per transaction, one of them the fence's. */
export const MAX_WRITES_PER_TXN = MAX_TXN_OPS - 1;

/** Outside /registry/: not an API object, never listed or watched through the API. */
export const FENCE_KEY = '/bramble/control/leader';

/**
 * Under this prefix, one key per ClusterIP offset (`ip/<n>`) and node port (`port/<n>`): every
 * Service write that takes a number rewrites its key, and commits only if that key did not move
 * since the Services were read. Two concurrent writes that want the same number cannot both commit;
 * writes that take different numbers do not wait for each other. The keys are markers, not a
 * record of what is held (the stored Services are): one left behind by a deleted Service is older
 * than any later read and blocks nothing.
 */
export const SERVICE_CLAIMS_PREFIX = '/bramble/services/claims/';
/** Beyond this many numbers in one write (a range of node ports), it claims `many` (see allocateServiceFor); far below MAX_TXN_OPS. */
const MAX_CLAIMS_PER_WRITE = 48;

export interface RegistryOptions {
  /** Where ClusterIPs come from (`bramble up --service-cidr`, default 10.43.0.0/16). */
  serviceCidr?: string;
  /** Where dynamic allocation starts scanning (tests pass a fixed one). */
  random?: () => number;
}

/** Extra conditions and writes of one store transaction. */
interface TxnExtra {
  compare: TxnRequest['compare'];
  success: TxnRequest['success'];
}

const NO_EXTRA: TxnExtra = { compare: [], success: [] };

const SERVICES = findResource('', 'v1', 'services')!;

/**
 * Allocations of one API server take turns (SerialLock); one of another server that claimed the same
 * number first makes a create or update allocate again, this often at most, then answer 409.
 */
const ALLOCATION_ATTEMPTS = 16;

/** Runs tasks one at a time, in call order. */
class SerialLock {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.tail.then(task, task);
    this.tail = next.catch(() => undefined);
    return next;
  }
}
const ALLOCATION_RACE = 'other Services took cluster IPs or node ports at the same time; please try again';

export class Registry {
  private fence: Fence | undefined;
  readonly serviceCidr: ServiceCidr;
  /** Shared with the fenced views: this server's Service allocations never race each other. */
  private allocationLock = new SerialLock();

  constructor(
    private readonly store: RegistryStore,
    private readonly cipher: SecretCipher | undefined,
    private readonly now: () => Date = () => new Date(),
    private readonly options: RegistryOptions = {},
  ) {
    this.serviceCidr = parseServiceCidr(options.serviceCidr ?? DEFAULT_SERVICE_CIDR);
  }

  /** A view of this registry whose writes carry `fence` (see Fence). */
  fenced(fence: Fence): Registry {
    const view = new Registry(this.store, this.cipher, this.now, this.options);
    view.fence = fence;
    view.allocationLock = this.allocationLock;
    return view;
  }

  /**
   * A Service with its ClusterIP and node ports allocated against the Services stored now, and the
   * transaction parts that make the write fail if another allocation committed meanwhile (`old`:
   * the stored Service of an update, whose own IP and ports stay its).
   */
  private async allocateServiceFor(obj: KubeObject, old: KubeObject | undefined): Promise<{ obj: KubeObject; extra: TxnExtra }> {
    const prefix = enc.encode(registryPrefix(SERVICES));
    const stored = await this.store.range({ key: prefix, rangeEnd: prefixRangeEnd(prefix) });
    const self = registryKey(SERVICES, obj.metadata.namespace, obj.metadata.name ?? '');
    const others = stored.kvs.filter((kv) => dec.decode(kv.key) !== self).map((kv) => this.decode(SERVICES, kv));
    const result = allocateService(obj, old, allocationsOf(others, this.serviceCidr), this.serviceCidr, this.options.random);
    if (!result.ok) throw new ApiError('status' in result ? result.status : invalidStatus(SERVICES, obj.metadata.name ?? '', result.errors));
    const taken = newAllocations(result.service, old, this.serviceCidr);
    const named = [...[...taken.ips].map((n) => `ip/${n}`), ...[...taken.ports].map((n) => `port/${n}`)];
    if (named.length === 0) return { obj: result.service, extra: NO_EXTRA };
    // A transaction holds at most MAX_TXN_OPS operations: a write taking very many numbers claims
    // `many` instead of each, and compares `any`, which every smaller write moves; a smaller write
    // compares `many`. So a large and a small write that overlap in time never both commit.
    const big = named.length > MAX_CLAIMS_PER_WRITE;
    const key = (c: string) => enc.encode(SERVICE_CLAIMS_PREFIX + c);
    const compared = big ? ['many', 'any'] : [...named, 'many'];
    const written = big ? ['many'] : [...named, 'any'];
    // A claim written after the Services were read is another write that took the same number.
    const readRevision = stored.header.revision;
    return {
      obj: result.service,
      extra: {
        compare: compared.map((c) => ({ key: key(c), target: 'modRevision' as const, result: '<' as const, value: readRevision + 1 })),
        success: written.map((c) => ({ op: 'put' as const, key: key(c), value: enc.encode(self) })),
      },
    };
  }

  /**
   * Claims the control plane for `term` on behalf of `holder` (compare-and-swap on FENCE_KEY).
   * Refused when the key already holds a newer term: that leader's loops own the cluster.
   */
  async acquireFence(term: number, holder: string): Promise<Fence> {
    const k = enc.encode(FENCE_KEY);
    for (;;) {
      const current = (await this.store.range({ key: k })).kvs[0];
      if (current) {
        const claim = JSON.parse(dec.decode(current.value)) as { term: number; holder: string };
        if (claim.term > term) throw new ApiError(fenced(`the control plane belongs to ${claim.holder} (term ${claim.term}), newer than term ${term}`));
      }
      const res = await this.store.txn({
        compare: [{ key: k, target: 'modRevision', result: '=', value: current?.modRevision ?? 0 }],
        success: [{ op: 'put', key: k, value: enc.encode(JSON.stringify({ term, holder })) }],
        failure: [],
      });
      if (res.succeeded) return { term, holder, revision: res.header.revision };
    }
  }

  private fenceCompare(): TxnRequest['compare'] {
    return this.fence ? [{ key: enc.encode(FENCE_KEY), target: 'modRevision', result: '=', value: this.fence.revision }] : [];
  }

  /** After a failed txn: throws when the fence moved (a newer leader), so the caller's 409 is not a plain conflict. */
  private async checkFence(): Promise<void> {
    if (!this.fence) return;
    const current = (await this.store.range({ key: enc.encode(FENCE_KEY) })).kvs[0];
    if (current?.modRevision !== this.fence.revision) {
      throw new ApiError(fenced(`this node's control loops lost the cluster (term ${this.fence.term}); a newer leader decides now`));
    }
  }

  private decode(info: ResourceInfo, kv: KeyValue): KubeObject {
    let bytes = kv.value;
    if (info.kind === 'Secret' && this.cipher) bytes = this.cipher.decrypt(bytes, kv.key);
    const obj = JSON.parse(dec.decode(bytes)) as KubeObject;
    obj.metadata.resourceVersion = String(kv.modRevision);
    return obj;
  }

  private encode(info: ResourceInfo, key: string, obj: KubeObject): Uint8Array {
    const copy = { ...obj, metadata: { ...obj.metadata } };
    delete copy.metadata.resourceVersion;
    const bytes = enc.encode(JSON.stringify(copy));
    return info.kind === 'Secret' && this.cipher ? this.cipher.encrypt(bytes, enc.encode(key)) : bytes;
  }

  async get(info: ResourceInfo, namespace: string | undefined, name: string, local = false): Promise<KubeObject> {
    const key = registryKey(info, namespace, name);
    const res = await this.store.range({ key: enc.encode(key) }, { serializable: local });
    const kv = res.kvs[0];
    if (!kv) throw new ApiError(notFound(info, name));
    return this.decode(info, kv);
  }

  /**
   * One list, or one page of it, as Kubernetes' etcd3 GetList: every page is read at the
   * revision of the first (carried in the continue token), so the pages together are one
   * snapshot; `limit` counts matching objects (more keys are read while selectors drop some).
   * ApiError 400 for a malformed token, 410 once its revision is compacted.
   */
  async list(info: ResourceInfo, query: ListQuery): Promise<ListResult> {
    const matches = selectorMatcher(info, query);
    const prefix = registryPrefix(info, query.namespace);
    const point = query.continue ? continuePoint(query.continue, prefix) : undefined;
    // resourceVersion=0 is served from this node's state, whole: Kubernetes' watch cache ignores limit for it.
    const local = point === undefined && query.local === true;
    const limit = local ? 0 : (query.limit ?? 0);
    const rangeEnd = prefixRangeEnd(enc.encode(prefix));
    let revision = point ? Math.max(point.revision, 0) : (query.revision ?? 0);
    let start = point?.startKey ?? prefix;
    let fetch = limit;
    const items: KubeObject[] = [];
    let lastKey = '';
    let more: boolean;
    let count: number;
    for (;;) {
      const res = await this.readAt({ key: enc.encode(start), rangeEnd, limit: fetch, ...(revision > 0 ? { revision } : {}) }, local, point ? { startKey: start, prefix } : undefined);
      if (revision === 0) revision = res.header.revision;
      count = res.count;
      more = res.kvs.length < res.count;
      for (const kv of res.kvs) {
        if (limit > 0 && items.length >= limit) {
          more = true;
          break;
        }
        lastKey = dec.decode(kv.key);
        const obj = this.decode(info, kv);
        if (matches(obj)) items.push(obj);
      }
      if (!more || limit === 0 || items.length >= limit) break;
      // Selectors dropped some: read on from the last key, in bigger steps, as Kubernetes does.
      fetch = Math.min(fetch * 2, Math.max(fetch, MAX_LIST_FETCH));
      start = `${lastKey}\u0000`;
    }
    const result: ListResult = { items, resourceVersion: String(revision) };
    if (more) {
      result.continue = encodeContinue(`${lastKey}\u0000`, prefix, revision);
      // The store counts keys, not matches: with selectors the remainder is unknown (omitted, as in Kubernetes).
      if (matches === everything) result.remainingItemCount = count - limit;
    }
    return result;
  }

  /**
   * A range read; a continued page whose revision was compacted is Kubernetes' 410 with an
   * inconsistent-continue token. A revision beyond the store's (only a forged token or an exact
   * resourceVersion from nowhere: the read is linearizable) is the 500 Kubernetes passes on from etcd.
   */
  private async readAt(options: RangeOptions, local: boolean, continued: { startKey: string; prefix: string } | undefined): Promise<RangeResponse> {
    try {
      return await this.store.range(options, { serializable: local });
    } catch (error) {
      if (error instanceof FutureRevisionError) throw new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'etcdserver: mvcc: required revision is a future revision', code: 500 });
      if (!(error instanceof CompactedError)) throw error;
      if (continued) throw new ApiError(expiredContinue({ startKey: continued.startKey, revision: -1 }, continued.prefix));
      throw new ApiError(gone('The resourceVersion for the provided list is too old.'));
    }
  }

  /** The object a create stores (namespace, defaults, uid, name from generateName), validated: ApiError 400/422 otherwise. */
  private prepareCreate(info: ResourceInfo, namespace: string | undefined, input: KubeObject): { obj: KubeObject; key: string } {
    if (info.namespaced) {
      if (input.metadata.namespace && namespace && input.metadata.namespace !== namespace) {
        throw new ApiError(badRequest('the namespace of the provided object does not match the namespace sent on the request'));
      }
      input = { ...input, metadata: { ...input.metadata, namespace: namespace ?? input.metadata.namespace ?? 'default' } };
    }
    const obj = foldStringData(info, prepareForCreate(info, applyDefaults(info, input), { uid: randomUUID(), now: this.now(), ownsInput: true }));
    const name = obj.metadata.name ?? '';
    const errors = validateCreate(info, obj);
    if (errors.length > 0) throw new ApiError(invalidStatus(info, name, errors));
    return { obj, key: registryKey(info, obj.metadata.namespace, name) };
  }

  async create(info: ResourceInfo, namespace: string | undefined, input: KubeObject, opts: WriteOptions = {}): Promise<KubeObject> {
    if (info.kind === 'Service' && !opts.dryRun) return this.allocationLock.run(() => this.createOnce(info, namespace, input, opts));
    return this.createOnce(info, namespace, input, opts);
  }

  private async createOnce(info: ResourceInfo, namespace: string | undefined, input: KubeObject, opts: WriteOptions): Promise<KubeObject> {
    const prepared = this.prepareCreate(info, namespace, input);
    const name = prepared.obj.metadata.name ?? '';
    const k = enc.encode(prepared.key);
    for (let attempt = 1; ; attempt++) {
      const { obj, extra } = info.kind === 'Service' ? await this.allocateServiceFor(prepared.obj, undefined) : { obj: prepared.obj, extra: NO_EXTRA };
      if (opts.dryRun) {
        const existing = await this.store.range({ key: k });
        if (existing.kvs.length > 0) throw new ApiError(alreadyExists(info, name));
        return obj;
      }
      const res = await this.store.txn({
        compare: [{ key: k, target: 'createRevision', result: '=', value: 0 }, ...this.fenceCompare(), ...extra.compare],
        success: [{ op: 'put', key: k, value: this.encode(info, prepared.key, obj) }, ...extra.success],
        failure: [],
      });
      if (res.succeeded) return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(res.header.revision) } };
      await this.checkFence();
      // The name is taken, or another allocation committed first (then allocate again).
      if (extra === NO_EXTRA || (await this.store.range({ key: k })).kvs.length > 0) throw new ApiError(alreadyExists(info, name));
      if (attempt >= ALLOCATION_ATTEMPTS) throw new ApiError(conflict(info, name, ALLOCATION_RACE));
    }
  }

  /** Replaces the object; a resourceVersion in `input` must match the stored one (409 otherwise). */
  async update(info: ResourceInfo, namespace: string | undefined, name: string, input: KubeObject, opts: WriteOptions & { subresource?: 'status' } = {}): Promise<KubeObject> {
    if (input.metadata.name !== undefined && input.metadata.name !== name) {
      throw new ApiError(badRequest(`the name of the object (${input.metadata.name}) does not match the name on the URL (${name})`));
    }
    const old = await this.get(info, namespace, name);
    const wanted = input.metadata.resourceVersion;
    if (wanted !== undefined && wanted !== '' && wanted !== old.metadata.resourceVersion) throw new ApiError(conflict(info, name));
    const withNs = info.namespaced ? { ...input, metadata: { ...input.metadata, name, namespace: old.metadata.namespace } } : { ...input, metadata: { ...input.metadata, name } };
    const obj = foldStringData(info, prepareForUpdate(info, applyDefaults(info, withNs), old, opts.subresource));
    const errors = validateUpdate(info, obj, old);
    if (errors.length > 0) throw new ApiError(invalidStatus(info, name, errors));
    // The last finalizer gone from an object marked for deletion: it goes now, as in Kubernetes.
    if (!opts.dryRun && readyToRemove(info, obj)) return this.removeIfUnchanged(info, old, obj);
    if (info.kind === 'Service' && opts.subresource !== 'status') return this.allocationLock.run(() => this.updateService(old, obj, opts.dryRun === true));
    if (opts.dryRun) return obj;
    return this.writeIfUnchanged(info, old, obj);
  }

  /** A Service update: new node ports (a type change, a port added) allocated in the write's txn. */
  private async updateService(old: KubeObject, next: KubeObject, dryRun: boolean): Promise<KubeObject> {
    const name = old.metadata.name ?? '';
    const k = enc.encode(registryKey(SERVICES, old.metadata.namespace, name));
    for (let attempt = 1; ; attempt++) {
      const { obj, extra } = await this.allocateServiceFor(next, old);
      if (dryRun) return obj;
      try {
        return await this.writeIfUnchanged(SERVICES, old, obj, extra);
      } catch (error) {
        const current = (await this.store.range({ key: k })).kvs[0];
        const moved = current?.modRevision !== Number(old.metadata.resourceVersion);
        if (extra === NO_EXTRA || moved || !(error instanceof ApiError && error.status.reason === 'Conflict')) throw error;
        if (attempt >= ALLOCATION_ATTEMPTS) throw new ApiError(conflict(SERVICES, name, ALLOCATION_RACE));
      }
    }
  }

  /**
   * Read-modify-write of one object: `change` computes the next object from the current one and
   * the update carries the current resourceVersion. When `retryOnConflict` (a patch that pinned no
   * resourceVersion), a 409 from a concurrent writer computes the change again on the newer
   * object, a bounded number of times, as Kubernetes' patch handler does.
   */
  async updateFrom(
    info: ResourceInfo,
    namespace: string | undefined,
    name: string,
    change: (current: KubeObject) => Promise<KubeObject> | KubeObject,
    opts: WriteOptions & { subresource?: 'status'; retryOnConflict?: boolean } = {},
  ): Promise<KubeObject> {
    const attempts = opts.retryOnConflict ? 5 : 1;
    for (let attempt = 1; ; attempt++) {
      const current = await this.get(info, namespace, name);
      const next = await change(current);
      if (next.metadata.resourceVersion === undefined) next.metadata.resourceVersion = current.metadata.resourceVersion;
      try {
        return await this.update(info, namespace, name, next, opts);
      } catch (error) {
        const conflicted = error instanceof ApiError && error.status.code === 409 && error.status.reason === 'Conflict';
        if (!conflicted || attempt >= attempts) throw error;
      }
    }
  }

  /**
   * Stores `obj` in place of `old` if nobody changed it since (409 otherwise), without the update
   * strategy: for writes that are themselves a server-side rule, such as a pod binding setting the
   * otherwise immutable spec.nodeName.
   */
  async writeIfUnchanged(info: ResourceInfo, old: KubeObject, obj: KubeObject, extra: TxnExtra = NO_EXTRA): Promise<KubeObject> {
    const name = old.metadata.name ?? '';
    const key = registryKey(info, old.metadata.namespace, name);
    const k = enc.encode(key);
    const res = await this.store.txn({
      compare: [{ key: k, target: 'modRevision', result: '=', value: Number(old.metadata.resourceVersion) }, ...this.fenceCompare(), ...extra.compare],
      success: [{ op: 'put', key: k, value: this.encode(info, key, obj) }, ...extra.success],
      failure: [],
    });
    if (!res.succeeded) {
      await this.checkFence();
      throw new ApiError(conflict(info, name));
    }
    return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(res.header.revision) } };
  }

  /**
   * Several writes in one store transaction (one Raft entry, one revision), all or none: each
   * `replace` stores `obj` in place of `old` if nobody changed it since (as writeIfUnchanged, no
   * update strategy), each `create` is a create (defaults, validation, generateName). Invalid
   * creates throw before anything is written. Answers false when some object had moved (or a
   * created name existed): the caller retries them one by one; a moved fence throws 409 "fenced".
   * At most MAX_WRITES_PER_TXN writes.
   */
  async writeAll(writes: readonly RegistryWrite[]): Promise<boolean> {
    if (writes.length > MAX_WRITES_PER_TXN) throw new Error(`writeAll takes at most ${MAX_WRITES_PER_TXN} writes, got ${writes.length}`);
    if (writes.length === 0) return true;
    const compare: TxnRequest['compare'] = [...this.fenceCompare()];
    const success: TxnRequest['success'] = [];
    for (const w of writes) {
      if (w.op === 'replace') {
        const key = registryKey(w.info, w.old.metadata.namespace, w.old.metadata.name ?? '');
        const k = enc.encode(key);
        compare.push({ key: k, target: 'modRevision', result: '=', value: Number(w.old.metadata.resourceVersion) });
        success.push({ op: 'put', key: k, value: this.encode(w.info, key, w.obj) });
      } else {
        // A Service's create allocates an IP and ports with claims on the numbers it takes: Registry.create only.
        if (w.info.kind === 'Service') throw new Error('writeAll does not create Services: use create (it allocates their cluster IP)');
        const { obj, key } = this.prepareCreate(w.info, w.namespace, w.obj);
        const k = enc.encode(key);
        compare.push({ key: k, target: 'createRevision', result: '=', value: 0 });
        success.push({ op: 'put', key: k, value: this.encode(w.info, key, obj) });
      }
    }
    const res = await this.store.txn({ compare, success, failure: [] });
    if (res.succeeded) return true;
    await this.checkFence();
    return false;
  }

  /** Removes the key if nobody changed it since `old` (409 otherwise); answers `last`, the object as it went. */
  private async removeIfUnchanged(info: ResourceInfo, old: KubeObject, last: KubeObject): Promise<KubeObject> {
    const name = old.metadata.name ?? '';
    const k = enc.encode(registryKey(info, old.metadata.namespace, name));
    const res = await this.store.txn({
      compare: [{ key: k, target: 'modRevision', result: '=', value: Number(old.metadata.resourceVersion) }, ...this.fenceCompare()],
      success: [{ op: 'deleteRange', key: k }],
      failure: [],
    });
    if (!res.succeeded) {
      await this.checkFence();
      throw new ApiError(conflict(info, name));
    }
    return last;
  }

  /** Removes the object, or marks it (finalizers, pod grace period) as Kubernetes does. */
  async delete(info: ResourceInfo, namespace: string | undefined, name: string, opts: WriteOptions & { gracePeriodSeconds?: number; propagationPolicy?: PropagationPolicy } = {}): Promise<KubeObject> {
    // A delete names no resourceVersion: a concurrent write (a controller's status) is retried.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.deleteOnce(info, namespace, name, opts);
      } catch (error) {
        const conflict = error instanceof ApiError && error.status.code === 409 && error.status.reason === 'Conflict';
        if (!conflict || attempt >= 9) throw error;
      }
    }
  }

  private async deleteOnce(info: ResourceInfo, namespace: string | undefined, name: string, opts: WriteOptions & { gracePeriodSeconds?: number; propagationPolicy?: PropagationPolicy }): Promise<KubeObject> {
    const old = await this.get(info, namespace, name);
    const plan = planDeletion(info, old, {
      now: this.now(),
      ...(opts.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: opts.gracePeriodSeconds }),
      ...(opts.propagationPolicy === undefined ? {} : { propagationPolicy: opts.propagationPolicy }),
    });
    if (opts.dryRun) return plan.action === 'mark' ? plan.object : old;
    if (plan.action === 'mark') return this.writeIfUnchanged(info, old, plan.object);
    return this.removeIfUnchanged(info, old, old);
  }

  /**
   * Watches the resource from `fromRevision` (exclusive, as Kubernetes' resourceVersion);
   * `onGone` is called once when compaction dropped the history the watch needed; `onProgress`
   * gets the revision reached after each batch, including events the selectors filtered out.
   */
  watch(info: ResourceInfo, query: ListQuery & { fromRevision: number }, onEvent: (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject) => void, onGone: (status: Status) => void, onProgress?: (revision: number) => void): Watch {
    const matches = selectorMatcher(info, query);
    return this.store.watch({ prefix: enc.encode(registryPrefix(info, query.namespace)), startRevision: query.fromRevision + 1, prevKv: true }, (response) => {
      if (response.type === 'compacted') {
        onGone(failure(410, 'Expired', `too old resource version: ${query.fromRevision} (${response.compactRevision})`));
        return;
      }
      // A store restored from a snapshot past the watch, or closed: the watch is over, and a
      // cache that is not told would stay frozen at its last event.
      if (response.type === 'cancelled') {
        onGone(response.reason === 'restored' ? failure(410, 'Expired', 'the store was restored from a snapshot: list again') : failure(503, 'ServiceUnavailable', 'the store closed'));
        return;
      }
      for (const event of response.events) {
        if (event.type === 'PUT') {
          const obj = this.decode(info, event.kv);
          if (matches(obj)) onEvent(event.kv.version === 1 ? 'ADDED' : 'MODIFIED', obj);
        } else if (event.prevKv) {
          const obj = this.decode(info, event.prevKv);
          obj.metadata.resourceVersion = String(event.kv.modRevision);
          if (matches(obj)) onEvent('DELETED', obj);
        }
      }
      // Every event of the prefix, matching or not, moves the watch on: what bookmarks report.
      const last = response.events[response.events.length - 1];
      if (last !== undefined) onProgress?.(last.kv.modRevision);
    });
  }
}
