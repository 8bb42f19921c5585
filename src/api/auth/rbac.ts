// Authorization with Kubernetes RBAC semantics: a request is allowed when some binding that names
// the user (User, Group or ServiceAccount subject) points at a role with a rule covering it.
// ClusterRoleBindings apply everywhere; a RoleBinding applies only inside its own namespace, to a
// Role of that namespace or to a ClusterRole (the classroom pattern: one `edit` ClusterRole bound
// per student namespace). Deny rules do not exist in RBAC, so the first match decides.

import type { KubeObject, Status } from '../resources/types.ts';
import { GROUP_AUTHENTICATED, GROUP_MASTERS, GROUP_UNAUTHENTICATED } from './user.ts';
import type { UserInfo } from './user.ts';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';
const RBAC_API_VERSION = `${RBAC_GROUP}/v1`;

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind: 'User' | 'Group' | 'ServiceAccount' | string;
  name: string;
  namespace?: string;
  apiGroup?: string;
}

export interface RoleRef {
  apiGroup: string;
  kind: 'Role' | 'ClusterRole' | string;
  name: string;
}

export interface Role extends KubeObject {
  rules?: PolicyRule[];
}

export interface RoleBinding extends KubeObject {
  subjects?: Subject[];
  roleRef: RoleRef;
}

/** The RBAC objects in force. The server supplies them from the registry, kept current by a watch. */
export interface RbacSource {
  clusterRoleBindings(): readonly RoleBinding[] | Promise<readonly RoleBinding[]>;
  roleBindings(namespace: string): readonly RoleBinding[] | Promise<readonly RoleBinding[]>;
  clusterRole(name: string): Role | undefined | Promise<Role | undefined>;
  role(namespace: string, name: string): Role | undefined | Promise<Role | undefined>;
}

/**
 * What is being asked. `verb` is one of get/list/watch/create/update/patch/delete/deletecollection
 * for resource requests (Kubernetes also knows proxy, bind, escalate, impersonate), and the
 * lowercase HTTP method for non-resource paths (get for GET /healthz).
 */
export interface RequestAttributes {
  user: UserInfo;
  verb: string;
  apiGroup: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** The URL path, for non-resource requests (/healthz, /version, /api). */
  path?: string;
  resourceRequest: boolean;
}

export interface Decision {
  allowed: boolean;
  /** Which binding allowed it, or why nothing did; Kubernetes shows this in the 403 message. */
  reason: string;
}

export interface Authorizer {
  authorize(attrs: RequestAttributes): Promise<Decision>;
}

/** What a user may do in a namespace, as rules (SelfSubjectRulesReview, `kubectl auth can-i --list`). */
export interface RuleResolver {
  rulesFor(user: UserInfo, namespace: string): Promise<PolicyRule[]>;
}

function has(list: readonly string[] | undefined, value: string): boolean {
  return list !== undefined && (list.includes('*') || list.includes(value));
}

/** Kubernetes' ResourceMatches: '*', exact "pods" or "pods/log", or "* /log" for any resource's subresource. */
function resourceMatches(rule: PolicyRule, resource: string, subresource: string | undefined): boolean {
  const combined = subresource === undefined || subresource === '' ? resource : `${resource}/${subresource}`;
  for (const r of rule.resources ?? []) {
    if (r === '*' || r === combined) return true;
    if (subresource !== undefined && subresource !== '' && r === `*/${subresource}`) return true;
  }
  return false;
}

/** Kubernetes' NonResourceURLMatches: exact, '*', or a prefix ending in '*' ("/healthz/*"). */
function nonResourceUrlMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === '*' || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.slice(0, -1))) return true;
  }
  return false;
}

/** Does one rule cover the request? Exported for tests and for `bramble auth can-i`-style checks. */
export function ruleAllows(rule: PolicyRule, attrs: RequestAttributes): boolean {
  if (!has(rule.verbs, attrs.verb)) return false;
  if (!attrs.resourceRequest) return nonResourceUrlMatches(rule, attrs.path ?? '');
  if (!has(rule.apiGroups, attrs.apiGroup)) return false;
  if (!resourceMatches(rule, attrs.resource, attrs.subresource)) return false;
  // resourceNames restrict to named objects; a request without a name (list, create) never matches them.
  if (rule.resourceNames !== undefined && rule.resourceNames.length > 0) {
    return attrs.name !== undefined && attrs.name !== '' && rule.resourceNames.includes(attrs.name);
  }
  return true;
}

