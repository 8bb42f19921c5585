// The apiVersion and kind of a body are checked as Kubernetes checks them: a ConfigMap or a
// Deployment that names another version is refused with the API server's exact 400, on create
// (JSON and YAML) and on replace, and nothing is stored; empty fields take the endpoint's values.
// The real API server (HTTPS) over a real single-member Raft node.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Answer, startTestApi, type TestApi } from '../../lib/api-server.ts';

let server: TestApi;

before(async () => {
  server = await startTestApi('api-type-meta');
});

after(async () => {
  await server.stop();
});

const configMaps = '/api/v1/namespaces/default/configmaps';
const deployments = '/apis/apps/v1/namespaces/default/deployments';
const SCHEME = 'pkg/api/legacyscheme/scheme.go:30';

function configMap(name: string, typeMeta: Record<string, unknown>): Record<string, unknown> {
  return { ...typeMeta, metadata: { name }, data: { a: '1' } };
}

function deployment(name: string, apiVersion: string): Record<string, unknown> {
  return {
    apiVersion,
    kind: 'Deployment',
    metadata: { name },
    spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
  };
}

function assertBadRequest(answer: Answer, message: string): void {
  assert.equal(answer.status, 400, answer.text);
  assert.deepEqual(answer.body, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'BadRequest', code: 400 });
}

describe('the body names another apiVersion than the endpoint', () => {
  const refusedConfigMaps: [string, unknown, string][] = [
    ['v2', 'v2', `ConfigMap in version "v2" cannot be handled as a ConfigMap: no kind "ConfigMap" is registered for version "v2" in scheme "${SCHEME}"`],
    ['apps-v1', 'apps/v1', `ConfigMap in version "v1" cannot be handled as a ConfigMap: no kind "ConfigMap" is registered for version "apps/v1" in scheme "${SCHEME}"`],
    ['nonsense', 'nonsense/v9', `ConfigMap in version "v9" cannot be handled as a ConfigMap: no kind "ConfigMap" is registered for version "nonsense/v9" in scheme "${SCHEME}"`],
    ['slashes', 'a/b/c', 'the object provided is unrecognized (must be of type ConfigMap): unexpected GroupVersion string: a/b/c ({"apiVersion":"a/b/c","kind":" ...)'],
    ['number', 2, 'the object provided is unrecognized (must be of type ConfigMap): couldn\'t get version/kind; json parse error: json: cannot unmarshal number into Go struct field .apiVersion of type string ({"apiVersion":2,"kind":"Config ...)'],
  ];

  for (const [name, apiVersion, message] of refusedConfigMaps) {
    test(`POST a ConfigMap with apiVersion ${JSON.stringify(apiVersion)}: 400, nothing stored`, async () => {
      assertBadRequest(await server.call('POST', configMaps, configMap(`cm-${name}`, { apiVersion, kind: 'ConfigMap' })), message);
      assert.equal((await server.call('GET', `${configMaps}/cm-${name}`)).status, 404);
    });
  }

  test('POST a ConfigMap with apiVersion v2 as YAML: the same 400', async () => {
    const yaml = 'apiVersion: v2\nkind: ConfigMap\nmetadata:\n  name: cm-yaml\ndata:\n  a: "1"\n';
    assertBadRequest(await server.call('POST', configMaps, yaml, { headers: { 'content-type': 'application/yaml' } }), `ConfigMap in version "v2" cannot be handled as a ConfigMap: no kind "ConfigMap" is registered for version "v2" in scheme "${SCHEME}"`);
    assert.equal((await server.call('GET', `${configMaps}/cm-yaml`)).status, 404);
  });

  test('POST a Deployment with apiVersion v2 to apps/v1: 400; with extensions/v1beta1 (a version Kubernetes still knows): the version mismatch', async () => {
    assertBadRequest(await server.call('POST', deployments, deployment('d-v2', 'v2')), `Deployment in version "v2" cannot be handled as a Deployment: no kind "Deployment" is registered for version "v2" in scheme "${SCHEME}"`);
    assertBadRequest(await server.call('POST', deployments, deployment('d-ext', 'extensions/v1beta1')), 'the API version in the data (extensions/v1beta1) does not match the expected API version (apps/v1)');
    assert.equal((await server.call('GET', `${deployments}/d-v2`)).status, 404);
    assert.equal((await server.call('GET', `${deployments}/d-ext`)).status, 404);
  });

  test('PUT with another apiVersion: the same 400 and the stored object is unchanged', async () => {
    const created = await server.call('POST', configMaps, configMap('cm-put', { apiVersion: 'v1', kind: 'ConfigMap' }));
    assert.equal(created.status, 201, created.text);
    const replaced = { ...created.body, apiVersion: 'nonsense/v9', data: { a: '2' } };
    assertBadRequest(await server.call('PUT', `${configMaps}/cm-put`, replaced), `ConfigMap in version "v9" cannot be handled as a ConfigMap: no kind "ConfigMap" is registered for version "nonsense/v9" in scheme "${SCHEME}"`);
    const dep = await server.call('POST', deployments, deployment('d-put', 'apps/v1'));
    assert.equal(dep.status, 201, dep.text);
    assertBadRequest(await server.call('PUT', `${deployments}/d-put`, { ...dep.body, apiVersion: 'v2' }), `Deployment in version "v2" cannot be handled as a Deployment: no kind "Deployment" is registered for version "v2" in scheme "${SCHEME}"`);
    const stored = await server.call('GET', `${configMaps}/cm-put`);
    assert.deepEqual(stored.body['data'], { a: '1' });
    assert.equal(stored.body.metadata && (stored.body.metadata as { resourceVersion?: string }).resourceVersion, (created.body.metadata as { resourceVersion?: string }).resourceVersion);
  });

  test('an empty or missing apiVersion and kind take the endpoint\'s (201, stored as v1 ConfigMap); a PUT without them too', async () => {
    for (const [name, typeMeta] of [['cm-empty', { apiVersion: '', kind: '' }], ['cm-missing', {}], ['cm-null', { apiVersion: null, kind: null }]] as const) {
      const answer = await server.call('POST', configMaps, configMap(name, typeMeta));
      assert.equal(answer.status, 201, answer.text);
      assert.equal(answer.body.apiVersion, 'v1');
      assert.equal(answer.body.kind, 'ConfigMap');
    }
    const current = await server.call('GET', `${configMaps}/cm-missing`);
    const { apiVersion: _a, kind: _k, ...bare } = current.body;
    const replaced = await server.call('PUT', `${configMaps}/cm-missing`, { ...bare, data: { a: '3' } });
    assert.equal(replaced.status, 200, replaced.text);
    assert.equal(replaced.body.apiVersion, 'v1');
    assert.deepEqual(replaced.body['data'], { a: '3' });
  });
});
