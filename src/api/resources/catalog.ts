// The kinds Bramble serves and their discovery facts (plural, short names, verbs, scope), the
// single source for routing, discovery documents, `api-resources` and CLI argument resolution.

export type Verb = 'create' | 'delete' | 'deletecollection' | 'get' | 'list' | 'patch' | 'update' | 'watch';

export type Subresource = 'status' | 'scale' | 'binding' | 'log' | 'exec';

export interface ResourceInfo {
  /** API group; '' for the core group. */
  readonly group: string;
  readonly version: string;
  /** `group/version`, or just `version` for core: the apiVersion field of objects of this kind. */
  readonly apiVersion: string;
  readonly kind: string;
  readonly listKind: string;
  /** Lowercase plural used in URLs and store keys. */
  readonly resource: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly verbs: readonly Verb[];
  readonly categories: readonly string[];
  readonly subresources: readonly Subresource[];
}

/** How a subresource appears in discovery (`pods/log`, `deployments/scale`, ...). */
export interface SubresourceInfo {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly verbs: readonly Verb[];
}

const ALL_VERBS: readonly Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const READ_ONLY: readonly Verb[] = ['get', 'list'];

interface Spec {
  group: string;
  version: string;
  kind: string;
  resource: string;
  namespaced: boolean;
  shortNames?: string[];
  verbs?: readonly Verb[];
  categories?: string[];
  subresources?: Subresource[];
}

function info(spec: Spec): ResourceInfo {
  return Object.freeze({
    group: spec.group,
    version: spec.version,
    apiVersion: spec.group === '' ? spec.version : `${spec.group}/${spec.version}`,
    kind: spec.kind,
    listKind: `${spec.kind}List`,
    resource: spec.resource,
    singular: spec.kind.toLowerCase(),
    namespaced: spec.namespaced,
    shortNames: Object.freeze(spec.shortNames ?? []),
    verbs: Object.freeze([...(spec.verbs ?? ALL_VERBS)]),
    categories: Object.freeze(spec.categories ?? []),
    subresources: Object.freeze(spec.subresources ?? []),
  });
}

const CORE = '';
const APPS = 'apps';
const BATCH = 'batch';
const RBAC = 'rbac.authorization.k8s.io';
const METRICS = 'metrics.k8s.io';
const DISCOVERY = 'discovery.k8s.io';

/**
 * Core group first: an unqualified name that exists in several groups ("nodes", "pods") resolves
 * to the first match, as kubectl prefers the core group.
 */
export const RESOURCES: readonly ResourceInfo[] = Object.freeze([
  info({ group: CORE, version: 'v1', kind: 'Namespace', resource: 'namespaces', namespaced: false, shortNames: ['ns'],
    // Kubernetes offers no deletecollection on namespaces: deleting all of them is never meant.
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], subresources: ['status'] }),
  info({ group: CORE, version: 'v1', kind: 'Node', resource: 'nodes', namespaced: false, shortNames: ['no'], subresources: ['status'] }),
  info({ group: CORE, version: 'v1', kind: 'Pod', resource: 'pods', namespaced: true, shortNames: ['po'], categories: ['all'],
    subresources: ['status', 'binding', 'log', 'exec'] }),
  info({ group: CORE, version: 'v1', kind: 'Service', resource: 'services', namespaced: true, shortNames: ['svc'], categories: ['all'],
    subresources: ['status'] }),
  info({ group: CORE, version: 'v1', kind: 'Endpoints', resource: 'endpoints', namespaced: true, shortNames: ['ep'] }),
  info({ group: CORE, version: 'v1', kind: 'ConfigMap', resource: 'configmaps', namespaced: true, shortNames: ['cm'] }),
  info({ group: CORE, version: 'v1', kind: 'Secret', resource: 'secrets', namespaced: true }),
  info({ group: CORE, version: 'v1', kind: 'Event', resource: 'events', namespaced: true, shortNames: ['ev'] }),
  info({ group: CORE, version: 'v1', kind: 'ServiceAccount', resource: 'serviceaccounts', namespaced: true, shortNames: ['sa'] }),
  info({ group: APPS, version: 'v1', kind: 'Deployment', resource: 'deployments', namespaced: true, shortNames: ['deploy'],
    categories: ['all'], subresources: ['status', 'scale'] }),
  info({ group: APPS, version: 'v1', kind: 'ReplicaSet', resource: 'replicasets', namespaced: true, shortNames: ['rs'],
    categories: ['all'], subresources: ['status', 'scale'] }),
  info({ group: APPS, version: 'v1', kind: 'DaemonSet', resource: 'daemonsets', namespaced: true, shortNames: ['ds'],
    categories: ['all'], subresources: ['status'] }),
  info({ group: BATCH, version: 'v1', kind: 'Job', resource: 'jobs', namespaced: true, categories: ['all'], subresources: ['status'] }),
  info({ group: DISCOVERY, version: 'v1', kind: 'EndpointSlice', resource: 'endpointslices', namespaced: true }),
  info({ group: RBAC, version: 'v1', kind: 'Role', resource: 'roles', namespaced: true }),
  info({ group: RBAC, version: 'v1', kind: 'RoleBinding', resource: 'rolebindings', namespaced: true }),
  info({ group: RBAC, version: 'v1', kind: 'ClusterRole', resource: 'clusterroles', namespaced: false }),
  info({ group: RBAC, version: 'v1', kind: 'ClusterRoleBinding', resource: 'clusterrolebindings', namespaced: false }),
  // Filled from the agents' in-memory samples, never stored: nothing to create or watch.
  info({ group: METRICS, version: 'v1beta1', kind: 'NodeMetrics', resource: 'nodes', namespaced: false, verbs: READ_ONLY }),
  info({ group: METRICS, version: 'v1beta1', kind: 'PodMetrics', resource: 'pods', namespaced: true, verbs: READ_ONLY }),
]);

