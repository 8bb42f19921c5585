// The one builder of Pod objects for tests, typed by the client's views (src/client/kinds.ts).
import type { KubeObject, ObjectMeta, OwnerReference, Pod, PodPhase, PodSpec } from '../../src/client/index.ts';

/** The fixed instants the built objects carry, so plans computed "now" are reproducible. */
export const CREATED_AT = '2026-12-01T11:00:00Z';
export const DELETING_SINCE = '2026-12-01T11:59:00Z';

export interface PodOptions {
  namespace?: string;
  labels?: Record<string, string>;
  owners?: OwnerReference[];
  /** A pod being deleted: sets metadata.deletionTimestamp. */
  deleting?: boolean;
  /** metadata.creationTimestamp and the Ready condition's transition time (default CREATED_AT). */
  created?: string;
  /** spec.nodeName: the node the pod is bound to. */
  node?: string;
  /** Default Running. */
  phase?: PodPhase;
  /** The Ready condition (default true). */
  ready?: boolean;
  /** status.podIP */
  ip?: string;
  /** resources.requests of the default container (cpu, memory). */
  requests?: Record<string, string>;
  /** Merged over the default spec (one container 'c'); give `containers` to replace it. */
  spec?: Partial<PodSpec>;
  /** Merged over the built metadata (uid, resourceVersion, annotations...). */
  metadata?: Partial<ObjectMeta>;
}

/**
 * A Pod named `name` in namespace default with uid `uid-<name>`, one container, Running and Ready
 * unless the options say otherwise: the shape the controllers and the scheduler read.
 */
export function pod(name: string, o: PodOptions = {}): Pod {
  const created = o.created ?? CREATED_AT;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: o.namespace ?? 'default',
      uid: `uid-${name}`,
      creationTimestamp: created,
      ...(o.labels ? { labels: o.labels } : {}),
      ...(o.owners ? { ownerReferences: o.owners } : {}),
      ...(o.deleting ? { deletionTimestamp: DELETING_SINCE } : {}),
      ...o.metadata,
    },
    spec: { ...(o.node ? { nodeName: o.node } : {}), containers: [{ name: 'c', image: 'bramble-test/busybox:amd64', ...(o.requests ? { resources: { requests: o.requests } } : {}) }], ...o.spec },
    status: {
      phase: o.phase ?? 'Running',
      ...(o.ip ? { podIP: o.ip } : {}),
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: created }],
    },
  };
}

/** The same Pod as a user would create it: no uid, creation time or status (the API assigns them). */
export function podManifest(name: string, o: PodOptions = {}): KubeObject {
  const { metadata, spec } = pod(name, o);
  const { uid: _uid, creationTimestamp: _created, ...userMetadata } = metadata;
  return { apiVersion: 'v1', kind: 'Pod', metadata: userMetadata, spec };
}
