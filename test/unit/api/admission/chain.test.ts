import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AdmissionError, createAdmissionChain, defaultAdmissionPlugins, namespaceLifecycle, serviceAccountDefault } from '../../../../src/api/admission/chain.ts';
import type { AdmissionAttributes, AdmissionPlugin } from '../../../../src/api/admission/chain.ts';
import { findResource } from '../../../../src/api/resources/catalog.ts';
import type { ResourceInfo } from '../../../../src/api/resources/catalog.ts';
import type { KubeObject } from '../../../../src/api/resources/types.ts';

function info(group: string, version: string, plural: string): ResourceInfo {
  const found = findResource(group, version, plural);
  assert.ok(found, `${plural} in the catalog`);
  return found;
}
const pods = info('', 'v1', 'pods');
const namespaces = info('', 'v1', 'namespaces');
const deployments = info('apps', 'v1', 'deployments');
const nodes = info('', 'v1', 'nodes');

const namespaceObjects: Record<string, KubeObject> = {
  default: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' }, status: { phase: 'Active' } },
  leaving: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'leaving', deletionTimestamp: '2026-11-23T07:00:00Z' }, status: { phase: 'Terminating' } },
};

function attrs(partial: Partial<AdmissionAttributes> & Pick<AdmissionAttributes, 'operation' | 'info'>): AdmissionAttributes & { lookups: string[] } {
  const lookups: string[] = [];
  return {
    namespace: '',
    name: '',
    user: { username: 'alice', groups: ['system:authenticated'] },
    dryRun: false,
    lookupNamespace: (name) => {
      lookups.push(name);
      return Promise.resolve(namespaceObjects[name]);
    },
    lookups,
    ...partial,
  };
}

function pod(spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec };
}

