import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bootstrapRbacObjects, createRbacAuthorizer, forbiddenMessage, ruleAllows, staticRbacSource, subjectMatches } from '../../../../src/api/auth/rbac.ts';
import type { PolicyRule, RequestAttributes, Role, RoleBinding, Subject } from '../../../../src/api/auth/rbac.ts';
import type { UserInfo } from '../../../../src/api/auth/user.ts';

const RBAC = 'rbac.authorization.k8s.io/v1';
const alice: UserInfo = { username: 'alice', groups: ['students', 'system:authenticated'] };
const bob: UserInfo = { username: 'bob', groups: ['students', 'system:authenticated'] };

function res(user: UserInfo, verb: string, resource: string, extra: Partial<RequestAttributes> = {}): RequestAttributes {
  return { user, verb, apiGroup: '', resource, resourceRequest: true, ...extra };
}
function nonRes(user: UserInfo, verb: string, path: string): RequestAttributes {
  return { user, verb, apiGroup: '', resource: '', path, resourceRequest: false };
}
function role(kind: 'Role' | 'ClusterRole', name: string, rules: PolicyRule[], namespace?: string): Role {
  return { apiVersion: RBAC, kind, metadata: namespace === undefined ? { name } : { name, namespace }, rules };
}
function binding(kind: 'RoleBinding' | 'ClusterRoleBinding', name: string, roleKind: string, roleName: string, subjects: Subject[], namespace?: string): RoleBinding {
  return { apiVersion: RBAC, kind, metadata: namespace === undefined ? { name } : { name, namespace }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: roleName }, subjects };
}
const user = (name: string): Subject => ({ kind: 'User', name, apiGroup: 'rbac.authorization.k8s.io' });