/** Does the binding name this user? `bindingNamespace` defaults a ServiceAccount subject's namespace. */
export function subjectMatches(subject: Subject, user: UserInfo, bindingNamespace: string | undefined): boolean {
  switch (subject.kind) {
    case 'User':
      return subject.name === user.username;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const ns = subject.namespace ?? bindingNamespace ?? '';
      return ns !== '' && user.username === `system:serviceaccount:${ns}:${subject.name}`;
    }
    default:
      return false;
  }
}

function describeSubject(subject: Subject): string {
  return subject.kind === 'ServiceAccount' ? `ServiceAccount "${subject.namespace ?? ''}/${subject.name}"` : `${subject.kind} "${subject.name}"`;
}

export interface RbacAuthorizerOptions {
  /**
   * Members of system:masters are allowed everything even with no binding, as in Kubernetes
   * (its privileged-group authorizer), so deleting the cluster-admin binding cannot lock the
   * admin out. Default true.
   */
  mastersBypass?: boolean;
}

export function createRbacAuthorizer(source: RbacSource, options: RbacAuthorizerOptions = {}): Authorizer & RuleResolver {
  const mastersBypass = options.mastersBypass ?? true;

  async function rulesOf(ref: RoleRef, bindingNamespace: string | undefined): Promise<readonly PolicyRule[] | undefined> {
    if (ref.kind === 'ClusterRole') return (await source.clusterRole(ref.name))?.rules ?? undefined;
    if (ref.kind === 'Role' && bindingNamespace !== undefined) return (await source.role(bindingNamespace, ref.name))?.rules ?? undefined;
    return undefined;
  }

  async function tryBindings(bindings: readonly RoleBinding[], attrs: RequestAttributes, bindingNamespace: string | undefined): Promise<string | undefined> {
    for (const binding of bindings) {
      const subject = (binding.subjects ?? []).find((s) => subjectMatches(s, attrs.user, bindingNamespace));
      if (subject === undefined) continue;
      const rules = await rulesOf(binding.roleRef, bindingNamespace);
      if (rules === undefined) continue; // a binding to a missing role grants nothing
      if (rules.some((rule) => ruleAllows(rule, attrs))) {
        const where = bindingNamespace === undefined ? `ClusterRoleBinding "${binding.metadata.name ?? ''}"` : `RoleBinding "${binding.metadata.name ?? ''}/${bindingNamespace}"`;
        return `RBAC: allowed by ${where} of ${binding.roleRef.kind} "${binding.roleRef.name}" to ${describeSubject(subject)}`;
      }
    }
    return undefined;
  }

  return {
    async authorize(attrs) {
      if (mastersBypass && attrs.user.groups.includes(GROUP_MASTERS)) return { allowed: true, reason: `allowed: member of ${GROUP_MASTERS}` };
      const byCluster = await tryBindings(await source.clusterRoleBindings(), attrs, undefined);
      if (byCluster !== undefined) return { allowed: true, reason: byCluster };
      // RoleBindings grant only resource requests inside their namespace.
      if (attrs.resourceRequest && attrs.namespace !== undefined && attrs.namespace !== '') {
        const byNamespace = await tryBindings(await source.roleBindings(attrs.namespace), attrs, attrs.namespace);
        if (byNamespace !== undefined) return { allowed: true, reason: byNamespace };
      }
      return { allowed: false, reason: '' };
    },
    async rulesFor(user, namespace) {
      // As Kubernetes' RBAC rule resolver: every ClusterRoleBinding's rules, then the RoleBindings
      // of the namespace. Bindings to missing roles contribute nothing.
      const rules: PolicyRule[] = [];
      const collect = async (bindings: readonly RoleBinding[], bindingNamespace: string | undefined) => {
        for (const binding of bindings) {
          if (!(binding.subjects ?? []).some((s) => subjectMatches(s, user, bindingNamespace))) continue;
          rules.push(...((await rulesOf(binding.roleRef, bindingNamespace)) ?? []));
        }
      };
      await collect(await source.clusterRoleBindings(), undefined);
      if (namespace !== '') await collect(await source.roleBindings(namespace), namespace);
      return rules;
    },
  };
}

