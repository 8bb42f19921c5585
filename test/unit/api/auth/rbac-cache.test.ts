import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bootstrapRbacObjects, createRbacAuthorizer } from '../../../../src/api/auth/rbac.ts';
import type { RequestAttributes, RoleBinding } from '../../../../src/api/auth/rbac.ts';
import { RbacCache } from '../../../../src/api/auth/rbac-cache.ts';

const RBAC = 'rbac.authorization.k8s.io';
const alicePods: RequestAttributes = { user: { username: 'alice', groups: ['system:authenticated'] }, verb: 'list', apiGroup: '', resource: 'pods', namespace: 'alice', resourceRequest: true };

function aliceBinding(roleKind: string, roleName: string): RoleBinding {
  return { apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: { name: 'alice', namespace: 'alice' }, roleRef: { apiGroup: RBAC, kind: roleKind, name: roleName }, subjects: [{ kind: 'User', name: 'alice' }] };
}

describe('RbacCache: the authorizer follows watch events', () => {
  test('a binding added, changed to another role, deleted; a role deleted under its binding', async () => {
    const cache = new RbacCache();
    cache.reset(bootstrapRbacObjects());
    assert.equal(cache.size, 13);
    const authz = createRbacAuthorizer(cache);
    assert.equal((await authz.authorize(alicePods)).allowed, false);

    cache.apply('ADDED', aliceBinding('ClusterRole', 'view'));
    assert.equal((await authz.authorize(alicePods)).allowed, true);
    assert.equal((await authz.authorize({ ...alicePods, verb: 'create' })).allowed, false, 'view cannot create');

    cache.apply('MODIFIED', aliceBinding('ClusterRole', 'edit'));
    assert.equal((await authz.authorize({ ...alicePods, verb: 'create' })).allowed, true);
    assert.equal(cache.roleBindings('alice').length, 1, 'modified in place, not added twice');

    cache.apply('DELETED', { apiVersion: `${RBAC}/v1`, kind: 'ClusterRole', metadata: { name: 'edit' } });
    assert.equal((await authz.authorize({ ...alicePods, verb: 'create' })).allowed, false, 'a binding to a deleted role grants nothing');

    cache.apply('DELETED', aliceBinding('ClusterRole', 'edit'));
    assert.deepEqual(cache.roleBindings('alice'), []);
  });

  test('namespaced Roles are keyed by namespace; other kinds and groups are ignored', async () => {
    const cache = new RbacCache();
    cache.apply('ADDED', { apiVersion: `${RBAC}/v1`, kind: 'Role', metadata: { name: 'pods', namespace: 'alice' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }] });
    cache.apply('ADDED', aliceBinding('Role', 'pods'));
    cache.apply('ADDED', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'alice' } });
    cache.apply('ADDED', { apiVersion: 'example.com/v1', kind: 'Role', metadata: { name: 'y', namespace: 'alice' } });
    assert.equal(cache.size, 2);
    assert.equal(cache.role('bob', 'pods'), undefined);
    const authz = createRbacAuthorizer(cache);
    assert.equal((await authz.authorize(alicePods)).allowed, true);

    cache.apply('ADDED', { apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding', metadata: { name: 'all' }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'x' }, subjects: [] });
    assert.equal(cache.clusterRoleBindings().length, 1);
    cache.reset([]);
    assert.equal(cache.size, 0);
    assert.equal(cache.clusterRoleBindings().length, 0);
    assert.equal((await authz.authorize(alicePods)).allowed, false);
  });
});
