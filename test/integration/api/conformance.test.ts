// Per-kind HTTP conformance against one real `bramble up`, table-driven: for every kind the API
// serves, Kubernetes' defaulting, one validation error with Kubernetes' message, 409 AlreadyExists
// and Conflict, label and field selectors, watch resume from a resourceVersion and 410 after
// compaction, JSON / merge / strategic merge patch, and kubectl's Table columns. Plus bookmarks.
// Expected values are written from Kubernetes' behaviour, not read from our code.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { StoreClient } from '../../../src/store/client.ts';
import { clientTls } from '../../lib/bramble-cluster.ts';
import { ProcessGroup, type ManagedProcess, STARTUP_TIMEOUT_MS } from '../../lib/processes.ts';

type Json = Record<string, unknown>;

interface KindCase {
  kind: string;
  /** Collection path; namespaced kinds live in the test namespace. */
  path: string;
  /** A valid object with the given name and labels. */
  make: (name: string, labels: Record<string, string>) => Json;
  /** Fields the server must have defaulted: path (dots, [n]) -> value. */
  defaults: Record<string, unknown>;
  /** An invalid variant and the message Kubernetes gives for it. */
  invalid: (name: string) => Json;
  message: RegExp;
  columns: string[];
}

const NS = 'conformance';
const meta = (name: string, labels: Record<string, string>) => ({ name, labels });
const podSpec = (restartPolicy = 'Always') => ({ schedulerName: 'conformance-nobody', restartPolicy, containers: [{ name: 'app', image: 'busybox:1.36', command: ['sleep', '1000'] }] });
const template = (labels: Record<string, string>, restartPolicy = 'Always') => ({ metadata: { labels }, spec: podSpec(restartPolicy) });
const WORKLOAD_COLUMNS = ['Containers', 'Images', 'Selector'];

