import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RESOURCES, findByKind, findResource, groupVersions, parseApiVersion, resolveResourceArg, subresourceInfo } from '../../../../src/api/resources/index.ts';

test('catalog: every kind of the issue is served with a unique group/version/plural', () => {
  const kinds = RESOURCES.map((r) => `${r.apiVersion}/${r.kind}`).sort();
  assert.deepEqual(kinds, [
    'apps/v1/DaemonSet', 'apps/v1/Deployment', 'apps/v1/ReplicaSet', 'batch/v1/Job', 'discovery.k8s.io/v1/EndpointSlice',
    'metrics.k8s.io/v1beta1/NodeMetrics', 'metrics.k8s.io/v1beta1/PodMetrics',
    'rbac.authorization.k8s.io/v1/ClusterRole', 'rbac.authorization.k8s.io/v1/ClusterRoleBinding',
    'rbac.authorization.k8s.io/v1/Role', 'rbac.authorization.k8s.io/v1/RoleBinding',
    'v1/ConfigMap', 'v1/Endpoints', 'v1/Event', 'v1/Namespace', 'v1/Node', 'v1/Pod', 'v1/Secret', 'v1/Service', 'v1/ServiceAccount',
  ]);
  const keys = RESOURCES.map((r) => `${r.group}/${r.version}/${r.resource}`);
  assert.equal(new Set(keys).size, keys.length);
});

test('catalog: scope, list kinds and read-only metrics', () => {
  assert.equal(findResource('', 'v1', 'namespaces')?.namespaced, false);
  assert.equal(findResource('', 'v1', 'pods')?.namespaced, true);
  assert.equal(findResource('rbac.authorization.k8s.io', 'v1', 'clusterroles')?.namespaced, false);
  assert.equal(findResource('apps', 'v1', 'deployments')?.listKind, 'DeploymentList');
  assert.deepEqual(findResource('metrics.k8s.io', 'v1beta1', 'pods')?.verbs, ['get', 'list']);
  assert.equal(findResource('apps', 'v1beta1', 'deployments'), undefined);
  assert.equal(findResource('', 'v1', 'deployments'), undefined);
  assert.ok(!findResource('', 'v1', 'namespaces')?.verbs.includes('deletecollection'));
});

test('catalog: findByKind uses apiVersion and kind', () => {
  assert.equal(findByKind('apps/v1', 'Deployment')?.resource, 'deployments');
  assert.equal(findByKind('v1', 'Pod')?.group, '');
  assert.equal(findByKind('metrics.k8s.io/v1beta1', 'NodeMetrics')?.resource, 'nodes');
  assert.equal(findByKind('extensions/v1beta1', 'Deployment'), undefined);
  assert.equal(findByKind('v1', 'Deployment'), undefined);
});

test('catalog: resolveResourceArg accepts what kubectl accepts', () => {
  const cases: [string, string | undefined][] = [
    ['po', 'v1/pods'], ['pod', 'v1/pods'], ['pods', 'v1/pods'], ['Pod', 'v1/pods'], ['PODS', 'v1/pods'],
    ['deploy', 'apps/v1/deployments'], ['deployment', 'apps/v1/deployments'], ['deployments.apps', 'apps/v1/deployments'],
    ['deployment.apps', 'apps/v1/deployments'], ['deployments.v1.apps', 'apps/v1/deployments'],
    ['nodes', 'v1/nodes'], ['no', 'v1/nodes'], ['nodes.metrics.k8s.io', 'metrics.k8s.io/v1beta1/nodes'],
    ['pods.metrics.k8s.io', 'metrics.k8s.io/v1beta1/pods'],
    ['clusterrolebindings.rbac.authorization.k8s.io', 'rbac.authorization.k8s.io/v1/clusterrolebindings'],
    ['svc', 'v1/services'], ['cm', 'v1/configmaps'], ['ns', 'v1/namespaces'], ['sa', 'v1/serviceaccounts'], ['ep', 'v1/endpoints'],
    ['ev', 'v1/events'], ['rs', 'apps/v1/replicasets'], ['ds', 'apps/v1/daemonsets'], ['jobs', 'batch/v1/jobs'],
    ['deployments.batch', undefined], ['deployments.v2.apps', undefined], ['widgets', undefined], ['', undefined],
  ];
  for (const [arg, want] of cases) {
    const r = resolveResourceArg(arg);
    assert.equal(r ? `${r.apiVersion}/${r.resource}` : undefined, want, arg);
  }
});

test('catalog: group versions in discovery order and subresource discovery', () => {
  assert.deepEqual(groupVersions().map((g) => `${g.group}/${g.version}`),
    ['/v1', 'apps/v1', 'batch/v1', 'discovery.k8s.io/v1', 'rbac.authorization.k8s.io/v1', 'metrics.k8s.io/v1beta1']);
  assert.deepEqual(parseApiVersion('apps/v1'), { group: 'apps', version: 'v1' });
  assert.deepEqual(parseApiVersion('v1'), { group: '', version: 'v1' });
  const deploy = findByKind('apps/v1', 'Deployment');
  assert.ok(deploy);
  assert.deepEqual(subresourceInfo(deploy, 'scale'), { group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
  const pods = findByKind('v1', 'Pod');
  assert.ok(pods);
  assert.equal(subresourceInfo(pods, 'binding').kind, 'Binding');
});
