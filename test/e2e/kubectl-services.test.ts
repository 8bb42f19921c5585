// The course's Service chapter with the real kubectl 1.32 against ONE real `bramble up` whose pods
// run on the real Docker engine (--pod-network off: pods on the engine's bridge, enough for the
// API side): expose assigns a ClusterIP and a NodePort, get svc and describe svc read as on
// Kubernetes (describe reads EndpointSlices since kubectl 1.31), the EndpointSlice names the real
// pods, a pod started after the Service has its environment variables, and bad input is answered
// with Kubernetes' 422 messages. The proxy and DNS are tested in src/net's suites.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { testImages } from '../lib/images.ts';
import { kubectl, kubectlOk } from '../lib/kubectl.ts';
import { type ManagedProcess, ProcessGroup, STARTUP_TIMEOUT_MS } from '../lib/processes.ts';
import { waitFor } from '../lib/wait.ts';

const ok = kubectlOk;
/** Pods start on a busy machine (image checks, sandbox, Docker): generous, never a speed assertion. */
const POD_TIMEOUT_MS = 120_000;

interface SliceJson {
  metadata: { name: string; labels: Record<string, string> };
  addressType: string;
  endpoints?: Array<{ addresses: string[]; conditions: Record<string, boolean>; nodeName?: string; targetRef?: { kind: string; name: string } }>;
  ports?: Array<{ name: string; port: number; protocol: string }>;
}