const KINDS: KindCase[] = [
  {
    kind: 'Namespace', path: '/api/v1/namespaces',
    make: (name, labels) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: meta(name, labels) }),
    defaults: { 'status.phase': 'Active', 'spec.finalizers[0]': 'kubernetes' },
    invalid: () => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'Bad_NS' } }),
    message: /Namespace "Bad_NS" is invalid: metadata.name: Invalid value: "Bad_NS": a lowercase RFC 1123 label must consist of/,
    columns: ['Name', 'Status', 'Age'],
  },
  {
    kind: 'ConfigMap', path: `/api/v1/namespaces/${NS}/configmaps`,
    make: (name, labels) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(name, labels), data: { a: '1' } }),
    defaults: { 'metadata.namespace': NS },
    invalid: (name) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { 'bad key': 'x' } }),
    message: /data\[bad key\]: Invalid value: "bad key": a valid config key must consist of alphanumeric characters, '-', '_' or '\.'/,
    columns: ['Name', 'Data', 'Age'],
  },
  {
    kind: 'Secret', path: `/api/v1/namespaces/${NS}/secrets`,
    make: (name, labels) => ({ apiVersion: 'v1', kind: 'Secret', metadata: meta(name, labels), stringData: { password: 'pw' } }),
    defaults: { type: 'Opaque', 'data.password': Buffer.from('pw').toString('base64') },
    invalid: (name) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, type: 'kubernetes.io/tls', data: {} }),
    message: /data\[tls\.crt\]: Required value/,
    columns: ['Name', 'Type', 'Data', 'Age'],
  },
  {
    kind: 'ServiceAccount', path: `/api/v1/namespaces/${NS}/serviceaccounts`,
    make: (name, labels) => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(name, labels) }),
    defaults: { 'metadata.namespace': NS },
    invalid: () => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'bad.name!' } }),
    message: /metadata.name: Invalid value: "bad.name!"/,
    columns: ['Name', 'Secrets', 'Age'],
  },
  {
    kind: 'Service', path: `/api/v1/namespaces/${NS}/services`,
    make: (name, labels) => ({ apiVersion: 'v1', kind: 'Service', metadata: meta(name, labels), spec: { selector: { app: name }, ports: [{ port: 80 }] } }),
    defaults: { 'spec.type': 'ClusterIP', 'spec.sessionAffinity': 'None', 'spec.ports[0].protocol': 'TCP', 'spec.ports[0].targetPort': 80 },
    invalid: (name) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 70000 }] } }),
    message: /spec.ports\[0\].port: Invalid value: 70000: must be between 1 and 65535, inclusive/,
    columns: ['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', 'Selector'],
  },
  {
    kind: 'Endpoints', path: `/api/v1/namespaces/${NS}/endpoints`,
    make: (name, labels) => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: meta(name, labels), subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] }] }),
    defaults: { 'subsets[0].ports[0].protocol': 'TCP' },
    invalid: (name) => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name }, subsets: [{ addresses: [{ ip: 'not-an-ip' }], ports: [{ port: 80 }] }] }),
    message: /subsets\[0\].addresses\[0\].ip: Invalid value: "not-an-ip": must be a valid IP address/,
    columns: ['Name', 'Endpoints', 'Age'],
  },
  {
    kind: 'EndpointSlice', path: `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices`,
    make: (name, labels) => ({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: meta(name, labels), addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true } }], ports: [{ name: 'http', port: 80 }] }),
    defaults: { 'ports[0].protocol': 'TCP' },
    invalid: (name) => ({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name }, addressType: 'IPv4', endpoints: [{ addresses: ['not-an-ip'] }] }),
    message: /endpoints\[0\].addresses\[0\]: Invalid value: "not-an-ip": must be a valid IP address/,
    columns: ['Name', 'AddressType', 'Ports', 'Endpoints', 'Age'],
  },
  {
    kind: 'Pod', path: `/api/v1/namespaces/${NS}/pods`,
    make: (name, labels) => ({ apiVersion: 'v1', kind: 'Pod', metadata: meta(name, labels), spec: podSpec() }),
    defaults: { 'spec.dnsPolicy': 'ClusterFirst', 'spec.terminationGracePeriodSeconds': 30, 'spec.containers[0].imagePullPolicy': 'IfNotPresent', 'spec.containers[0].terminationMessagePath': '/dev/termination-log', 'status.phase': 'Pending' },
    invalid: (name) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'app' }] } }),
    message: /spec.containers\[0\].image: Required value/,
    columns: ['Name', 'Ready', 'Status', 'Restarts', 'Age', 'IP', 'Node', 'Nominated Node', 'Readiness Gates'],
  },
  {
    kind: 'Deployment', path: `/apis/apps/v1/namespaces/${NS}/deployments`,
    make: (name, labels) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta(name, labels), spec: { replicas: 0, selector: { matchLabels: { app: name } }, template: template({ app: name }) } }),
    defaults: { 'spec.strategy.type': 'RollingUpdate', 'spec.strategy.rollingUpdate.maxSurge': '25%', 'spec.revisionHistoryLimit': 10, 'spec.progressDeadlineSeconds': 600 },
    invalid: (name) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name }, spec: { selector: { matchLabels: { app: 'a' } }, template: template({ app: 'b' }) } }),
    message: /spec.template.metadata.labels: Invalid value: .*`selector` does not match template `labels`/,
    columns: ['Name', 'Ready', 'Up-to-date', 'Available', 'Age', ...WORKLOAD_COLUMNS],
  },
  {
    kind: 'ReplicaSet', path: `/apis/apps/v1/namespaces/${NS}/replicasets`,
    make: (name, labels) => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: meta(name, labels), spec: { replicas: 0, selector: { matchLabels: { app: name } }, template: template({ app: name }) } }),
    defaults: { 'spec.template.spec.restartPolicy': 'Always', 'spec.template.spec.dnsPolicy': 'ClusterFirst' },
    invalid: (name) => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name }, spec: { replicas: -1, selector: { matchLabels: { app: 'a' } }, template: template({ app: 'a' }) } }),
    message: /spec.replicas: Invalid value: -1: must be greater than or equal to 0/,
    columns: ['Name', 'Desired', 'Current', 'Ready', 'Age', ...WORKLOAD_COLUMNS],
  },
  {
    kind: 'DaemonSet', path: `/apis/apps/v1/namespaces/${NS}/daemonsets`,
    make: (name, labels) => ({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: meta(name, labels), spec: { selector: { matchLabels: { app: name } }, template: { ...template({ app: name }), spec: { ...podSpec(), nodeSelector: { 'conformance/none': 'true' } } } } }),
    defaults: { 'spec.updateStrategy.type': 'RollingUpdate', 'spec.revisionHistoryLimit': 10 },
    invalid: (name) => ({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name }, spec: { selector: { matchLabels: { app: 'a' } }, template: template({ app: 'a' }, 'Never') } }),
    message: /spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"/,
    columns: ['Name', 'Desired', 'Current', 'Ready', 'Up-to-date', 'Available', 'Node Selector', 'Age', ...WORKLOAD_COLUMNS],
  },
  {
    kind: 'Job', path: `/apis/batch/v1/namespaces/${NS}/jobs`,
    make: (name, labels) => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: meta(name, labels), spec: { suspend: true, template: { spec: podSpec('Never') } } }),
    defaults: { 'spec.completions': 1, 'spec.parallelism': 1, 'spec.backoffLimit': 6, 'spec.completionMode': 'NonIndexed' },
    invalid: (name) => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name }, spec: { template: { spec: podSpec('Always') } } }),
    message: /spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"|spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"/,
    columns: ['Name', 'Status', 'Completions', 'Duration', 'Age', ...WORKLOAD_COLUMNS],
  },
  {
    kind: 'Role', path: `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/roles`,
    make: (name, labels) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: meta(name, labels), rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] }),
    defaults: { 'metadata.namespace': NS },
    invalid: (name) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: [] }] }),
    message: /rules\[0\].verbs: Required value: verbs must contain at least one value/,
    columns: ['Name', 'Created At'],
  },
  {
    kind: 'RoleBinding', path: `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings`,
    make: (name, labels) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: meta(name, labels), roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'User', name: 'nobody', apiGroup: 'rbac.authorization.k8s.io' }] }),
    defaults: { 'subjects[0].apiGroup': 'rbac.authorization.k8s.io' },
    invalid: (name) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Pod', name: 'view' } }),
    message: /roleRef.kind: Unsupported value: "Pod": supported values: "Role", "ClusterRole"/,
    columns: ['Name', 'Role', 'Age', 'Users', 'Groups', 'ServiceAccounts'],
  },
  {
    kind: 'ClusterRole', path: '/apis/rbac.authorization.k8s.io/v1/clusterroles',
    make: (name, labels) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: meta(name, labels), rules: [{ nonResourceURLs: ['/healthz'], verbs: ['get'] }] }),
    defaults: { 'rules[0].verbs[0]': 'get' },
    invalid: (name) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name }, rules: [{ resources: ['pods'], verbs: ['get'] }] }),
    message: /rules\[0\].apiGroups: Required value: resource rules must supply at least one api group/,
    columns: ['Name', 'Created At'],
  },
  {
    kind: 'ClusterRoleBinding', path: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
    make: (name, labels) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: meta(name, labels), roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'Group', name: 'conformance-nobody', apiGroup: 'rbac.authorization.k8s.io' }] }),
    defaults: { 'roleRef.apiGroup': 'rbac.authorization.k8s.io' },
    invalid: (name) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'x' } }),
    message: /roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"/,
    columns: ['Name', 'Role', 'Age', 'Users', 'Groups', 'ServiceAccounts'],
  },
  {
    kind: 'Event', path: `/api/v1/namespaces/${NS}/events`,
    make: (name, labels) => ({ apiVersion: 'v1', kind: 'Event', metadata: meta(name, labels), involvedObject: { kind: 'Pod', name: 'x', namespace: NS }, reason: 'Test', message: 'hello', type: 'Normal' }),
    defaults: { 'involvedObject.kind': 'Pod' },
    invalid: (name) => ({ apiVersion: 'v1', kind: 'Event', metadata: { name }, involvedObject: { kind: 'Pod', name: 'x', namespace: 'elsewhere' }, reason: 'Test', type: 'Normal' }),
    message: /involvedObject.namespace: Invalid value: "elsewhere": does not match event.namespace/,
    columns: ['Last Seen', 'Type', 'Reason', 'Object', 'Subobject', 'Source', 'Message', 'First Seen', 'Count', 'Name'],
  },
];

