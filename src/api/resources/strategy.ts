// What the server itself writes into an object on create and update (Kubernetes' "strategies"):
// system metadata, initial status, the generation counter, and which part of an object a write to
// the main resource or to its status subresource may change.
import type { ResourceInfo } from './catalog.ts';
import { arr, clone, deepEqual, isObj, obj, strMap, type Obj } from './json.ts';
import { parseQuantity } from './quantity.ts';
import type { KubeObject, ObjectMeta } from './types.ts';

/** Kinds whose metadata.generation counts changes of the desired state. */
const GENERATION_KINDS = new Set(['Deployment', 'ReplicaSet', 'DaemonSet', 'Job']);

/** Kubernetes' alphabet for generated name suffixes: no vowels (no words), no look-alikes. */
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const SUFFIX_LENGTH = 5;

export interface CreateContext {
  /** The new object's uid (the server makes it random; tests pass a fixed one). */
  uid: string;
  now: Date;
  /** The input is the caller's own copy (applyDefaults' result): change it in place rather than copy it again. */
  ownsInput?: boolean;
}

/** RFC 3339 at seconds precision in UTC, as Kubernetes writes metav1.Time. */
export function formatTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The 5-character suffix for generateName, derived from the uid so this module stays pure. */
export function generatedSuffix(uid: string): string {
  const hex = uid.replace(/[^0-9a-f]/gi, '');
  let out = '';
  for (let i = 0; i < SUFFIX_LENGTH; i++) {
    const byte = parseInt(hex.slice(i * 2, i * 2 + 2) || '0', 16);
    out += SUFFIX_ALPHABET[byte % SUFFIX_ALPHABET.length];
  }
  return out;
}

type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