describe('RBAC rule matching (Kubernetes semantics)', () => {
  test('verbs, apiGroups and resources, with * wildcards', () => {
    const rule: PolicyRule = { apiGroups: ['', 'apps'], resources: ['pods', 'deployments'], verbs: ['get', 'list'] };
    assert.equal(ruleAllows(rule, res(alice, 'get', 'pods')), true);
    assert.equal(ruleAllows(rule, res(alice, 'list', 'deployments', { apiGroup: 'apps' })), true);
    assert.equal(ruleAllows(rule, res(alice, 'delete', 'pods')), false, 'verb not listed');
    assert.equal(ruleAllows(rule, res(alice, 'get', 'jobs', { apiGroup: 'batch' })), false, 'group not listed');
    assert.equal(ruleAllows(rule, res(alice, 'get', 'secrets')), false, 'resource not listed');
    const all: PolicyRule = { apiGroups: ['*'], resources: ['*'], verbs: ['*'] };
    assert.equal(ruleAllows(all, res(alice, 'deletecollection', 'jobs', { apiGroup: 'batch' })), true);
    assert.equal(ruleAllows(all, nonRes(alice, 'get', '/healthz')), false, 'resource rules never match paths');
  });

  test('subresources: exact "pods/log", "*/scale", and "pods" alone does not cover pods/exec', () => {
    const rule: PolicyRule = { apiGroups: ['', 'apps'], resources: ['pods', 'pods/log', '*/scale'], verbs: ['get', 'create', 'update'] };
    assert.equal(ruleAllows(rule, res(alice, 'get', 'pods', { subresource: 'log' })), true);
    assert.equal(ruleAllows(rule, res(alice, 'create', 'pods', { subresource: 'exec' })), false);
    assert.equal(ruleAllows(rule, res(alice, 'update', 'deployments', { apiGroup: 'apps', subresource: 'scale' })), true);
    assert.equal(ruleAllows(rule, res(alice, 'get', 'deployments', { apiGroup: 'apps' })), false, '*/scale is not the main resource');
  });

  test('resourceNames: only those objects, never a list or a create', () => {
    const rule: PolicyRule = { apiGroups: [''], resources: ['configmaps'], resourceNames: ['app-config'], verbs: ['get', 'list', 'create'] };
    assert.equal(ruleAllows(rule, res(alice, 'get', 'configmaps', { name: 'app-config' })), true);
    assert.equal(ruleAllows(rule, res(alice, 'get', 'configmaps', { name: 'other' })), false);
    assert.equal(ruleAllows(rule, res(alice, 'list', 'configmaps')), false);
    assert.equal(ruleAllows(rule, res(alice, 'create', 'configmaps')), false);
  });

  test('nonResourceURLs: exact, prefix*, *', () => {
    const rule: PolicyRule = { nonResourceURLs: ['/version', '/apis/*'], verbs: ['get'] };
    assert.equal(ruleAllows(rule, nonRes(alice, 'get', '/version')), true);
    assert.equal(ruleAllows(rule, nonRes(alice, 'get', '/apis/apps/v1')), true);
    assert.equal(ruleAllows(rule, nonRes(alice, 'get', '/apis')), false, '"/apis/*" needs the slash');
    assert.equal(ruleAllows(rule, nonRes(alice, 'post', '/version')), false);
    assert.equal(ruleAllows(rule, res(alice, 'get', 'pods')), false, 'path rules never match resources');
    assert.equal(ruleAllows({ nonResourceURLs: ['*'], verbs: ['*'] }, nonRes(alice, 'get', '/metrics')), true);
  });

  test('subjects: User, Group, ServiceAccount (namespace defaulted from the RoleBinding)', () => {
    assert.equal(subjectMatches(user('alice'), alice, undefined), true);
    assert.equal(subjectMatches(user('alice'), bob, undefined), false);
    assert.equal(subjectMatches({ kind: 'Group', name: 'students' }, bob, undefined), true);
    const sa: UserInfo = { username: 'system:serviceaccount:team-a:builder', groups: [] };
    assert.equal(subjectMatches({ kind: 'ServiceAccount', name: 'builder', namespace: 'team-a' }, sa, undefined), true);
    assert.equal(subjectMatches({ kind: 'ServiceAccount', name: 'builder' }, sa, 'team-a'), true);
    assert.equal(subjectMatches({ kind: 'ServiceAccount', name: 'builder' }, sa, 'team-b'), false);
    assert.equal(subjectMatches({ kind: 'Robot', name: 'alice' }, alice, undefined), false);
  });
});

