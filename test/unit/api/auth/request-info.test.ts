import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { forbiddenStatus, unauthorizedStatus } from '../../../../src/api/auth/rbac.ts';
import { requestAttributes } from '../../../../src/api/auth/request-info.ts';
import type { UserInfo } from '../../../../src/api/auth/user.ts';

const u: UserInfo = { username: 'alice', groups: ['system:authenticated'] };

function pick(method: string, url: string): Record<string, unknown> {
  const { user: _user, ...rest } = requestAttributes(u, method, url);
  return rest;
}

describe('request attributes (Kubernetes RequestInfoFactory)', () => {
  test('collections: list, watch, create, deletecollection; cluster-wide and namespaced', () => {
    assert.deepEqual(pick('GET', '/api/v1/pods'), { verb: 'list', apiGroup: '', resource: 'pods', resourceRequest: true });
    assert.deepEqual(pick('GET', '/api/v1/namespaces/a/pods?watch=1&resourceVersion=5'), { verb: 'watch', apiGroup: '', resource: 'pods', namespace: 'a', resourceRequest: true });
    assert.deepEqual(pick('GET', '/api/v1/namespaces/a/pods?watch=false'), { verb: 'list', apiGroup: '', resource: 'pods', namespace: 'a', resourceRequest: true });
    assert.deepEqual(pick('POST', '/apis/apps/v1/namespaces/a/deployments'), { verb: 'create', apiGroup: 'apps', resource: 'deployments', namespace: 'a', resourceRequest: true });
    assert.deepEqual(pick('DELETE', '/api/v1/namespaces/a/pods?labelSelector=app%3Dweb'), { verb: 'deletecollection', apiGroup: '', resource: 'pods', namespace: 'a', resourceRequest: true });
  });

  test('objects and subresources', () => {
    assert.deepEqual(pick('GET', '/api/v1/namespaces/a/pods/web'), { verb: 'get', apiGroup: '', resource: 'pods', namespace: 'a', name: 'web', resourceRequest: true });
    assert.deepEqual(pick('PUT', '/apis/apps/v1/namespaces/a/deployments/web/scale'), { verb: 'update', apiGroup: 'apps', resource: 'deployments', namespace: 'a', name: 'web', subresource: 'scale', resourceRequest: true });
    assert.deepEqual(pick('PATCH', '/api/v1/nodes/pi-1/status'), { verb: 'patch', apiGroup: '', resource: 'nodes', name: 'pi-1', subresource: 'status', resourceRequest: true });
    assert.deepEqual(pick('GET', '/api/v1/namespaces/a/pods/web/log?follow=true'), { verb: 'get', apiGroup: '', resource: 'pods', namespace: 'a', name: 'web', subresource: 'log', resourceRequest: true });
    assert.deepEqual(pick('POST', '/api/v1/namespaces/a/pods/web/exec?command=ls'), { verb: 'create', apiGroup: '', resource: 'pods', namespace: 'a', name: 'web', subresource: 'exec', resourceRequest: true });
    assert.deepEqual(pick('GET', '/api/v1/namespaces/a/pods/web/exec?command=sh&stdin=true'), { verb: 'create', apiGroup: '', resource: 'pods', namespace: 'a', name: 'web', subresource: 'exec', resourceRequest: true }, 'a WebSocket exec (GET) needs create, as in Kubernetes');
    assert.deepEqual(pick('DELETE', '/apis/rbac.authorization.k8s.io/v1/clusterroles/view'), { verb: 'delete', apiGroup: 'rbac.authorization.k8s.io', resource: 'clusterroles', name: 'view', resourceRequest: true });
  });

  test('the Namespace object itself, and its status subresource', () => {
    assert.deepEqual(pick('GET', '/api/v1/namespaces/a'), { verb: 'get', apiGroup: '', resource: 'namespaces', namespace: 'a', name: 'a', resourceRequest: true });
    assert.deepEqual(pick('PUT', '/api/v1/namespaces/a/status'), { verb: 'update', apiGroup: '', resource: 'namespaces', namespace: 'a', name: 'a', subresource: 'status', resourceRequest: true });
    assert.deepEqual(pick('GET', '/api/v1/namespaces'), { verb: 'list', apiGroup: '', resource: 'namespaces', resourceRequest: true });
  });

  test('legacy /watch/ paths and kubectl get -w NAME (fieldSelector on metadata.name)', () => {
    assert.deepEqual(pick('GET', '/api/v1/watch/namespaces/a/pods'), { verb: 'watch', apiGroup: '', resource: 'pods', namespace: 'a', resourceRequest: true });
    assert.deepEqual(pick('GET', '/api/v1/namespaces/a/pods?fieldSelector=metadata.name%3Dweb&watch=true'), { verb: 'watch', apiGroup: '', resource: 'pods', namespace: 'a', name: 'web', resourceRequest: true });
    assert.deepEqual(pick('GET', '/api/v1/namespaces/a/pods?fieldSelector=metadata.name%3Dweb%2Cstatus.phase%3DRunning'), { verb: 'list', apiGroup: '', resource: 'pods', namespace: 'a', resourceRequest: true });
  });

  test('discovery, health and version are non-resource paths with the HTTP verb', () => {
    for (const path of ['/api', '/api/v1', '/apis', '/apis/apps', '/apis/apps/v1', '/healthz', '/version', '/openapi/v2']) {
      assert.deepEqual(pick('GET', path), { verb: 'get', apiGroup: '', resource: '', path, resourceRequest: false }, path);
    }
    assert.equal(requestAttributes(u, 'POST', '/healthz').verb, 'post');
  });
});

describe('401 and 403 Status bodies', () => {
  test('401 as the Kubernetes API server sends it', () => {
    assert.deepEqual(unauthorizedStatus(), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
  });

  test('403 names the user, verb, resource and namespace', () => {
    assert.deepEqual(forbiddenStatus(requestAttributes(u, 'GET', '/api/v1/namespaces/bob/secrets/db')), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'secrets "db" is forbidden: User "alice" cannot get resource "secrets" in API group "" in the namespace "bob"',
      reason: 'Forbidden',
      details: { name: 'db', group: '', kind: 'secrets' },
      code: 403,
    });
    assert.equal(forbiddenStatus(requestAttributes(u, 'GET', '/metrics')).details, undefined);
  });
});