describe('kubectl Services against bramble up', { timeout: 420_000 }, () => {
  const group = new ProcessGroup();
  let node: ManagedProcess;
  let kc = '';

  before(async () => {
    node = await group.spawn('pisvc', {
      portNames: ['peer', 'client', 'api'],
      args: ({ ports, dataDir, name }) => [
        'up', '--name', name, '--data-dir', dataDir, '--peer-addr', `127.0.0.1:${ports['peer']}`, '--client-addr', `127.0.0.1:${ports['client']}`,
        '--api-addr', `127.0.0.1:${ports['api']}`, '--runtime', 'docker', '--pod-network', 'off', '--node-status-ms', '500', '--log-level', 'warn',
      ],
    });
    await node.waitForLog(/Kubernetes API: https:/, STARTUP_TIMEOUT_MS);
    kc = join(node.dataDir, 'kubeconfig');
    // Two busybox httpd backends, as the course's `kubectl create deployment` (the offline image).
    await ok(kc, ['create', 'deployment', 'web', `--image=${testImages.amd64}`, '--replicas=2', '--port=8080', '--', 'httpd', '-f', '-p', '8080', '-h', '/']);
  });

  after(async () => {
    if (process.exitCode) console.error(group.logs());
    await group.cleanup();
  });

  test('the kubernetes and kube-dns Services exist at the range\'s 1st and 10th addresses', async () => {
    assert.match(await ok(kc, ['get', 'svc']), /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\nkubernetes\s+ClusterIP\s+10\.43\.0\.1\s+<none>\s+443\/TCP\s+\S+\n$/);
    assert.match(await ok(kc, ['get', 'svc', '-n', 'kube-system', 'kube-dns']), /\nkube-dns\s+ClusterIP\s+10\.43\.0\.10\s+<none>\s+53\/UDP,53\/TCP\s+\S+\n$/);
    // The API server's own endpoints: this board's address and API port.
    const port = String(node.ports['api']);
    await waitFor('the kubernetes EndpointSlice', async () => (await kubectl(kc, ['get', 'endpointslices', '-l', 'kubernetes.io/service-name=kubernetes', '-o', 'jsonpath={.items[*].ports[*].port}'])).stdout === port, 60_000, 200);
  });

  test('expose --type=NodePort: a ClusterIP from 10.43.0.0/16 and a node port, shown as Kubernetes shows them', async () => {
    assert.equal(await ok(kc, ['expose', 'deployment', 'web', '--port', '80', '--target-port', '8080', '--type=NodePort']), 'service/web exposed\n');
    const row = await ok(kc, ['get', 'svc', 'web', '--no-headers']);
    const match = /^web\s+NodePort\s+(10\.43\.\d+\.\d+)\s+<none>\s+80:(\d+)\/TCP\s+\S+\n$/.exec(row);
    assert.ok(match, row);
    const nodePort = Number(match[2]);
    assert.ok(nodePort >= 30000 && nodePort <= 32767, row);
    assert.equal(await ok(kc, ['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIPs[0]}']), match[1]);
  });

  test('describe svc lists the ready pods\' addresses from the EndpointSlice; the slice names them', async () => {
    const podIPs = await waitFor('two ready web pods with IPs', async () => {
      const out = await ok(kc, ['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={range .items[*]}{.status.podIP}{" "}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}']);
      const ready = out.trim().split('\n').map((l) => l.split(' ')).filter(([ip, status]) => ip && status === 'True').map(([ip]) => ip!);
      return ready.length === 2 ? ready.sort() : null;
    }, POD_TIMEOUT_MS, 250);
    const described = await waitFor('describe svc web with both endpoints', async () => {
      const out = await ok(kc, ['describe', 'svc', 'web']);
      return podIPs.every((ip) => out.includes(`${ip}:8080`)) ? out : null;
    }, 60_000, 250);
    assert.match(described, /\nEndpoints:\s+(\d+\.\d+\.\d+\.\d+:8080,\d+\.\d+\.\d+\.\d+:8080)\n/);
    assert.match(described, /\nIP:\s+10\.43\.\d+\.\d+\n/);
    assert.match(described, /\nNodePort:\s+<unset>\s+\d+\/TCP\n/);
    const slices = JSON.parse(await ok(kc, ['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'json'])) as { items: SliceJson[] };
    assert.equal(slices.items.length, 1);
    const slice = slices.items[0]!;
    assert.equal(slice.addressType, 'IPv4');
    assert.equal(slice.metadata.labels['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.bramble.io');
    assert.deepEqual(slice.ports, [{ name: '', port: 8080, protocol: 'TCP' }]);
    assert.deepEqual(slice.endpoints?.map((e) => e.addresses[0]).sort(), podIPs);
    for (const e of slice.endpoints ?? []) {
      assert.deepEqual(e.conditions, { ready: true, serving: true, terminating: false });
      assert.equal(e.nodeName, 'pisvc');
      assert.equal(e.targetRef?.kind, 'Pod');
      assert.match(e.targetRef?.name ?? '', /^web-/);
    }
    assert.match(await ok(kc, ['get', 'endpointslices']), /^NAME\s+ADDRESSTYPE\s+PORTS\s+ENDPOINTS\s+AGE\n/);
  });

  test('a pod started after the Service has its environment variables; enableServiceLinks: false only kubernetes\'', async () => {
    const ip = await ok(kc, ['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}']);
    const sleeper = ['--', 'sh', '-c', "trap 'exit 0' TERM; while true; do sleep 1; done"];
    await ok(kc, ['run', 'envcheck', `--image=${testImages.amd64}`, '--restart=Never', ...sleeper]);
    await ok(kc, ['run', 'nolinks', `--image=${testImages.amd64}`, '--restart=Never', '--overrides={"apiVersion":"v1","spec":{"enableServiceLinks":false}}', ...sleeper]);
    const envOf = async (pod: string): Promise<Map<string, string>> => {
      const out = await waitFor(`${pod} running`, async () => {
        const run = await kubectl(kc, ['exec', pod, '--', 'env']);
        return run.code === 0 ? run.stdout : null;
      }, POD_TIMEOUT_MS, 500);
      return new Map(out.trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
    };
    const env = await envOf('envcheck');
    assert.equal(env.get('WEB_SERVICE_HOST'), ip);
    assert.equal(env.get('WEB_SERVICE_PORT'), '80');
    assert.equal(env.get('WEB_PORT'), `tcp://${ip}:80`);
    assert.equal(env.get('WEB_PORT_80_TCP'), `tcp://${ip}:80`);
    assert.equal(env.get('WEB_PORT_80_TCP_PROTO'), 'tcp');
    assert.equal(env.get('WEB_PORT_80_TCP_PORT'), '80');
    assert.equal(env.get('WEB_PORT_80_TCP_ADDR'), ip);
    assert.equal(env.get('KUBERNETES_SERVICE_HOST'), '10.43.0.1');
    assert.equal(env.get('KUBERNETES_SERVICE_PORT'), '443');
    assert.equal(env.get('KUBERNETES_SERVICE_PORT_HTTPS'), '443');
    const none = await envOf('nolinks');
    assert.equal(none.get('WEB_SERVICE_HOST'), undefined);
    assert.equal(none.get('KUBERNETES_SERVICE_HOST'), '10.43.0.1');
  });

  test('a headless Service (clusterIP None) takes no address', async () => {
    assert.equal(await ok(kc, ['create', 'service', 'clusterip', 'db', '--clusterip=None']), 'service/db created\n');
    assert.match(await ok(kc, ['get', 'svc', 'db', '--no-headers']), /^db\s+ClusterIP\s+None\s+<none>\s+<none>\s+\S+\n$/);
    assert.equal(await ok(kc, ['get', 'svc', 'db', '-o', 'jsonpath={.spec.clusterIPs}']), '["None"]');
  });

  test('a Service without a selector and Endpoints written by hand (an outside database): mirrored into an EndpointSlice, so describe and the proxy see them', async () => {
    const external = [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'outside-db' }, spec: { ports: [{ port: 5432, targetPort: 5432 }] } },
      { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'outside-db' }, subsets: [{ addresses: [{ ip: '192.168.1.50' }], notReadyAddresses: [{ ip: '192.168.1.51' }], ports: [{ port: 5432 }] }] },
    ];
    await ok(kc, ['apply', '-f', '-'], external.map((o) => JSON.stringify(o)).join('\n'));
    const slice = await waitFor('the mirrored EndpointSlice', async () => {
      const items = (JSON.parse(await ok(kc, ['get', 'endpointslices', '-l', 'kubernetes.io/service-name=outside-db', '-o', 'json'])) as { items: SliceJson[] }).items;
      return items.length === 1 ? items[0]! : null;
    }, 60_000, 250);
    assert.equal(slice.metadata.labels['endpointslice.kubernetes.io/managed-by'], 'endpointslicemirroring-controller.k8s.io');
    assert.deepEqual(slice.endpoints?.map((e) => [e.addresses[0], e.conditions['ready']]), [['192.168.1.50', true], ['192.168.1.51', false]]);
    assert.match(await ok(kc, ['describe', 'svc', 'outside-db']), /Endpoints:\s+192\.168\.1\.50:5432\n/);
    // The address moves: the slice follows; the Endpoints deleted: the slice goes.
    await ok(kc, ['patch', 'endpoints', 'outside-db', '--type=merge', '-p', '{"subsets":[{"addresses":[{"ip":"192.168.1.60"}],"ports":[{"port":5432}]}]}']);
    await waitFor('the slice at the new address', async () => (await ok(kc, ['get', 'endpointslices', '-l', 'kubernetes.io/service-name=outside-db', '-o', 'jsonpath={.items[*].endpoints[*].addresses[*]}'])) === '192.168.1.60', 60_000, 250);
    await ok(kc, ['delete', 'endpoints', 'outside-db']);
    await waitFor('the mirrored slice gone', async () => (await ok(kc, ['get', 'endpointslices', '-l', 'kubernetes.io/service-name=outside-db', '-o', 'name'])) === '', 60_000, 250);
    // The kubernetes Service's own slice is written from the boards, never mirrored beside it.
    assert.equal(await ok(kc, ['get', 'endpointslices', '-l', 'kubernetes.io/service-name=kubernetes', '-o', 'jsonpath={.items[*].metadata.labels.endpointslice\\.kubernetes\\.io/managed-by}']), 'apiserver-endpoints.bramble.io');
  });

  test('bad input: Kubernetes\' 422 messages for a ClusterIP or node port out of range or taken, an invalid port or protocol', async () => {
    const ip = await ok(kc, ['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}']);
    const nodePort = await ok(kc, ['get', 'svc', 'web', '-o', 'jsonpath={.spec.ports[0].nodePort}']);
    const refused = async (args: string[], input?: string): Promise<string> => {
      const run = await kubectl(kc, args, input);
      assert.equal(run.code, 1, run.stdout);
      return run.stderr;
    };
    assert.equal(await refused(['create', 'service', 'clusterip', 'bad', '--tcp=80:80', '--clusterip=10.96.0.5']),
      'error: failed to create ClusterIP service: Service "bad" is invalid: spec.clusterIPs: Invalid value: ["10.96.0.5"]: failed to allocate IP 10.96.0.5: the provided IP (10.96.0.5) is not in the valid range. The range of valid IPs is 10.43.0.0/16\n');
    assert.equal(await refused(['create', 'service', 'clusterip', 'bad', '--tcp=80:80', `--clusterip=${ip}`]),
      `error: failed to create ClusterIP service: Service "bad" is invalid: spec.clusterIPs: Invalid value: ["${ip}"]: failed to allocate IP ${ip}: provided IP is already allocated\n`);
    assert.equal(await refused(['create', 'service', 'nodeport', 'bad', '--tcp=80:80', `--node-port=${nodePort}`]),
      `error: failed to create NodePort service: Service "bad" is invalid: spec.ports[0].nodePort: Invalid value: ${nodePort}: provided port is already allocated\n`);
    assert.equal(await refused(['create', 'service', 'nodeport', 'bad', '--tcp=80:80', '--node-port=8080']),
      'error: failed to create NodePort service: Service "bad" is invalid: spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767\n');
    const manifest = (port: number, protocol: string): string => JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'bad' }, spec: { selector: { app: 'web' }, ports: [{ port, protocol, targetPort: 8080 }] } });
    assert.equal(await refused(['apply', '-f', '-'], manifest(70000, 'TCP')),
      'The Service "bad" is invalid: spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive\n');
    assert.equal(await refused(['apply', '-f', '-'], manifest(80, 'HTTP')),
      'The Service "bad" is invalid: spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"\n');
    assert.equal(await refused(['patch', 'svc', 'web', '-p', '{"spec":{"clusterIP":"10.43.200.200"}}']),
      'The Service "web" is invalid: spec.clusterIPs[0]: Invalid value: ["10.43.200.200"]: may not change once set\n');
    assert.equal((await kubectl(kc, ['get', 'svc', 'bad'])).code, 1, 'nothing was stored');
  });

  test('type changes: ClusterIP releases the node port, LoadBalancer gets one and the board\'s address; delete frees the IP', async () => {
    const ip = await ok(kc, ['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}']);
    await ok(kc, ['patch', 'svc', 'web', '-p', '{"spec":{"type":"ClusterIP"}}']);
    assert.match(await ok(kc, ['get', 'svc', 'web', '--no-headers']), new RegExp(`^web\\s+ClusterIP\\s+${ip.replace(/\./g, '\\.')}\\s+<none>\\s+80/TCP\\s`));
    await ok(kc, ['patch', 'svc', 'web', '-p', '{"spec":{"type":"LoadBalancer"}}']);
    const lb = await waitFor('the LoadBalancer\'s external IP', async () => {
      const row = await ok(kc, ['get', 'svc', 'web', '--no-headers']);
      return /^web\s+LoadBalancer\s+\S+\s+(?!<pending>)\S+\s+80:\d+\/TCP\s/.test(row) ? row : null;
    }, 60_000, 250);
    const internalIP = await ok(kc, ['get', 'node', 'pisvc', '-o', 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}']);
    assert.match(lb, new RegExp(`^web\\s+LoadBalancer\\s+${ip.replace(/\./g, '\\.')}\\s+${internalIP.replace(/\./g, '\\.')}\\s+80:\\d+/TCP\\s`));
    await ok(kc, ['patch', 'svc', 'web', '-p', '{"spec":{"type":"ClusterIP"}}']);
    assert.equal(await ok(kc, ['get', 'svc', 'web', '-o', 'jsonpath={.status.loadBalancer}']), '{}');
    await ok(kc, ['delete', 'svc', 'web']);
    assert.equal(await ok(kc, ['create', 'service', 'clusterip', 'again', '--tcp=80:80', `--clusterip=${ip}`]), 'service/again created\n');
    await waitFor('web\'s EndpointSlice removed with it', async () => (await ok(kc, ['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'name'])) === '', 60_000, 250);
  });
});