/**
 * The message of Kubernetes' 403 for a denied request, e.g.
 * `pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "bob"`.
 */
export function forbiddenMessage(attrs: RequestAttributes, reason = ''): string {
  const user = attrs.user.username;
  let detail: string;
  if (!attrs.resourceRequest) {
    detail = `User "${user}" cannot ${attrs.verb} path "${attrs.path ?? ''}"`;
    return `forbidden: ${detail}${reason === '' ? '' : `: ${reason}`}`;
  }
  const resource = attrs.subresource === undefined || attrs.subresource === '' ? attrs.resource : `${attrs.resource}/${attrs.subresource}`;
  detail =
    attrs.namespace !== undefined && attrs.namespace !== ''
      ? `User "${user}" cannot ${attrs.verb} resource "${resource}" in API group "${attrs.apiGroup}" in the namespace "${attrs.namespace}"`
      : `User "${user}" cannot ${attrs.verb} resource "${resource}" in API group "${attrs.apiGroup}" at the cluster scope`;
  const qualified = attrs.apiGroup === '' ? attrs.resource : `${attrs.resource}.${attrs.apiGroup}`;
  const subject = attrs.name !== undefined && attrs.name !== '' ? `${qualified} "${attrs.name}"` : qualified;
  return `${subject} is forbidden: ${detail}${reason === '' ? '' : `: ${reason}`}`;
}

/** An RbacSource over fixed arrays of objects (bootstrap, tests, a cache the server refreshes). */
export function staticRbacSource(objects: readonly KubeObject[]): RbacSource {
  const of = (kind: string): KubeObject[] => objects.filter((o) => o.kind === kind && o.apiVersion === RBAC_API_VERSION);
  const crbs = of('ClusterRoleBinding') as RoleBinding[];
  const rbs = of('RoleBinding') as RoleBinding[];
  const crs = of('ClusterRole') as Role[];
  const rs = of('Role') as Role[];
  return {
    clusterRoleBindings: () => crbs,
    roleBindings: (ns) => rbs.filter((b) => b.metadata.namespace === ns),
    clusterRole: (name) => crs.find((r) => r.metadata.name === name),
    role: (ns, name) => rs.find((r) => r.metadata.namespace === ns && r.metadata.name === name),
  };
}

// --- the built-in roles, created at first start -------------------------------------------------

const BOOTSTRAP_LABELS = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };
const AUTOUPDATE = { 'rbac.authorization.kubernetes.io/autoupdate': 'true' };

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];

function clusterRole(name: string, rules: PolicyRule[]): Role {
  return { apiVersion: RBAC_API_VERSION, kind: 'ClusterRole', metadata: { name, labels: { ...BOOTSTRAP_LABELS }, annotations: { ...AUTOUPDATE } }, rules };
}

function clusterRoleBinding(name: string, role: string, subjects: Subject[]): RoleBinding {
  return {
    apiVersion: RBAC_API_VERSION,
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: { ...BOOTSTRAP_LABELS }, annotations: { ...AUTOUPDATE } },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: role },
    subjects,
  };
}

const group = (name: string): Subject => ({ apiGroup: RBAC_GROUP, kind: 'Group', name });

// Kubernetes builds admin/edit/view by aggregation; Bramble has no aggregation controller, so the
// rules are written out for the kinds Bramble serves.
const VIEW_RULES: PolicyRule[] = [
  { apiGroups: [''], resources: ['pods', 'pods/log', 'pods/status', 'services', 'services/status', 'endpoints', 'configmaps', 'serviceaccounts', 'events', 'namespaces', 'namespaces/status', 'replicationcontrollers', 'persistentvolumeclaims', 'limitranges', 'resourcequotas'], verbs: READ },
  { apiGroups: ['apps'], resources: ['deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status', 'daemonsets', 'daemonsets/status', 'statefulsets'], verbs: READ },
  { apiGroups: ['batch'], resources: ['jobs', 'jobs/status', 'cronjobs'], verbs: READ },
  { apiGroups: ['metrics.k8s.io'], resources: ['pods', 'nodes'], verbs: READ },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: READ },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: READ },
];