describe('RBAC authorizer: the classroom (each student owns a namespace)', () => {
  const objects = [
    ...bootstrapRbacObjects(),
    binding('RoleBinding', 'alice-edit', 'ClusterRole', 'edit', [user('alice')], 'alice'),
    binding('RoleBinding', 'bob-edit', 'ClusterRole', 'edit', [user('bob')], 'bob'),
    role('Role', 'read-pods', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }], 'shared'),
    binding('RoleBinding', 'students-read-pods', 'Role', 'read-pods', [{ kind: 'Group', name: 'students' }], 'shared'),
    binding('RoleBinding', 'dangling', 'Role', 'does-not-exist', [user('alice')], 'shared'),
    // A RoleBinding may not grant paths even when its ClusterRole has nonResourceURLs.
    binding('RoleBinding', 'alice-admin-in-sandbox', 'ClusterRole', 'cluster-admin', [user('alice')], 'sandbox'),
  ];
  const authz = createRbacAuthorizer(staticRbacSource(objects));

  test('a student may work in her own namespace, with the binding named in the reason', async () => {
    const d = await authz.authorize(res(alice, 'create', 'pods', { namespace: 'alice' }));
    assert.deepEqual(d, { allowed: true, reason: 'RBAC: allowed by RoleBinding "alice-edit/alice" of ClusterRole "edit" to User "alice"' });
    assert.equal((await authz.authorize(res(alice, 'get', 'secrets', { namespace: 'alice', name: 's' }))).allowed, true);
    assert.equal((await authz.authorize(res(alice, 'update', 'deployments', { apiGroup: 'apps', namespace: 'alice', subresource: 'scale', name: 'web' }))).allowed, true);
  });

  test("but not in another student's namespace, nor cluster-wide", async () => {
    assert.deepEqual(await authz.authorize(res(alice, 'list', 'pods', { namespace: 'bob' })), { allowed: false, reason: '' });
    assert.equal((await authz.authorize(res(alice, 'get', 'secrets', { namespace: 'bob', name: 'db' }))).allowed, false);
    assert.equal((await authz.authorize(res(alice, 'list', 'pods'))).allowed, false, 'all namespaces is cluster scope');
    assert.equal((await authz.authorize(res(alice, 'list', 'nodes'))).allowed, false);
  });

  test('edit does not grant RBAC objects (admin does)', async () => {
    assert.equal((await authz.authorize(res(alice, 'create', 'rolebindings', { apiGroup: 'rbac.authorization.k8s.io', namespace: 'alice' }))).allowed, false);
  });

  test('a group binding to a namespaced Role; a binding to a missing Role grants nothing', async () => {
    assert.equal((await authz.authorize(res(bob, 'list', 'pods', { namespace: 'shared' }))).allowed, true);
    assert.equal((await authz.authorize(res(bob, 'delete', 'pods', { namespace: 'shared', name: 'x' }))).allowed, false);
    assert.equal((await authz.authorize(res(alice, 'list', 'configmaps', { namespace: 'shared' }))).allowed, false);
  });

  test('a RoleBinding to cluster-admin is admin of that namespace only, and grants no paths', async () => {
    assert.equal((await authz.authorize(res(alice, 'delete', 'roles', { apiGroup: 'rbac.authorization.k8s.io', namespace: 'sandbox', name: 'r' }))).allowed, true);
    assert.equal((await authz.authorize(res(alice, 'delete', 'namespaces', { name: 'sandbox' }))).allowed, false);
    assert.equal((await authz.authorize(nonRes(alice, 'get', '/metrics'))).allowed, false);
  });

  test('discovery and health paths for every authenticated user', async () => {
    assert.equal((await authz.authorize(nonRes(alice, 'get', '/apis/apps/v1'))).allowed, true);
    assert.equal((await authz.authorize(nonRes(alice, 'get', '/version'))).allowed, true);
    assert.equal((await authz.authorize(nonRes(alice, 'post', '/api'))).allowed, false);
  });

  test('system:masters: allowed by the cluster-admin binding, and still allowed with no bindings at all', async () => {
    const admin: UserInfo = { username: 'admin', groups: ['system:masters', 'system:authenticated'] };
    assert.equal((await authz.authorize(res(admin, 'deletecollection', 'nodes'))).allowed, true);
    const withoutBypass = createRbacAuthorizer(staticRbacSource(objects), { mastersBypass: false });
    assert.deepEqual(await withoutBypass.authorize(res(admin, 'delete', 'secrets', { namespace: 'bob', name: 'db' })), {
      allowed: true,
      reason: 'RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to Group "system:masters"',
    });
    const empty = createRbacAuthorizer(staticRbacSource([]));
    assert.equal((await empty.authorize(res(admin, 'delete', 'secrets', { namespace: 'bob', name: 'db' }))).allowed, true);
    assert.equal((await empty.authorize(res(alice, 'get', 'pods', { namespace: 'alice', name: 'p' }))).allowed, false);
  });

  test('a ServiceAccount bound in its namespace', async () => {
    const sa: UserInfo = { username: 'system:serviceaccount:ci:deployer', groups: ['system:serviceaccounts', 'system:authenticated'] };
    const authz2 = createRbacAuthorizer(staticRbacSource([...objects, binding('RoleBinding', 'deployer', 'ClusterRole', 'edit', [{ kind: 'ServiceAccount', name: 'deployer' }], 'ci')]));
    assert.equal((await authz2.authorize(res(sa, 'patch', 'deployments', { apiGroup: 'apps', namespace: 'ci', name: 'web' }))).allowed, true);
    assert.equal((await authz2.authorize(res(sa, 'patch', 'deployments', { apiGroup: 'apps', namespace: 'prod', name: 'web' }))).allowed, false);
  });

  test('an async source (as the server supplies it from the registry) works the same', async () => {
    const sync = staticRbacSource(objects);
    const asyncAuthz = createRbacAuthorizer({
      clusterRoleBindings: async () => sync.clusterRoleBindings(),
      roleBindings: async (ns) => sync.roleBindings(ns),
      clusterRole: async (name) => sync.clusterRole(name),
      role: async (ns, name) => sync.role(ns, name),
    });
    assert.equal((await asyncAuthz.authorize(res(alice, 'create', 'pods', { namespace: 'alice' }))).allowed, true);
    assert.equal((await asyncAuthz.authorize(res(alice, 'create', 'pods', { namespace: 'bob' }))).allowed, false);
  });
});

