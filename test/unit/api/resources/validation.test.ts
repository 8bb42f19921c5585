import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findByKind, invalidStatus, validateCreate, validateUpdate, type KubeObject, type ResourceInfo } from '../../../../src/api/resources/index.ts';

function info(apiVersion: string, kind: string): ResourceInfo {
  const r = findByKind(apiVersion, kind);
  assert.ok(r, `${apiVersion} ${kind}`);
  return r;
}

const POD = info('v1', 'Pod');
const DEPLOY = info('apps/v1', 'Deployment');

function pod(spec: Record<string, unknown>, meta: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', ...meta }, spec };
}

/** `field: message` lines, the form the client prints. */
function lines(i: ResourceInfo, o: KubeObject, old?: KubeObject): string[] {
  const errs = old ? validateUpdate(i, o, old) : validateCreate(i, o);
  return errs.map((e) => `${e.field}: ${e.message}`);
}

const C = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ name: 'c', image: 'nginx:1.27', ...extra });

test('validation: a minimal pod is valid', () => {
  assert.deepEqual(lines(POD, pod({ containers: [C()] })), []);
});

test('validation: metadata name, namespace, labels, annotations, owner references', () => {
  assert.deepEqual(lines(POD, pod({ containers: [C()] }, { name: undefined })), ['metadata.name: Required value: name or generateName is required']);
  assert.deepEqual(lines(POD, pod({ containers: [C()] }, { name: undefined, generateName: 'web-' })), []);
  const bad = lines(POD, pod({ containers: [C()] }, { name: 'Web_1' }));
  assert.equal(bad.length, 1);
  assert.match(bad[0] ?? '', /^metadata\.name: Invalid value: "Web_1": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '\.', and must start and end with an alphanumeric character \(e\.g\. 'example\.com', regex used for validation is/);
  assert.deepEqual(lines(POD, pod({ containers: [C()] }, { namespace: undefined })), ['metadata.namespace: Required value']);
  const ns = info('v1', 'Namespace');
  assert.deepEqual(lines(ns, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a', namespace: 'x' } }), ['metadata.namespace: Forbidden: not allowed on this type']);
  assert.match(lines(ns, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a.b' } }).join(), /RFC 1123 label/);
  const lab = lines(POD, pod({ containers: [C()] }, { labels: { 'bad key': 'x', ok: 'bad value' } }));
  assert.equal(lab.length, 2);
  assert.match(lab[0] ?? '', /^metadata\.labels: Invalid value: "bad key": name part must consist of/);
  assert.match(lab[1] ?? '', /^metadata\.labels: Invalid value: "bad value": a valid label must be an empty string/);
  assert.deepEqual(lines(POD, pod({ containers: [C()] }, { annotations: { big: 'x'.repeat(256 * 1024) } })), ['metadata.annotations: Too long: must have at most 262144 bytes']);
  const owners = lines(POD, pod({ containers: [C()] }, { ownerReferences: [
    { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'a', uid: '1', controller: true },
    { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'b', uid: '2', controller: true }, { kind: 'X' }] }));
  assert.ok(owners.includes('metadata.ownerReferences[2].uid: Required value'));
  assert.ok(owners.some((l) => l.includes('Only one reference can have Controller set to true. Found "true" in references for ReplicaSet/a and ReplicaSet/b')));
});

test('validation: pod spec errors with Kubernetes paths and messages', () => {
  assert.deepEqual(lines(POD, pod({ containers: [] })), ['spec.containers: Required value']);
  assert.deepEqual(lines(POD, pod({ containers: [{ name: 'c' }] })), ['spec.containers[0].image: Required value']);
  assert.deepEqual(lines(POD, pod({ containers: [C(), C()] })), ['spec.containers[1].name: Duplicate value: "c"']);
  assert.deepEqual(lines(POD, pod({ initContainers: [C()], containers: [C()] })), ['spec.containers[0].name: Duplicate value: "c"']);
  assert.deepEqual(lines(POD, pod({ containers: [C()], restartPolicy: 'Sometimes' })),
    ['spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"']);
  assert.deepEqual(lines(POD, pod({ containers: [C({ imagePullPolicy: 'Maybe' })] })),
    ['spec.containers[0].imagePullPolicy: Unsupported value: "Maybe": supported values: "Always", "IfNotPresent", "Never"']);
  assert.deepEqual(lines(POD, pod({ containers: [C({ ports: [{ containerPort: 70000 }, { name: 'http', containerPort: 80 }, { name: 'http', containerPort: 81, protocol: 'tcp' }] })] })), [
    'spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
    'spec.containers[0].ports[2].name: Duplicate value: "http"',
    'spec.containers[0].ports[2].protocol: Unsupported value: "tcp": supported values: "SCTP", "TCP", "UDP"',
  ]);
  assert.deepEqual(lines(POD, pod({ containers: [C({ volumeMounts: [{ name: 'data', mountPath: '/data' }] })] })),
    ['spec.containers[0].volumeMounts[0].name: Not found: "data"']);
  assert.deepEqual(lines(POD, pod({ volumes: [{ name: 'v' }, { name: 'w', emptyDir: {}, hostPath: { path: '/x' } }], containers: [C()] })), [
    'spec.volumes[0]: Required value: must specify a volume type',
    'spec.volumes[1].emptyDir: Forbidden: may not specify more than 1 volume type',
  ]);
  assert.deepEqual(lines(POD, pod({ containers: [C({ env: [{ name: '1X', value: 'a' }, { value: 'b' }] })] })).map((l) => l.slice(0, 51)), [
    'spec.containers[0].env[0].name: Invalid value: "1X"',
    'spec.containers[0].env[1].name: Required value',
  ]);
  assert.deepEqual(lines(POD, pod({ containers: [C({ resources: { requests: { cpu: '2' }, limits: { cpu: '1', memory: '12x' } } })] })), [
    "spec.containers[0].resources.limits[memory]: Invalid value: \"12x\": must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
  ]);
  assert.deepEqual(lines(POD, pod({ containers: [C({ livenessProbe: { periodSeconds: 3 } })] })), ['spec.containers[0].livenessProbe: Required value: must specify a handler type']);
});

test('validation: pod update may change images only', () => {
  const old = pod({ containers: [C()], nodeName: 'pi-1' });
  assert.deepEqual(lines(POD, pod({ containers: [C({ image: 'nginx:1.28' })], nodeName: 'pi-1' }), old), []);
  const changed = lines(POD, pod({ containers: [C({ ports: [{ containerPort: 80 }] })], nodeName: 'pi-1' }), old);
  assert.equal(changed.length, 1);
  assert.match(changed[0] ?? '', /^spec: Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`/);
  assert.deepEqual(lines(POD, pod({ containers: [C()], nodeName: 'pi-1' }, { name: 'q' }), old), ['metadata.name: Invalid value: "q": field is immutable']);
  const tol = { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 };
  const tolerating = pod({ containers: [C()], nodeName: 'pi-1', tolerations: [tol] });
  assert.deepEqual(lines(POD, pod({ containers: [C()], nodeName: 'pi-1', tolerations: [{ ...tol, tolerationSeconds: 10 }, { key: 'x', operator: 'Exists' }] }), tolerating), [],
    'tolerationSeconds may change and tolerations may be added');
  assert.deepEqual(lines(POD, pod({ containers: [C()], nodeName: 'pi-1', tolerations: [{ ...tol, effect: 'NoSchedule', tolerationSeconds: undefined }] }), tolerating).at(-1),
    'spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds');
});

function deployment(spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' }, spec };
}
const template = (labels: Record<string, string>, restartPolicy = 'Always'): Record<string, unknown> => ({ metadata: { labels }, spec: { containers: [C()], restartPolicy } });

test('validation: deployment selector, template and strategy', () => {
  assert.deepEqual(lines(DEPLOY, deployment({ selector: { matchLabels: { app: 'web' } }, template: template({ app: 'web' }) })), []);
  assert.deepEqual(lines(DEPLOY, deployment({ template: template({ app: 'web' }) })), ['spec.selector: Required value']);
  assert.deepEqual(lines(DEPLOY, deployment({ selector: { matchLabels: { app: 'web' } }, template: template({ app: 'db' }) })),
    ['spec.template.metadata.labels: Invalid value: {"app":"db"}: `selector` does not match template `labels`']);
  assert.deepEqual(lines(DEPLOY, deployment({ selector: { matchLabels: { app: 'web' } }, template: template({ app: 'web' }, 'Never'), replicas: -1 })), [
    'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
  ]);
  assert.deepEqual(lines(DEPLOY, deployment({ selector: { matchLabels: { app: 'web' } }, template: template({ app: 'web' }),
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: '0%' } } })),
  ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 when `maxSurge` is 0']);
  const old = deployment({ selector: { matchLabels: { app: 'web' } }, template: template({ app: 'web', v: '1' }) });
  assert.deepEqual(lines(DEPLOY, deployment({ selector: { matchLabels: { app: 'web', v: '1' } }, template: template({ app: 'web', v: '1' }) }), old),
    ['spec.selector: Invalid value: {"matchLabels":{"app":"web","v":"1"}}: field is immutable']);
});

test('validation: service ports and type', () => {
  const svc = info('v1', 'Service');
  const s = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec });
  assert.deepEqual(lines(svc, s({ selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] })), []);
  assert.deepEqual(lines(svc, s({ selector: { app: 'web' } })), ['spec.ports: Required value']);
  assert.deepEqual(lines(svc, s({ clusterIP: 'None', selector: { app: 'web' } })), []);
  assert.deepEqual(lines(svc, s({ ports: [{ port: 80 }, { port: 443, name: 'https' }] })), ['spec.ports[0].name: Required value']);
  assert.deepEqual(lines(svc, s({ type: 'Magic', ports: [{ port: 80, nodePort: 30080 }] })), [
    'spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
    "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'Magic'",
  ]);
  assert.deepEqual(lines(svc, s({ type: 'ExternalName' })), ['spec.externalName: Required value']);
  const digitFirst = lines(svc, { apiVersion: 'v1', kind: 'Service', metadata: { name: '1web', namespace: 'default' }, spec: { ports: [{ port: 80 }] } });
  assert.deepEqual(digitFirst, [`metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`]);
});

test('validation: configmap and secret keys, sizes and immutability', () => {
  const cm = info('v1', 'ConfigMap');
  const secret = info('v1', 'Secret');
  const c = (extra: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, ...extra });
  assert.deepEqual(lines(cm, c({ data: { 'game.properties': 'x', 'ui.properties': 'y' } })), []);
  assert.match(lines(cm, c({ data: { 'a/b': 'x' } })).join(), /^data\[a\/b\]: Invalid value: "a\/b": a valid config key must consist of alphanumeric characters/);
  assert.deepEqual(lines(cm, c({ data: { a: 'x' }, binaryData: { a: 'eA==' } })), ['data[a]: Invalid value: "a": duplicate of key present in binaryData']);
  assert.deepEqual(lines(cm, c({ data: { a: 'x'.repeat(1024 * 1024) } })), [': Too long: must have at most 1048576 bytes']);
  assert.deepEqual(lines(cm, c({ immutable: true, data: { a: 'y' } }), c({ immutable: true, data: { a: 'x' } })), ['data: Forbidden: field is immutable when `immutable` is set']);
  const sec = (extra: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, ...extra });
  assert.deepEqual(lines(secret, sec({ data: { password: 'cGFzcw==' } })), []);
  assert.deepEqual(lines(secret, sec({ data: { password: 'not base64!' } })), ['data[password]: Invalid value: "<secret contents redacted>": illegal base64 data']);
  assert.deepEqual(lines(secret, sec({ type: 'kubernetes.io/tls', data: { 'tls.crt': 'eA==' } })), ['data[tls.key]: Required value']);
  assert.deepEqual(lines(secret, sec({ type: 'Opaque' }), sec({ type: 'kubernetes.io/basic-auth', data: { username: 'eA==' } })), ['type: Invalid value: "Opaque": field is immutable']);
});

test('validation: jobs, rbac and events', () => {
  const job = info('batch/v1', 'Job');
  const j: KubeObject = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'pi', namespace: 'default' }, spec: { template: template({}, 'Always'), backoffLimit: -1 } };
  assert.deepEqual(lines(job, j), [
    'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"',
    'spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0',
  ]);
  const role = info('rbac.authorization.k8s.io/v1', 'Role');
  assert.deepEqual(lines(role, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r', namespace: 'a' },
    rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }, { resources: ['pods'] }, { nonResourceURLs: ['/healthz'], verbs: ['get'] }] }), [
    'rules[1].verbs: Required value: verbs must contain at least one value',
    'rules[1].apiGroups: Required value: resource rules must supply at least one api group',
    'rules[2].nonResourceURLs: Invalid value: ["/healthz"]: namespaced rules cannot apply to non-resource URLs',
  ]);
  const crb = info('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding');
  const binding = (roleRef: Record<string, unknown>, subjects: unknown[]): KubeObject => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'system:b' }, roleRef, subjects });
  const ok = binding({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'students' }]);
  assert.deepEqual(lines(crb, ok), []);
  assert.deepEqual(lines(crb, binding({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'x' }, [{ kind: 'ServiceAccount', name: 'default' }])), [
    'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
    'subjects[0].namespace: Required value',
  ]);
  assert.deepEqual(lines(crb, binding({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' }, []), ok).map((l) => l.slice(0, 9)), ['roleRef: ']);
});

test('validation: invalidStatus is the Kubernetes 422 body', () => {
  const errs = validateCreate(POD, pod({ containers: [{ name: 'c' }] }));
  assert.deepEqual(invalidStatus(POD, 'p', errs), {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
    message: 'Pod "p" is invalid: spec.containers[0].image: Required value',
    reason: 'Invalid',
    details: { name: 'p', kind: 'Pod', causes: [{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers[0].image' }] },
    code: 422,
  });
  const two = invalidStatus(DEPLOY, 'web', validateCreate(DEPLOY, deployment({ replicas: -1 })));
  assert.equal(two.message, 'Deployment.apps "web" is invalid: [spec.selector: Required value, spec.template: Required value, spec.replicas: Invalid value: -1: must be greater than or equal to 0]');
  assert.equal(two.details?.group, 'apps');
});