const EDIT_RULES: PolicyRule[] = [
  { apiGroups: [''], resources: ['pods', 'pods/exec', 'pods/attach', 'pods/portforward', 'pods/proxy', 'pods/log', 'pods/status', 'services', 'endpoints', 'configmaps', 'secrets', 'serviceaccounts', 'events', 'persistentvolumeclaims', 'replicationcontrollers', 'replicationcontrollers/scale'], verbs: [...READ, ...WRITE] },
  { apiGroups: [''], resources: ['namespaces', 'namespaces/status', 'limitranges', 'resourcequotas'], verbs: READ },
  { apiGroups: ['apps'], resources: ['deployments', 'deployments/scale', 'deployments/rollback', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status', 'daemonsets', 'daemonsets/status', 'statefulsets', 'statefulsets/scale'], verbs: [...READ, ...WRITE] },
  { apiGroups: ['batch'], resources: ['jobs', 'jobs/status', 'cronjobs'], verbs: [...READ, ...WRITE] },
  { apiGroups: ['metrics.k8s.io'], resources: ['pods', 'nodes'], verbs: READ },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: READ },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: READ },
];

const ADMIN_RULES: PolicyRule[] = [
  ...EDIT_RULES,
  { apiGroups: [RBAC_GROUP], resources: ['roles', 'rolebindings'], verbs: [...READ, ...WRITE] },
  { apiGroups: ['authorization.k8s.io'], resources: ['localsubjectaccessreviews'], verbs: ['create'] },
];

const DISCOVERY_URLS = ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'];
const PUBLIC_INFO_URLS = ['/healthz', '/livez', '/readyz', '/version', '/version/'];
// One check each (/readyz/<check>) tells its reason: only monitoring users (and admins) may ask.
const MONITORING_URLS = ['/healthz', '/healthz/*', '/livez', '/livez/*', '/metrics', '/metrics/slis', '/readyz', '/readyz/*'];
const GROUP_MONITORING = 'system:monitoring';

/** The ClusterRoles and ClusterRoleBindings the server creates at first start (Kubernetes' defaults). */
export function bootstrapRbacObjects(): (Role | RoleBinding)[] {
  return [
    clusterRole('cluster-admin', [
      { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
      { nonResourceURLs: ['*'], verbs: ['*'] },
    ]),
    clusterRole('admin', ADMIN_RULES),
    clusterRole('edit', EDIT_RULES),
    clusterRole('view', VIEW_RULES),
    clusterRole('system:discovery', [{ nonResourceURLs: DISCOVERY_URLS, verbs: ['get'] }]),
    clusterRole('system:public-info-viewer', [{ nonResourceURLs: PUBLIC_INFO_URLS, verbs: ['get'] }]),
    clusterRole('system:monitoring', [{ nonResourceURLs: MONITORING_URLS, verbs: ['get'] }]),
    clusterRole('system:basic-user', [
      { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] },
      { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] },
    ]),
    clusterRoleBinding('cluster-admin', 'cluster-admin', [group(GROUP_MASTERS)]),
    clusterRoleBinding('system:discovery', 'system:discovery', [group(GROUP_AUTHENTICATED)]),
    clusterRoleBinding('system:basic-user', 'system:basic-user', [group(GROUP_AUTHENTICATED)]),
    clusterRoleBinding('system:public-info-viewer', 'system:public-info-viewer', [group(GROUP_AUTHENTICATED), group(GROUP_UNAUTHENTICATED)]),
    clusterRoleBinding('system:monitoring', 'system:monitoring', [group(GROUP_MONITORING)]),
  ];
}

// --- the Status bodies of 401 and 403 -------------------------------------------------------------

/** The body of a 401, word for word what the Kubernetes API server sends. */
export function unauthorizedStatus(): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 };
}

/** The body of a 403 for a denied request (see forbiddenMessage). */
export function forbiddenStatus(attrs: RequestAttributes, reason = ''): Status {
  const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: forbiddenMessage(attrs, reason), reason: 'Forbidden', code: 403 };
  if (attrs.resourceRequest) {
    status.details = { group: attrs.apiGroup, kind: attrs.resource };
    if (attrs.name !== undefined && attrs.name !== '') status.details = { name: attrs.name, ...status.details };
  }
  return status;
}