describe('bootstrap roles and the 403 message', () => {
  test('the built-in ClusterRoles and bindings of Kubernetes', () => {
    const objs = bootstrapRbacObjects();
    assert.deepEqual(
      objs.filter((o) => o.kind === 'ClusterRole').map((o) => o.metadata.name),
      ['cluster-admin', 'admin', 'edit', 'view', 'system:discovery', 'system:public-info-viewer', 'system:monitoring', 'system:basic-user'],
    );
    const monitoring = objs.find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'system:monitoring') as { rules: unknown };
    assert.deepEqual(monitoring.rules, [{ nonResourceURLs: ['/healthz', '/healthz/*', '/livez', '/livez/*', '/metrics', '/metrics/slis', '/readyz', '/readyz/*'], verbs: ['get'] }]);
    const monitoringBinding = objs.find((o) => o.kind === 'ClusterRoleBinding' && o.metadata.name === 'system:monitoring') as RoleBinding;
    assert.deepEqual(monitoringBinding.subjects, [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:monitoring' }]);
    const crb = objs.find((o) => o.kind === 'ClusterRoleBinding' && o.metadata.name === 'cluster-admin') as RoleBinding;
    assert.deepEqual(crb.subjects, [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:masters' }]);
    for (const o of objs) assert.equal(o.metadata.labels?.['kubernetes.io/bootstrapping'], 'rbac-defaults');
  });

  test('view cannot read secrets; edit can', async () => {
    const authz = createRbacAuthorizer(staticRbacSource([...bootstrapRbacObjects(), binding('RoleBinding', 'v', 'ClusterRole', 'view', [user('bob')], 'alice')]));
    assert.equal((await authz.authorize(res(bob, 'list', 'pods', { namespace: 'alice' }))).allowed, true);
    assert.equal((await authz.authorize(res(bob, 'get', 'secrets', { namespace: 'alice', name: 'db' }))).allowed, false);
    assert.equal((await authz.authorize(res(bob, 'delete', 'pods', { namespace: 'alice', name: 'p' }))).allowed, false);
  });

  test('forbiddenMessage is word for word what kubectl prints', () => {
    assert.equal(forbiddenMessage(res(alice, 'list', 'pods', { namespace: 'bob' })), 'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "bob"');
    assert.equal(
      forbiddenMessage(res(alice, 'get', 'deployments', { apiGroup: 'apps', name: 'web', namespace: 'bob', subresource: 'scale' })),
      'deployments.apps "web" is forbidden: User "alice" cannot get resource "deployments/scale" in API group "apps" in the namespace "bob"',
    );
    assert.equal(forbiddenMessage(res(alice, 'list', 'nodes')), 'nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the cluster scope');
    assert.equal(forbiddenMessage(nonRes(alice, 'get', '/metrics')), 'forbidden: User "alice" cannot get path "/metrics"');
  });
});
