// The review APIs that are answered, never stored: authorization.k8s.io/v1 SelfSubjectAccessReview
// (`kubectl auth can-i VERB RESOURCE`) and SelfSubjectRulesReview (`kubectl auth can-i --list`),
// and authentication.k8s.io/v1 SelfSubjectReview (`kubectl auth whoami`). Each asks the same RBAC
// authorizer that guards every request, about the user who sent it.
import type { Authorizer, PolicyRule, RequestAttributes, RuleResolver, UserInfo } from './auth/index.ts';
import { failure, type KubeObject, type Status } from './resources/index.ts';

export interface ReviewEndpoint {
  group: string;
  version: string;
  resource: string;
  kind: string;
}

export const REVIEW_ENDPOINTS: readonly ReviewEndpoint[] = [
  { group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectaccessreviews', kind: 'SelfSubjectAccessReview' },
  { group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectrulesreviews', kind: 'SelfSubjectRulesReview' },
  { group: 'authentication.k8s.io', version: 'v1', resource: 'selfsubjectreviews', kind: 'SelfSubjectReview' },
];

/** The endpoint a path names (/apis/<group>/<version>/<resource>), if any. */
export function reviewEndpoint(segments: readonly string[]): ReviewEndpoint | undefined {
  if (segments.length !== 4 || segments[0] !== 'apis') return undefined;
  return REVIEW_ENDPOINTS.find((e) => e.group === segments[1] && e.version === segments[2] && e.resource === segments[3]);
}

/** Discovery documents for the review groups: /apis/<group> and /apis/<group>/<version>. */
export function reviewDiscovery(segments: readonly string[]): unknown {
  if (segments[0] !== 'apis' || (segments.length !== 2 && segments.length !== 3)) return undefined;
  const group = segments[1] ?? '';
  const endpoints = REVIEW_ENDPOINTS.filter((e) => e.group === group);
  if (endpoints.length === 0) return undefined;
  if (segments.length === 2) return { kind: 'APIGroup', apiVersion: 'v1', ...reviewGroup(group) };
  if (segments[2] !== 'v1') return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: `${group}/v1`,
    resources: endpoints.map((e) => ({ name: e.resource, singularName: e.kind.toLowerCase(), namespaced: false, kind: e.kind, verbs: ['create'] })),
  };
}

function reviewGroup(name: string): { name: string; versions: { groupVersion: string; version: string }[]; preferredVersion: { groupVersion: string; version: string } } {
  const v = { groupVersion: `${name}/v1`, version: 'v1' };
  return { name, versions: [v], preferredVersion: v };
}

/** Entries for /apis (APIGroupList.groups). */
export function reviewGroups(): ReturnType<typeof reviewGroup>[] {
  return [...new Set(REVIEW_ENDPOINTS.map((e) => e.group))].map(reviewGroup);
}

type Review = KubeObject & { spec?: Record<string, unknown> };

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function invalid(kind: string, message: string, field: string): Status {
  return failure(422, 'Invalid', `${kind}.authorization.k8s.io "" is invalid: ${field}: ${message}`, {
    kind,
    group: 'authorization.k8s.io',
    causes: [{ reason: 'FieldValueRequired', message, field }],
  });
}

/**
 * Answers a review. Returns the object to send back with 201, or a Status for bad input.
 * `authz` is the same authorizer the request gate uses.
 */
export async function answerReview(endpoint: ReviewEndpoint, body: Review, user: UserInfo, authz: Authorizer & RuleResolver): Promise<KubeObject | Status> {
  const apiVersion = `${endpoint.group}/${endpoint.version}`;
  if (body.kind !== undefined && body.kind !== endpoint.kind) return failure(400, 'BadRequest', `the kind "${String(body.kind)}" of the body does not match ${endpoint.resource} (kind ${endpoint.kind})`);
  const base = { apiVersion, kind: endpoint.kind, metadata: { ...body.metadata, creationTimestamp: null } } as unknown as KubeObject;
  const spec = body.spec ?? {};
  if (endpoint.kind === 'SelfSubjectReview') {
    return { ...base, status: { userInfo: { username: user.username, ...(user.uid ? { uid: user.uid } : {}), groups: user.groups } } };
  }
  if (endpoint.kind === 'SelfSubjectRulesReview') {
    const namespace = str(spec['namespace']);
    const rules = await authz.rulesFor(user, namespace);
    return { ...base, spec: { namespace }, status: { ...splitRules(rules), incomplete: false } };
  }
  const resource = spec['resourceAttributes'] as Record<string, unknown> | undefined;
  const nonResource = spec['nonResourceAttributes'] as Record<string, unknown> | undefined;
  if ((resource === undefined) === (nonResource === undefined)) {
    return invalid(endpoint.kind, 'exactly one of nonResourceAttributes or resourceAttributes must be specified', 'spec.resourceAttributes');
  }
  let attrs: RequestAttributes;
  if (resource !== undefined) {
    attrs = { user, verb: str(resource['verb']), apiGroup: str(resource['group']), resource: str(resource['resource']), resourceRequest: true };
    if (str(resource['subresource']) !== '') attrs.subresource = str(resource['subresource']);
    if (str(resource['namespace']) !== '') attrs.namespace = str(resource['namespace']);
    if (str(resource['name']) !== '') attrs.name = str(resource['name']);
  } else {
    attrs = { user, verb: str(nonResource?.['verb']), apiGroup: '', resource: '', path: str(nonResource?.['path']), resourceRequest: false };
  }
  const decision = await authz.authorize(attrs);
  return { ...base, spec, status: { allowed: decision.allowed, ...(decision.reason !== '' ? { reason: decision.reason } : {}) } };
}

/** Kubernetes' SubjectRulesReviewStatus: resource rules and non-resource rules apart. */
function splitRules(rules: readonly PolicyRule[]): { resourceRules: unknown[]; nonResourceRules: unknown[] } {
  const resourceRules: unknown[] = [];
  const nonResourceRules: unknown[] = [];
  for (const rule of rules) {
    if ((rule.nonResourceURLs ?? []).length > 0) nonResourceRules.push({ verbs: rule.verbs, nonResourceURLs: rule.nonResourceURLs });
    if ((rule.resources ?? []).length > 0) {
      resourceRules.push({ verbs: rule.verbs, apiGroups: rule.apiGroups ?? [], resources: rule.resources, ...((rule.resourceNames ?? []).length > 0 ? { resourceNames: rule.resourceNames } : {}) });
    }
  }
  return { resourceRules, nonResourceRules };
}
