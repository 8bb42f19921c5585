// Typed views of generic objects. Informers, lists and watches hand out KubeObject; a layer that
// reads a kind's fields asks for its view here instead of casting. A view is the same object (no
// copy), checked for what makes it that kind: the right `kind` and the parts the typed shape
// requires. What is NOT checked, and why it may be trusted: every stored object passed
// `validateCreate`/`validateUpdate` (names, labels, container images and ports, selectors...) and
// `applyDefaults` (restartPolicy, schedulerName, protocols, replicas...) before it reached the
// store, and only the server writes the store. A failed check is a programming error (an object of
// another kind, or a hand-built object that skipped the API), so it throws rather than guessing.
import type { DaemonSet, Deployment, Job, ReplicaSet } from './apps-v1.ts';
import type { Endpoints, Event, Namespace, Node, Pod, Service } from './core-v1.ts';
import type { EndpointSlice } from './discovery-v1.ts';
import { isObj } from './json.ts';
import type { KubeObject } from './types.ts';

/** A generic object asked for as a kind it is not (or without what that kind always has). */
export class ViewError extends Error {
  constructor(kind: string, obj: KubeObject, why: string) {
    super(`not a ${kind} (${obj.kind || '?'} ${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}): ${why}`);
    this.name = 'ViewError';
  }
}

/** Is `obj` of `kind` (an object without a kind, as some hand-built ones are, is taken as one). */
export function isKind(obj: KubeObject, kind: string): boolean {
  return obj.kind === kind || obj.kind === '' || obj.kind === undefined;
}

function check(obj: KubeObject, kind: string, needsSpec: boolean): void {
  if (!isKind(obj, kind)) throw new ViewError(kind, obj, `kind is ${obj.kind}`);
  if (!isObj(obj.metadata)) throw new ViewError(kind, obj, 'no metadata');
  if (obj['spec'] !== undefined && !isObj(obj['spec'])) throw new ViewError(kind, obj, 'spec is not an object');
  if (needsSpec && !isObj(obj['spec'])) throw new ViewError(kind, obj, 'no spec');
  if (obj['status'] !== undefined && !isObj(obj['status'])) throw new ViewError(kind, obj, 'status is not an object');
}

/** A Pod: spec is present and spec.containers is an array (validation requires one or more). */
export function asPod(obj: KubeObject): Pod {
  check(obj, 'Pod', true);
  const spec = obj['spec'];
  if (!isObj(spec) || !Array.isArray(spec['containers'])) throw new ViewError('Pod', obj, 'spec.containers is not a list');
  return obj as Pod;
}

/** A view checked only for its kind and the shape every object has (metadata; spec and status objects when present). */
function viewOf<T extends KubeObject>(kind: string): (obj: KubeObject) => T {
  return (obj) => {
    check(obj, kind, false);
    return obj as T;
  };
}

export const asNode = viewOf<Node>('Node');
export const asNamespace = viewOf<Namespace>('Namespace');
export const asService = viewOf<Service>('Service');
export const asEndpoints = viewOf<Endpoints>('Endpoints');
export const asEndpointSlice = viewOf<EndpointSlice>('EndpointSlice');
export const asReplicaSet = viewOf<ReplicaSet>('ReplicaSet');
export const asDeployment = viewOf<Deployment>('Deployment');
export const asDaemonSet = viewOf<DaemonSet>('DaemonSet');
export const asJob = viewOf<Job>('Job');

/** An Event: also its involvedObject (the registry's validation requires it). */
export function asEvent(obj: KubeObject): Event {
  check(obj, 'Event', false);
  if (!isObj(obj['involvedObject'])) throw new ViewError('Event', obj, 'no involvedObject');
  return obj as Event;
}

/** The controllers of pods (their spec.selector and spec.template are read alike). */
export type Workload = ReplicaSet | Deployment | DaemonSet | Job;
const WORKLOAD_KINDS = new Set(['ReplicaSet', 'Deployment', 'DaemonSet', 'Job']);

export function asWorkload(obj: KubeObject): Workload {
  if (!WORKLOAD_KINDS.has(obj.kind)) throw new ViewError('workload', obj, `kind is ${obj.kind}`);
  check(obj, obj.kind, false);
  return obj as Workload;
}
