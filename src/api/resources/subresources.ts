// The pure parts of the scale and binding subresources: a Deployment/ReplicaSet seen as an
// autoscaling/v1 Scale, a Scale written back, and a Pod bound to a node.
import type { ResourceInfo } from './catalog.ts';
import { invalid, required } from './field-errors.ts';
import { clone, num, obj, str } from './json.ts';
import { labelSelectorFromObject, labelSelectorString } from './selectors.ts';
import { conflict } from './status.ts';
import { formatTime } from './strategy.ts';
import type { FieldError, KubeObject, LabelSelector, Status } from './types.ts';

export interface Scale extends KubeObject {
  apiVersion: 'autoscaling/v1';
  kind: 'Scale';
  spec: { replicas: number };
  status: { replicas: number; selector?: string };
}

/** The Scale view of a Deployment or ReplicaSet (GET .../scale). */
export function toScale(o: KubeObject): Scale {
  const spec = obj(o.spec) ?? {};
  const status = obj(o.status) ?? {};
  const m = o.metadata;
  let selector: string | undefined;
  try {
    selector = labelSelectorString(labelSelectorFromObject(obj(spec.selector) as LabelSelector | undefined));
  } catch {
    selector = undefined;
  }
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: num(spec.replicas) ?? 0 },
    status: { replicas: num(status.replicas) ?? 0, ...(selector ? { selector } : {}) },
  };
}

export function validateScale(scale: KubeObject): FieldError[] {
  const replicas = obj(scale.spec)?.replicas;
  if (replicas === undefined || replicas === null) return [required('spec.replicas')];
  if (typeof replicas !== 'number' || !Number.isInteger(replicas)) return [invalid('spec.replicas', replicas, 'must be an integer')];
  return replicas < 0 ? [invalid('spec.replicas', replicas, 'must be greater than or equal to 0')] : [];
}

/** The object with the Scale's replicas (PUT/PATCH .../scale); validate the Scale first. */
export function applyScale(o: KubeObject, scale: KubeObject): KubeObject {
  const out = clone(o);
  const spec = obj(out.spec) ?? {};
  out.spec = spec;
  spec.replicas = num(obj(scale.spec)?.replicas) ?? 0;
  if (scale.metadata.resourceVersion) out.metadata.resourceVersion = scale.metadata.resourceVersion;
  return out;
}

/**
 * The pod bound to the node a v1 Binding names (POST pods/NAME/binding), or the Status Kubernetes
 * answers: 409 when the pod is already on a node or being deleted, 422 without a target node.
 */
export function bindPod(info: ResourceInfo, pod: KubeObject, binding: KubeObject, now: Date): KubeObject | Status {
  const name = pod.metadata.name ?? '';
  const target = obj(binding.target);
  const node = str(target?.name);
  if (!node) {
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Invalid', code: 422,
      message: `Binding.core ${JSON.stringify(binding.metadata.name ?? name)} is invalid: target.name: Required value`,
      details: { name: binding.metadata.name ?? name, kind: 'Binding', causes: [{ reason: 'FieldValueRequired', message: 'Required value', field: 'target.name' }] } };
  }
  if (pod.metadata.deletionTimestamp) return conflict(info, name, 'pod is being deleted, cannot be assigned to a host');
  const spec = obj(pod.spec) ?? {};
  const current = str(spec.nodeName);
  if (current) return conflict(info, name, `pod ${name} is already assigned to node ${JSON.stringify(current)}`);
  // A new top level, metadata and spec over the pod's nested values (not a deep clone: the
  // scheduler binds thousands of pods a second, and nothing below these is changed).
  const out: KubeObject = { ...pod, metadata: { ...pod.metadata } };
  out.spec = { ...spec, nodeName: node };
  const status = obj(out.status) ?? {};
  const conditions = Array.isArray(status.conditions) ? status.conditions.filter((c) => obj(c)?.type !== 'PodScheduled') : [];
  conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: formatTime(now) });
  out.status = { ...status, conditions };
  const annotations = binding.metadata.annotations;
  if (annotations) out.metadata.annotations = { ...(out.metadata.annotations ?? {}), ...annotations };
  return out;
}