async function refusal(plugin: AdmissionPlugin, a: AdmissionAttributes): Promise<AdmissionError> {
  try {
    await plugin.admit(a);
  } catch (err) {
    assert.ok(err instanceof AdmissionError, `AdmissionError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a refusal');
}

describe('admission: NamespaceLifecycle', () => {
  const plugin = namespaceLifecycle();

  test('create in an existing namespace passes', async () => {
    const a = attrs({ operation: 'CREATE', info: pods, namespace: 'default', name: 'web', object: pod({}) });
    await plugin.admit(a);
    assert.deepEqual(a.lookups, ['default']);
  });

  test('create in a missing namespace: 404 namespaces "x" not found, as Kubernetes answers', async () => {
    const err = await refusal(plugin, attrs({ operation: 'CREATE', info: deployments, namespace: 'nope', name: 'web' }));
    assert.equal(err.code, 404);
    assert.deepEqual(err.toStatus(), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'namespaces "nope" not found',
      reason: 'NotFound',
      details: { name: 'nope', kind: 'namespaces' },
      code: 404,
    });
  });

  test('create in a terminating namespace: 403 with the reason', async () => {
    const err = await refusal(plugin, attrs({ operation: 'CREATE', info: deployments, namespace: 'leaving', name: 'web' }));
    assert.equal(err.code, 403);
    assert.equal(err.reason, 'Forbidden');
    assert.equal(err.message, 'deployments.apps "web" is forbidden: unable to create new content in namespace leaving because it is being terminated');
  });

  test('updates and deletes inside a terminating namespace pass (the controllers need them to finish)', async () => {
    await plugin.admit(attrs({ operation: 'UPDATE', info: pods, namespace: 'leaving', name: 'web' }));
    await plugin.admit(attrs({ operation: 'DELETE', info: pods, namespace: 'leaving', name: 'web' }));
  });

  test('the built-in namespaces cannot be deleted; others can', async () => {
    for (const name of ['default', 'kube-system', 'kube-public']) {
      const err = await refusal(plugin, attrs({ operation: 'DELETE', info: namespaces, name }));
      assert.equal(err.code, 403);
      assert.equal(err.message, `namespaces "${name}" is forbidden: this namespace may not be deleted`);
    }
    await plugin.admit(attrs({ operation: 'DELETE', info: namespaces, name: 'class-a' }));
  });

  test('cluster-scoped creates never look a namespace up', async () => {
    const a = attrs({ operation: 'CREATE', info: nodes, name: 'pi-1' });
    await plugin.admit(a);
    const b = attrs({ operation: 'CREATE', info: namespaces, name: 'fresh' });
    await plugin.admit(b);
    assert.deepEqual([...a.lookups, ...b.lookups], []);
  });
});

describe('admission: ServiceAccount default', () => {
  const plugin = serviceAccountDefault();

  test('a pod without one runs as "default" (both fields, as Kubernetes returns them)', async () => {
    const object = pod({ containers: [{ name: 'c', image: 'nginx' }] });
    await plugin.admit(attrs({ operation: 'CREATE', info: pods, namespace: 'default', name: 'web', object }));
    assert.equal((object['spec'] as Record<string, unknown>)['serviceAccountName'], 'default');
    assert.equal((object['spec'] as Record<string, unknown>)['serviceAccount'], 'default');
  });

  test('a chosen one is kept; the deprecated field alone is honoured', async () => {
    const chosen = pod({ serviceAccountName: 'builder' });
    await plugin.admit(attrs({ operation: 'CREATE', info: pods, namespace: 'default', name: 'web', object: chosen }));
    assert.equal((chosen['spec'] as Record<string, unknown>)['serviceAccountName'], 'builder');
    const legacy = pod({ serviceAccount: 'old' });
    await plugin.admit(attrs({ operation: 'CREATE', info: pods, namespace: 'default', name: 'web', object: legacy }));
    assert.equal((legacy['spec'] as Record<string, unknown>)['serviceAccountName'], 'old');
  });

  test('updates, other kinds and subresources are left alone; a pod without spec is left to validation', async () => {
    const updated = pod({});
    await plugin.admit(attrs({ operation: 'UPDATE', info: pods, namespace: 'default', name: 'web', object: updated }));
    assert.deepEqual(updated['spec'], {});
    const binding = pod({});
    await plugin.admit(attrs({ operation: 'CREATE', info: pods, subresource: 'binding', namespace: 'default', name: 'web', object: binding }));
    assert.deepEqual(binding['spec'], {});
    const deployment: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: {} };
    await plugin.admit(attrs({ operation: 'CREATE', info: deployments, namespace: 'default', name: 'd', object: deployment }));
    assert.deepEqual(deployment['spec'], {});
    const noSpec: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } };
    await plugin.admit(attrs({ operation: 'CREATE', info: pods, namespace: 'default', name: 'p', object: noSpec }));
    assert.equal(noSpec['spec'], undefined);
  });
});

describe('admission chain', () => {
  test('runs plugins in order and stops at the first refusal', async () => {
    const seen: string[] = [];
    const recorder = (name: string, fail = false): AdmissionPlugin => ({
      name,
      admit: () => {
        seen.push(name);
        return fail ? Promise.reject(new AdmissionError(403, 'Forbidden', `${name} says no`)) : Promise.resolve();
      },
    });
    const chain = createAdmissionChain([recorder('a'), recorder('b', true), recorder('c')]);
    await assert.rejects(chain.admit(attrs({ operation: 'CREATE', info: pods })), /b says no/);
    assert.deepEqual(seen, ['a', 'b']);
  });

  test('the default chain: namespace checked first, then the pod defaulted', async () => {
    const chain = createAdmissionChain(defaultAdmissionPlugins());
    assert.deepEqual(chain.plugins.map((p) => p.name), ['NamespaceLifecycle', 'ServiceAccount']);
    const object = pod({});
    await assert.rejects(chain.admit(attrs({ operation: 'CREATE', info: pods, namespace: 'nope', name: 'web', object })), /namespaces "nope" not found/);
    assert.equal((object['spec'] as Record<string, unknown>)['serviceAccountName'], undefined, 'nothing mutated after a refusal');
    await chain.admit(attrs({ operation: 'CREATE', info: pods, namespace: 'default', name: 'web', object }));
    assert.equal((object['spec'] as Record<string, unknown>)['serviceAccountName'], 'default');
  });
});
