// checkTypeMeta's defaulting and refusals, input by input, against the Kubernetes decoder's rules
// (gvkWithDefaults, ParseGroupVersion, the scheme's registrations, AcceptsGroupVersion).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../../../src/api/registry.ts';
import { findResource, type KubeObject, type ResourceInfo } from '../../../src/api/resources/index.ts';
import { checkTypeMeta } from '../../../src/api/type-meta.ts';

function info(group: string, version: string, resource: string): ResourceInfo {
  const found = findResource(group, version, resource);
  assert.ok(found, `${group}/${version} ${resource} in the catalog`);
  return found;
}

const configMaps = info('', 'v1', 'configmaps');
const deployments = info('apps', 'v1', 'deployments');
const roles = info('rbac.authorization.k8s.io', 'v1', 'roles');

function body(typeMeta: Record<string, unknown>): KubeObject {
  return { ...typeMeta, metadata: { name: 'x' } } as KubeObject;
}

function refusal(obj: KubeObject, endpoint: ResourceInfo): string {
  try {
    checkTypeMeta(obj, endpoint);
  } catch (error) {
    assert.ok(error instanceof ApiError);
    assert.equal(error.status.code, 400);
    assert.equal(error.status.reason, 'BadRequest');
    return error.status.message ?? '';
  }
  assert.fail(`accepted ${JSON.stringify(obj)}`);
}

test('empty, "/" and missing fields take the endpoint\'s; "apps/" takes the version in the apps group', () => {
  for (const [typeMeta, endpoint] of [[{}, configMaps], [{ apiVersion: '/', kind: '' }, configMaps], [{ apiVersion: 'apps/' }, deployments], [{ apiVersion: 'apps/v1', kind: 'Deployment' }, deployments]] as const) {
    const obj = body(typeMeta);
    checkTypeMeta(obj, endpoint);
    assert.equal(obj.apiVersion, endpoint.apiVersion);
    assert.equal(obj.kind, endpoint.kind);
  }
});

test('a version of another group with no version: Kubernetes\' missing-apiVersion error', () => {
  assert.equal(refusal(body({ apiVersion: 'batch/', kind: 'Deployment' }), deployments), `Deployment in version "" cannot be handled as a Deployment: Object 'apiVersion' is missing in '{"apiVersion":"batch/","kind":"Deployment","metadata":{"name":"x"}}'`);
});

test('an older version Kubernetes still registers: the version mismatch; an unknown one: not registered', () => {
  assert.equal(refusal(body({ apiVersion: 'rbac.authorization.k8s.io/v1beta1', kind: 'Role' }), roles), 'the API version in the data (rbac.authorization.k8s.io/v1beta1) does not match the expected API version (rbac.authorization.k8s.io/v1)');
  assert.equal(refusal(body({ apiVersion: 'apps/v1beta2', kind: 'Deployment' }), deployments), 'the API version in the data (apps/v1beta2) does not match the expected API version (apps/v1)');
  assert.equal(refusal(body({ apiVersion: 'apps/v1', kind: 'deployment' }), deployments), 'deployment in version "v1" cannot be handled as a Deployment: no kind "deployment" is registered for version "apps/v1" in scheme "pkg/api/legacyscheme/scheme.go:30"');
});

test('another kind this version serves keeps the kind message; a kind given as a number is unrecognized', () => {
  assert.equal(refusal(body({ apiVersion: 'v1', kind: 'Secret' }), configMaps), 'the kind "Secret" of the body does not match the resource configmaps (kind ConfigMap)');
  assert.equal(refusal(body({ apiVersion: 'v1', kind: { a: 1 } }), configMaps), 'the object provided is unrecognized (must be of type ConfigMap): couldn\'t get version/kind; json parse error: json: cannot unmarshal object into Go struct field .kind of type string ({"apiVersion":"v1","kind":{"a" ...)');
});
