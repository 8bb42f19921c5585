// apply's patches, applied with the server's own strategic merge patch (src/api/resources/patch.ts)
// to check the result an object ends with after two applies.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { findResource } from '../../../../src/api/resources/catalog.ts';
import { applyStrategicMergePatch } from '../../../../src/api/resources/patch.ts';
import type { KubeObject } from '../../../../src/api/resources/types.ts';
import { applyPatch, LAST_APPLIED, withLastApplied } from '../../../../src/cli/kube/apply-patch.ts';

function manifest(replicas: number, extra: Record<string, string> | undefined, image: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web', ...(extra ?? {}) } },
    spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image }] } } },
  };
}

const deployments = findResource('apps', 'v1', 'deployments');
if (deployments === undefined) throw new Error('deployments missing from the catalog');
const applyMergePatch = <T>(doc: T, patch: unknown): T => applyStrategicMergePatch(deployments, doc, patch);

describe('apply: the last-applied three-way patch', () => {
  test('second apply changes a field, removes what the manifest dropped, keeps what others set', () => {
    const first = manifest(2, { tier: 'front' }, 'nginx:1.26');
    // What the server holds after the first apply (create), then a controller and `scale` wrote to it.
    const live = structuredClone(withLastApplied(first)) as KubeObject & { spec: Record<string, unknown>; status?: unknown };
    live.metadata.uid = 'u-1';
    live.metadata.resourceVersion = '10';
    live.spec['progressDeadlineSeconds'] = 600; // server default, never in the manifest
    live.status = { replicas: 2 };

    const second = manifest(3, undefined, 'nginx:1.27'); // label tier removed, replicas and image changed
    const result = applyMergePatch(live, applyPatch(live, second)) as typeof live;
    assert.deepEqual(result.metadata.labels, { app: 'web' }, 'tier removed');
    assert.equal(result.spec['replicas'], 3);
    assert.equal(result.spec['progressDeadlineSeconds'], 600, 'a field the manifest never had stays');
    assert.deepEqual(result.status, { replicas: 2 });
    assert.equal((result.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]?.image, 'nginx:1.27');
    assert.deepEqual(JSON.parse(result.metadata.annotations?.[LAST_APPLIED] ?? ''), second, 'the new manifest is recorded');
  });

  test('server defaults inside containers survive (merged by name), so a re-apply changes nothing', () => {
    const m = manifest(2, undefined, 'nginx:1.26');
    const live = structuredClone(withLastApplied(m)) as KubeObject & { spec: { template: { spec: { containers: Record<string, unknown>[] } } } };
    const container = live.spec.template.spec.containers[0];
    if (container !== undefined) container['imagePullPolicy'] = 'IfNotPresent';
    assert.deepEqual(applyMergePatch(live, applyPatch(live, m)), live);
  });

  test('applying the same manifest again is a patch that changes nothing', () => {
    const m = manifest(2, undefined, 'nginx:1.26');
    const live = withLastApplied(m);
    assert.deepEqual(applyMergePatch(live, applyPatch(live, m)), live);
  });

  test('an object created without apply: nothing is removed, the manifest is recorded', () => {
    const live: KubeObject = { ...manifest(1, { owner: 'someone' }, 'nginx:1.25') };
    const result = applyMergePatch(live, applyPatch(live, manifest(2, undefined, 'nginx:1.25')));
    assert.deepEqual(result.metadata.labels, { app: 'web', owner: 'someone' });
    assert.ok(result.metadata.annotations?.[LAST_APPLIED] !== undefined);
  });

  test('the recorded manifest never contains the annotation itself', () => {
    const m = manifest(1, undefined, 'x');
    m.metadata.annotations = { note: 'keep', [LAST_APPLIED]: '{"old":true}' };
    const recorded = JSON.parse(withLastApplied(m).metadata.annotations?.[LAST_APPLIED] ?? '') as KubeObject;
    assert.deepEqual(recorded.metadata.annotations, { note: 'keep' });
  });
});