/** The pod's QoS class from its containers' requests and limits (Kubernetes' rules for cpu and memory). */
export function podQosClass(spec: Obj): QosClass {
  const containers = [...arr(spec.initContainers), ...arr(spec.containers)].map((c) => obj(c) ?? {});
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const res = obj(c.resources) ?? {};
    const requests = obj(res.requests) ?? {};
    const limits = obj(res.limits) ?? {};
    for (const name of ['cpu', 'memory']) {
      const req = parseQuantity(requests[name]);
      const lim = parseQuantity(limits[name]);
      if ((req !== undefined && req !== 0) || (lim !== undefined && lim !== 0)) any = true;
      if (lim === undefined || (req !== undefined && req !== lim)) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

const JOB_UID_LABEL = 'batch.kubernetes.io/controller-uid';
const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';

function initialStatus(info: ResourceInfo, o: KubeObject): unknown {
  switch (info.kind) {
    case 'Pod':
      return { phase: 'Pending', qosClass: podQosClass(obj(o.spec) ?? {}) };
    case 'Namespace':
      return { phase: 'Active' };
    case 'Service':
      return { loadBalancer: {} };
    case 'Deployment':
    case 'ReplicaSet':
    case 'DaemonSet':
    case 'Job':
      return {};
    default:
      return undefined;
  }
}

/**
 * The object as stored by a create: system metadata set (uid, creationTimestamp, generation, a
 * generated name), client-sent system fields dropped, status reset where clients do not own it,
 * and a Job's selector generated. Returns a copy.
 */
export function prepareForCreate(info: ResourceInfo, input: KubeObject, ctx: CreateContext): KubeObject {
  const o = ctx.ownsInput ? input : clone(input);
  const meta: ObjectMeta = isObj(o.metadata) ? o.metadata : {};
  o.metadata = meta;
  if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${generatedSuffix(ctx.uid)}`;
  meta.uid = ctx.uid;
  meta.creationTimestamp = formatTime(ctx.now);
  delete meta.deletionTimestamp;
  delete meta.deletionGracePeriodSeconds;
  delete meta.resourceVersion;
  delete meta.selfLink;
  if (GENERATION_KINDS.has(info.kind)) meta.generation = 1;
  else delete meta.generation;
  // Nodes register with the status their agent measured; other kinds start from the server's status.
  if (info.subresources.includes('status') && info.kind !== 'Node') {
    const status = initialStatus(info, o);
    if (status === undefined) delete o.status;
    else o.status = status;
  }
  if (info.kind === 'Job') generateJobSelector(o, ctx.uid);
  return o;
}

function generateJobSelector(o: KubeObject, uid: string): void {
  const spec = obj(o.spec);
  if (!spec || spec.manualSelector === true) return;
  const template = obj(spec.template) ?? {};
  spec.template = template;
  const tmeta = obj(template.metadata) ?? {};
  template.metadata = tmeta;
  // Both the current and the legacy label names, like Kubernetes since 1.27, so either selects the pods.
  tmeta.labels = {
    ...strMap(tmeta.labels),
    [JOB_UID_LABEL]: uid,
    [JOB_NAME_LABEL]: o.metadata.name ?? '',
    'controller-uid': uid,
    'job-name': o.metadata.name ?? '',
  };
  spec.selector = { matchLabels: { [JOB_UID_LABEL]: uid } };
}

/** Metadata only the server writes: a client's update cannot change them. */
const SERVER_OWNED_META: (keyof ObjectMeta)[] = ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'selfLink'];

/**
 * The object as stored by an update of the main resource (`subresource` undefined) or of the
 * status subresource. A main-resource write keeps the old status; a status write keeps everything
 * but the status. Generation goes up when the spec changes. Returns a copy.
 */
export function prepareForUpdate(info: ResourceInfo, input: KubeObject, old: KubeObject, subresource?: 'status'): KubeObject {
  if (subresource === 'status') {
    const o = clone(old);
    o.metadata = { ...clone(old.metadata) };
    if (input.metadata?.resourceVersion !== undefined) o.metadata.resourceVersion = input.metadata.resourceVersion;
    if (input.status === undefined) delete o.status;
    else o.status = clone(input.status);
    return o;
  }
  const o = clone(input);
  const meta: ObjectMeta = isObj(o.metadata) ? o.metadata : {};
  o.metadata = meta;
  for (const key of SERVER_OWNED_META) {
    const v = old.metadata[key];
    if (v === undefined) delete meta[key];
    else (meta as Record<string, unknown>)[key] = clone(v);
  }
  if (info.subresources.includes('status') && info.kind !== 'Node') {
    if (old.status === undefined) delete o.status;
    else o.status = clone(old.status);
  }
  if (info.kind === 'Service') {
    keepAllocatedServiceFields(o, old);
    // No longer a LoadBalancer: its ingress goes, as Kubernetes clears it on the type change.
    if (obj(old.spec)?.type === 'LoadBalancer' && obj(o.spec)?.type !== 'LoadBalancer' && isObj(o.status)) o.status = { ...o.status, loadBalancer: {} };
  }
  if (GENERATION_KINDS.has(info.kind) && !deepEqual(o.spec, old.spec)) meta.generation = (old.metadata.generation ?? 0) + 1;
  return o;
}

/**
 * A replace that omits the cluster IP or node ports keeps the allocated ones, as in Kubernetes; a
 * type change away from NodePort/LoadBalancer drops the node ports the client left unchanged
 * (Kubernetes' dropTypeDependentFields), so `kubectl edit` of the type alone is valid.
 */
function keepAllocatedServiceFields(o: KubeObject, old: KubeObject): void {
  const spec = obj(o.spec);
  const oldSpec = obj(old.spec);
  if (!spec || !oldSpec) return;
  if ((spec.clusterIP === undefined || spec.clusterIP === '') && oldSpec.clusterIP !== undefined) spec.clusterIP = oldSpec.clusterIP;
  if (spec.clusterIPs === undefined && oldSpec.clusterIPs !== undefined) spec.clusterIPs = clone(oldSpec.clusterIPs);
  const oldPorts = arr(oldSpec.ports).map((p) => obj(p) ?? {});
  const nodePorts = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
  for (const p of arr(spec.ports)) {
    if (!isObj(p)) continue;
    const match = oldPorts.find((q) => q.port === p.port && (q.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
    if (!nodePorts) {
      if (p.nodePort !== undefined && oldPorts.some((q) => q.nodePort === p.nodePort)) delete p.nodePort;
      continue;
    }
    if (p.nodePort !== undefined && p.nodePort !== 0) continue;
    if (match?.nodePort !== undefined) p.nodePort = match.nodePort;
  }
}
