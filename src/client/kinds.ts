// The resource facts and pure helpers the layers above the client (control, agent) need, so they
// never import api internals: kinds by name, the typed views of the kinds (core-v1.ts, apps-v1.ts)
// with their checked `asPod`-style accessors (views.ts), label selectors, quantities, timestamps.
import { findByKind, findResource, RESOURCES, type ResourceInfo } from '../api/resources/index.ts';

export {
  formatIPv4,
  formatTime,
  ipv4Network,
  parseIPv4,
  parseIPv4Cidr,
  labelSelectorFromObject,
  labelSelectorString,
  matchesLabels,
  parseQuantity,
  SelectorError,
  type Ipv4Cidr,
  type KubeObject,
  type LabelSelector,
  type LabelSelectorQuery,
  type OwnerReference,
  type ObjectMeta,
  type ResourceInfo,
  type Status,
} from '../api/resources/index.ts';
export type * from '../api/resources/core-v1.ts';
export type * from '../api/resources/apps-v1.ts';
export type * from '../api/resources/discovery-v1.ts';
export * from '../api/resources/views.ts';

function kind(group: string, version: string, plural: string): ResourceInfo {
  const info = findResource(group, version, plural);
  if (!info) throw new Error(`${plural} is missing from the resource catalog`);
  return info;
}

/** The kinds the control plane reads and writes. */
export const Kinds = {
  pods: kind('', 'v1', 'pods'),
  nodes: kind('', 'v1', 'nodes'),
  namespaces: kind('', 'v1', 'namespaces'),
  services: kind('', 'v1', 'services'),
  endpoints: kind('', 'v1', 'endpoints'),
  endpointslices: kind('discovery.k8s.io', 'v1', 'endpointslices'),
  events: kind('', 'v1', 'events'),
  replicasets: kind('apps', 'v1', 'replicasets'),
  deployments: kind('apps', 'v1', 'deployments'),
  daemonsets: kind('apps', 'v1', 'daemonsets'),
  jobs: kind('batch', 'v1', 'jobs'),
} as const;

/** The served kind of an ownerReference or object (`apps/v1`, `ReplicaSet`), if any. */
export function kindOf(apiVersion: string, kind: string): ResourceInfo | undefined {
  return findByKind(apiVersion, kind);
}

/** Every namespaced kind that can be listed and deleted: what deleting a namespace removes. */
export function namespacedKinds(): ResourceInfo[] {
  return RESOURCES.filter((r) => r.namespaced && r.verbs.includes('list') && r.verbs.includes('delete'));
}