function at(obj: unknown, path: string): unknown {
  let v: unknown = obj;
  for (const part of path.split(/\.|(?=\[)/)) {
    if (v === null || typeof v !== 'object') return undefined;
    const index = /^\[(\d+)\]$/.exec(part);
    v = index ? (v as unknown[])[Number(index[1])] : (v as Json)[part];
  }
  return v;
}

describe('per-kind HTTP conformance against one bramble up', { timeout: 180_000 }, () => {
  const group = new ProcessGroup();
  let node: ManagedProcess;
  let ca: Buffer;
  let token = '';
  let port = 0;

  function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ code: number; json: Json; text: string }> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request({ host: '127.0.0.1', port, method, path, ca, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let json: Json = {};
          try {
            json = JSON.parse(text) as Json;
          } catch {
            // watch streams are newline-delimited; callers read `text`
          }
          resolve({ code: res.statusCode ?? 0, json, text });
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** A watch that ends by itself (timeoutSeconds): its events, in order. */
  async function watchEvents(path: string): Promise<{ type: string; object: Json }[]> {
    const r = await call('GET', path);
    assert.equal(r.code, 200, r.text);
    return r.text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { type: string; object: Json });
  }

  before(async () => {
    node = await group.spawn('conf1', {
      portNames: ['peer', 'client', 'api'],
      args: ({ ports, dataDir, name }) => ['up', '--name', name, '--data-dir', dataDir, '--peer-addr', `127.0.0.1:${ports['peer']}`, '--client-addr', `127.0.0.1:${ports['client']}`, '--api-addr', `127.0.0.1:${ports['api']}`, '--runtime', 'none', '--log-level', 'warn'],
    });
    await node.waitForLog(/Kubernetes API: https:/, STARTUP_TIMEOUT_MS);
    port = node.ports['api'] ?? 0;
    ca = readFileSync(join(node.dataDir, 'pki', 'ca.crt'));
    token = readFileSync(join(node.dataDir, 'auth', 'admin-token'), 'utf8').trim();
    assert.equal((await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } })).code, 201);
  });
  after(() => group.cleanup());

  const createdRv = new Map<string, string>();
  const nameOf = (c: KindCase, suffix: string) => `conf-${c.kind.toLowerCase()}-${suffix}`;

  for (const c of KINDS) {
    describe(c.kind, () => {
      test('create: 201 with Kubernetes defaulting and system metadata', async () => {
        const r = await call('POST', c.path, c.make(nameOf(c, 'a'), { tier: 'front' }));
        assert.equal(r.code, 201, r.text);
        const m = r.json['metadata'] as Json;
        assert.match(String(m['uid']), /^[0-9a-f-]{36}$/);
        assert.match(String(m['creationTimestamp']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        assert.match(String(m['resourceVersion']), /^\d+$/);
        for (const [path, value] of Object.entries(c.defaults)) assert.deepEqual(at(r.json, path), value, `${c.kind} ${path}`);
        createdRv.set(c.kind, String(m['resourceVersion']));
        assert.equal((await call('POST', c.path, c.make(nameOf(c, 'b'), { tier: 'back' }))).code, 201);
      });

      test("invalid: 422 with Kubernetes' message", async () => {
        const r = await call('POST', c.path, c.invalid(nameOf(c, 'bad')));
        assert.equal(r.code, 422, r.text);
        assert.equal(r.json['reason'], 'Invalid');
        assert.match(String(r.json['message']), c.message);
      });

      test('409: AlreadyExists on a second create, Conflict on a stale resourceVersion', async () => {
        const again = await call('POST', c.path, c.make(nameOf(c, 'a'), {}));
        assert.equal(again.code, 409);
        assert.equal(again.json['reason'], 'AlreadyExists');
        // Read-modify-write as clients do it, retried if a controller wrote in between.
        let fresh: Json = {};
        let put = { code: 0, text: '' };
        for (let attempt = 0; attempt < 5 && put.code !== 200; attempt++) {
          const current = (await call('GET', `${c.path}/${nameOf(c, 'b')}`)).json;
          fresh = { ...current, metadata: { ...(current['metadata'] as Json), labels: { tier: 'back', v: '2' } } };
          put = await call('PUT', `${c.path}/${nameOf(c, 'b')}`, fresh);
        }
        assert.equal(put.code, 200, put.text);
        const stale = await call('PUT', `${c.path}/${nameOf(c, 'b')}`, { ...fresh, metadata: { ...(fresh.metadata as Json), labels: { v: '3' } } });
        assert.equal(stale.code, 409);
        assert.equal(stale.json['reason'], 'Conflict');
        assert.match(String(stale.json['message']), /Operation cannot be fulfilled on .*: the object has been modified; please apply your changes to the latest version and try again/);
      });

      test('label and field selectors', async () => {
        // Only this kind's own objects: the Endpoints controller makes Endpoints for the Services (with their labels).
        const names = (r: { json: Json }) => ((r.json['items'] ?? []) as { metadata: { name: string } }[]).map((o) => o.metadata.name).filter((n) => n.startsWith(nameOf(c, '')));
        assert.deepEqual(names(await call('GET', `${c.path}?labelSelector=tier%3Dfront`)), [nameOf(c, 'a')]);
        assert.deepEqual(names(await call('GET', `${c.path}?labelSelector=tier%20in%20(front,back),v!%3D2`)), [nameOf(c, 'a')]);
        assert.deepEqual(names(await call('GET', `${c.path}?fieldSelector=metadata.name%3D${nameOf(c, 'b')}`)), [nameOf(c, 'b')]);
        const bad = await call('GET', `${c.path}?labelSelector=tier%3D%3D%3D`);
        assert.equal(bad.code, 400);
        const badField = await call('GET', `${c.path}?fieldSelector=spec.nonsense%3Dx`);
        assert.equal(badField.code, 400);
        // Kinds with field conversions of their own (Pod, Event, ...) and Kubernetes' generic fallback word it differently.
        assert.match(String(badField.json['message']), /^(field label not supported: spec.nonsense|"spec.nonsense" is not a known field selector: only "metadata.name", "metadata.namespace")$/);
      });

      test('patch: JSON patch, merge patch, strategic merge patch', async () => {
        const one = `${c.path}/${nameOf(c, 'a')}`;
        const json = await call('PATCH', one, [{ op: 'add', path: '/metadata/labels/json', value: 'yes' }], { 'content-type': 'application/json-patch+json' });
        assert.equal(json.code, 200, json.text);
        const merge = await call('PATCH', one, { metadata: { labels: { merge: 'yes', json: null } } }, { 'content-type': 'application/merge-patch+json' });
        assert.equal(merge.code, 200, merge.text);
        const strategic = await call('PATCH', one, { metadata: { annotations: { strategic: 'yes' } } }, { 'content-type': 'application/strategic-merge-patch+json' });
        assert.equal(strategic.code, 200, strategic.text);
        const m = strategic.json['metadata'] as { labels: Record<string, string>; annotations: Record<string, string> };
        assert.deepEqual(m.labels, { tier: 'front', merge: 'yes' });
        assert.equal(m.annotations['strategic'], 'yes');
        const badPatch = await call('PATCH', one, [{ op: 'test', path: '/metadata/name', value: 'other' }], { 'content-type': 'application/json-patch+json' });
        assert.ok(badPatch.code === 422 || badPatch.code === 400, `json patch test failure -> ${badPatch.code}`);
      });

      test('watch from a resourceVersion resumes after it (the patches are MODIFIED events)', async () => {
        const events = await watchEvents(`${c.path}?watch=1&resourceVersion=${createdRv.get(c.kind) ?? ''}&fieldSelector=metadata.name%3D${nameOf(c, 'a')}&timeoutSeconds=1`);
        // Controllers (Deployment, ReplicaSet) may add status writes of their own between the patches.
        assert.ok(events.length >= 3 && events.every((e) => e.type === 'MODIFIED'), JSON.stringify(events.map((e) => e.type)));
        const labels = events.map((e) => JSON.stringify((e.object['metadata'] as Json)['labels']));
        const firstJson = labels.findIndex((l) => l.includes('"json":"yes"'));
        const firstMerge = labels.findIndex((l) => l.includes('"merge":"yes"'));
        assert.ok(firstJson >= 0 && firstMerge > firstJson, labels.join(' '));
        assert.equal(((events[events.length - 1]?.object['metadata'] as Json)['annotations'] as Json)['strategic'], 'yes');
      });

      test('Table output: kubectl\'s columns, one row per object', async () => {
        const r = await call('GET', `${c.path}?labelSelector=tier`, undefined, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
        assert.equal(r.code, 200, r.text);
        assert.equal(r.json['kind'], 'Table');
        assert.deepEqual((r.json['columnDefinitions'] as { name: string }[]).map((d) => d.name), c.columns);
        const rows = r.json['rows'] as { cells: unknown[]; object: { metadata: { name: string } } }[];
        assert.deepEqual(rows.map((row) => row.object.metadata.name).filter((n) => n.startsWith(nameOf(c, ''))).sort(), [nameOf(c, 'a'), nameOf(c, 'b')]);
        for (const row of rows) assert.equal(row.cells.length, c.columns.length);
      });
    });
  }

  describe('watch bookmarks and 410', () => {
    const cms = `/api/v1/namespaces/${NS}/configmaps`;

    test('allowWatchBookmarks: a BOOKMARK as the watch times out, at the revision of the last event seen, even one the selector filtered', async () => {
      const list = await call('GET', cms);
      const from = String((list.json['metadata'] as Json)['resourceVersion']);
      const watching = watchEvents(`${cms}?watch=1&allowWatchBookmarks=true&resourceVersion=${from}&labelSelector=never%3Dmatches&timeoutSeconds=2`);
      await new Promise((r) => setTimeout(r, 300));
      const created = await call('POST', cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'conf-bookmark' } });
      const events = await watching;
      const last = events[events.length - 1];
      assert.equal(last?.type, 'BOOKMARK');
      assert.equal(last?.object['kind'], 'ConfigMap');
      assert.equal((last?.object['metadata'] as Json)['resourceVersion'], (created.json['metadata'] as Json)['resourceVersion']);
      assert.deepEqual(events.filter((e) => e.type !== 'BOOKMARK'), []);
    });

    test('no bookmarks without allowWatchBookmarks', async () => {
      const events = await watchEvents(`${cms}?watch=1&resourceVersion=1&labelSelector=never%3Dmatches&timeoutSeconds=1`);
      assert.deepEqual(events, []);
    });

    test('sendInitialEvents=true: ADDED for what exists, then the initial-events-end bookmark', async () => {
      const events = await watchEvents(`${cms}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&labelSelector=tier&timeoutSeconds=1`);
      assert.deepEqual(events.slice(0, 2).map((e) => e.type), ['ADDED', 'ADDED']);
      const end = events[2];
      assert.equal(end?.type, 'BOOKMARK');
      assert.deepEqual((end?.object['metadata'] as Json)['annotations'], { 'k8s.io/initial-events-end': 'true' });
      const refused = await call('GET', `${cms}?watch=1&sendInitialEvents=true`);
      assert.equal(refused.code, 422);
    });

    test('a bookmark arrives periodically while a watch is idle', async () => {
      // The server's interval is 10 s; wait for one bookmark well before the 25 s timeout.
      const events = await new Promise<string>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: `${cms}?watch=1&allowWatchBookmarks=true&labelSelector=never%3Dmatches&timeoutSeconds=25`, ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
          res.on('data', (chunk: Buffer) => {
            req.destroy();
            resolve(chunk.toString());
          });
        });
        req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
        req.end();
      });
      assert.match(events, /^\{"type":"BOOKMARK"/);
    });

    test('a bad resourceVersion on a watch is a 400', async () => {
      const r = await call('GET', `${cms}?watch=1&resourceVersion=abc`);
      assert.equal(r.code, 400);
      assert.match(String(r.json['message']), /resourceVersion must be a non-negative integer/);
    });

    test('after compaction, a watch from an older resourceVersion of every kind gets 410 Expired', async () => {
      const store = new StoreClient({ endpoints: [`127.0.0.1:${node.ports['client'] ?? 0}`], timeoutMs: 5_000, tls: clientTls(node.dataDir) });
      try {
        const now = await call('GET', cms);
        await store.compact(Number((now.json['metadata'] as Json)['resourceVersion']));
      } finally {
        store.close();
      }
      for (const c of KINDS) {
        const events = await watchEvents(`${c.path}?watch=1&resourceVersion=${createdRv.get(c.kind) ?? ''}&timeoutSeconds=1`);
        assert.equal(events.length, 1, `${c.kind}: ${JSON.stringify(events)}`);
        assert.equal(events[0]?.type, 'ERROR');
        assert.equal(events[0]?.object['code'], 410);
        assert.equal(events[0]?.object['reason'], 'Expired');
      }
      // The node keeps serving after all of it.
      assert.equal((await call('GET', '/api/v1/namespaces')).code, 200);
    });
  });
});
