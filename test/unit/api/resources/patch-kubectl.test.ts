// Our patches against the real implementation: kubectl 1.32 applies strategic merge, merge and JSON
// patches locally (`kubectl patch --local`) with Kubernetes' own code and our kinds' schemas, so
// every case here is answered by Kubernetes itself, not by expectations written by hand.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  applyJsonPatch, applyMergePatch, applyStrategicMergePatch, findByKind, type KubeObject, type ResourceInfo,
} from '../../../../src/api/resources/index.ts';
import { OfflineKubectl, skipWithoutKubectl } from './fixtures/kubectl.ts';

const kubectl = new OfflineKubectl();
after(() => kubectl.close());

function kubectlPatch(doc: KubeObject, type: 'strategic' | 'merge' | 'json', patch: unknown): unknown {
  const file = kubectl.file('object.json', doc);
  return JSON.parse(kubectl.output(['patch', '--local', '-f', file, '--type', type, '-p', JSON.stringify(patch), '-o', 'json'])) as unknown;
}

const deployment: KubeObject = {
  apiVersion: 'apps/v1', kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', labels: { app: 'web', tier: 'fe' }, finalizers: ['a.io/x', 'b.io/y'] },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: 'web' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        nodeSelector: { disk: 'ssd', arch: 'arm64' },
        tolerations: [{ key: 'pi', operator: 'Exists' }],
        volumes: [{ name: 'cache', emptyDir: {} }, { name: 'conf', configMap: { name: 'c1' } }],
        containers: [
          { name: 'a', image: 'x:1', ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 443, protocol: 'TCP' }],
            env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], volumeMounts: [{ name: 'cache', mountPath: '/cache' }, { name: 'conf', mountPath: '/etc/c' }],
            command: ['sh', '-c', 'run'] },
          { name: 'b', image: 'y:1' },
        ],
      },
    },
  },
};

const service: KubeObject = {
  apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'default' },
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }] },
};

const tpl = (spec: Record<string, unknown>): Record<string, unknown> => ({ spec: { template: { spec } } });

const STRATEGIC: [string, KubeObject, Record<string, unknown>][] = [
  ['second kubectl apply: image and replicas', deployment, {
    metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' } },
    spec: { replicas: 2, template: { spec: { '$setElementOrder/containers': [{ name: 'a' }, { name: 'b' }], containers: [{ name: 'a', image: 'x:2' }] } } } }],
  ['a new container ordered before a server-only one', deployment, tpl({ '$setElementOrder/containers': [{ name: 'c' }, { name: 'b' }], containers: [{ name: 'c', image: 'z' }] })],
  ['order reversed', deployment, tpl({ '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }] })],
  ['delete a container and an env var', deployment, tpl({ '$setElementOrder/containers': [{ name: 'a' }],
    containers: [{ $patch: 'delete', name: 'b' }, { name: 'a', '$setElementOrder/env': [{ name: 'A' }], env: [{ $patch: 'delete', name: 'B' }] }] })],
  ['ports by containerPort, mounts by mountPath, command atomic', deployment, tpl({ containers: [{ name: 'a',
    ports: [{ containerPort: 443, name: 'https' }, { containerPort: 8080 }], volumeMounts: [{ mountPath: '/cache', readOnly: true }], command: ['run'] }] })],
  ['strategy switched with $retainKeys', deployment, { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: null } } }],
  ['volume source switched with $retainKeys', deployment, tpl({ volumes: [{ name: 'cache', $retainKeys: ['name', 'hostPath'], hostPath: { path: '/tmp' } }] })],
  ['labels: null deletes, map replaced by $patch', deployment, { metadata: { labels: { tier: null, env: 'prod' } },
    spec: { template: { spec: { nodeSelector: { $patch: 'replace', arch: 'amd64' } } } } }],
  ['tolerations replaced (atomic)', deployment, tpl({ tolerations: [{ key: 'gpu', operator: 'Exists' }] })],
  ['finalizers: delete one, add one', deployment, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a.io/x'], finalizers: ['c.io/z'] } }],
  ['finalizers: new values first, originals kept in order', deployment, { metadata: { finalizers: ['c.io/z', 'b.io/y', '0.io/0'] } }],
  ['finalizers: $setElementOrder weaves server-only values', deployment, { metadata: { '$setElementOrder/finalizers': ['b.io/y', 'c.io/z'], finalizers: ['c.io/z'] } }],
  ['containers list replaced by $patch', deployment, tpl({ containers: [{ $patch: 'replace' }, { name: 'only', image: 'o:1' }] })],
  ['without $setElementOrder the patch orders the list', deployment, tpl({ containers: [{ name: 'c', image: 'z' }, { name: 'b', image: 'y2' },
    { name: 'a', ports: [{ containerPort: 8080 }, { containerPort: 443, name: 'h' }] }] })],
  ['service ports by port', service, { spec: { ports: [{ port: 80, targetPort: 9090 }, { port: 443, name: 'https', targetPort: 8443 }] } }],
  ['service port deleted', service, { spec: { '$setElementOrder/ports': [{ port: 80 }], ports: [{ $patch: 'delete', port: 53 }] } }],
];

const skip = skipWithoutKubectl;

test('strategic merge patch agrees with kubectl patch --local', { skip }, () => {
  for (const [name, doc, patch] of STRATEGIC) {
    const info = findByKind(doc.apiVersion, doc.kind) as ResourceInfo;
    assert.deepStrictEqual(applyStrategicMergePatch(info, doc, patch), kubectlPatch(doc, 'strategic', patch), name);
  }
});

test('merge patch and JSON patch agree with kubectl patch --local', { skip }, () => {
  const merges: Record<string, unknown>[] = [
    { metadata: { labels: { tier: null, env: 'prod' } } },
    { spec: { template: { spec: { containers: [{ name: 'only', image: 'o:1' }] } } } },
    { spec: { strategy: { rollingUpdate: { maxSurge: 1 } } } },
  ];
  for (const p of merges) assert.deepStrictEqual(applyMergePatch(deployment, p), kubectlPatch(deployment, 'merge', p), JSON.stringify(p));
  const jsons: unknown[][] = [
    [{ op: 'replace', path: '/spec/replicas', value: 5 }, { op: 'add', path: '/metadata/labels/app.kubernetes.io~1name', value: 'web' }],
    [{ op: 'remove', path: '/spec/template/spec/containers/1' }, { op: 'add', path: '/spec/template/spec/containers/0/env/-', value: { name: 'C', value: '3' } }],
    [{ op: 'copy', from: '/spec/template/spec/containers/0/image', path: '/metadata/labels/img' }, { op: 'move', from: '/metadata/labels/tier', path: '/metadata/labels/layer' }],
    [{ op: 'test', path: '/spec/replicas', value: 3 }, { op: 'replace', path: '/spec/replicas', value: 4 }],
  ];
  for (const p of jsons) assert.deepStrictEqual(applyJsonPatch(deployment, p), kubectlPatch(deployment, 'json', p), JSON.stringify(p));
});