/** Discovery facts of `<resource>/<subresource>`, as a Kubernetes server lists them. */
export function subresourceInfo(parent: ResourceInfo, sub: Subresource): SubresourceInfo {
  switch (sub) {
    case 'status':
      return { group: parent.group, version: parent.version, kind: parent.kind, verbs: ['get', 'patch', 'update'] };
    case 'scale':
      return { group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] };
    case 'binding':
      return { group: '', version: 'v1', kind: 'Binding', verbs: ['create'] };
    case 'log':
      return { group: '', version: 'v1', kind: 'Pod', verbs: ['get'] };
    case 'exec':
      return { group: '', version: 'v1', kind: 'PodExecOptions', verbs: ['create', 'get'] };
  }
}

/** The group/versions served, in discovery order (core `v1` first). */
export function groupVersions(): { group: string; version: string }[] {
  const seen = new Set<string>();
  const out: { group: string; version: string }[] = [];
  for (const r of RESOURCES) {
    if (seen.has(r.apiVersion)) continue;
    seen.add(r.apiVersion);
    out.push({ group: r.group, version: r.version });
  }
  return out;
}

export function resourcesIn(group: string, version: string): ResourceInfo[] {
  return RESOURCES.filter((r) => r.group === group && r.version === version);
}

/** The resource behind a URL path `/api(s)/<group>/<version>/.../<plural>`; undefined if not served. */
export function findResource(group: string, version: string, plural: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.resource === plural);
}

/** The resource of an object's `apiVersion` + `kind` (from a manifest); undefined if not served. */
export function findByKind(apiVersion: string, kind: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.apiVersion === apiVersion && r.kind === kind);
}

/** Splits `apps/v1` into group and version; `v1` is the core group. */
export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

function namesOf(r: ResourceInfo): string[] {
  return [r.resource, r.singular, r.kind.toLowerCase(), ...r.shortNames];
}

/**
 * Resolves what a user types after `get`/`delete`/`scale` the way kubectl does: a plural, singular,
 * kind or short name ("po", "Pod", "pods"), optionally qualified by group ("deployments.apps") or
 * by version and group ("deployments.v1.apps"). Case-insensitive. Undefined when nothing matches.
 */
export function resolveResourceArg(arg: string): ResourceInfo | undefined {
  const lower = arg.trim().toLowerCase();
  if (lower === '') return undefined;
  const dot = lower.indexOf('.');
  if (dot < 0) return RESOURCES.find((r) => namesOf(r).includes(lower));
  const name = lower.slice(0, dot);
  const qualifier = lower.slice(dot + 1);
  const candidates = RESOURCES.filter((r) => namesOf(r).includes(name));
  const byGroup = candidates.find((r) => r.group === qualifier);
  if (byGroup) return byGroup;
  return candidates.find((r) => r.group !== '' && qualifier === `${r.version}.${r.group}`);
}
