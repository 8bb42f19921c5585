// The Service proxy's planned iptables text, golden: what a board writes for a ClusterIP with three
// endpoints, a NodePort, a Service without endpoints, session affinity, UDP, and what it skips
// (headless, unallocated); the jumps re-added only when missing or out of place; stale own chains
// deleted, foreign ones never named.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../../src/client/index.ts';
import { type EndpointGroup, groupsOfEndpoints, groupsOfEndpointSlice, proxyServiceOf, type ProxyService, usableEndpoints } from '../../../src/net/service-model.ts';
import { type CurrentRules, emptyTable, parseSave, planServiceRules, stateAfter } from '../../../src/net/service-rules.ts';

const svc = (name: string, spec: object): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'default', name }, spec });
const ep = (name: string, subsets: object[]): KubeObject => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: { namespace: 'default', name }, subsets });
const nothing = (): CurrentRules => ({ nat: emptyTable(), filter: emptyTable() });
const nodeAddresses = ['192.168.1.10', '10.42.1.1'];

function plan(services: KubeObject[], endpoints: KubeObject[], current = nothing()) {
  return planServiceRules({
    services: services.map(proxyServiceOf).filter((s): s is ProxyService => s !== undefined),
    groups: endpoints.flatMap(groupsOfEndpoints),
    nodeAddresses,
    clusterCidr: '10.42.0.0/16',
    current,
  });
}

/** The lines of one plan that depend on its Services (the fixed chains and jumps are left out). */
function serviceLines(text: string): string[] {
  const fixed = /^(\*|COMMIT|-I |:BRAMBLE-(SERVICES|NODEPORTS|POSTROUTING|MARK-MASQ|FORWARD) |-A BRAMBLE-(MARK-MASQ|POSTROUTING|FORWARD) )|must be last/;
  return text.split('\n').filter((line) => line !== '' && !fixed.test(line));
}

const web = svc('web', { clusterIP: '10.43.0.20', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] });
const webEndpoints = ep('web', [{ addresses: [{ ip: '10.42.2.7' }, { ip: '10.42.1.5' }, { ip: '10.42.3.9' }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }]);

test('a ClusterIP Service with 3 endpoints: the whole restore text on a board that has none of it yet', () => {
  const expected = `*filter
:BRAMBLE-SERVICES - [0:0]
:BRAMBLE-FORWARD - [0:0]
-I INPUT 1 -m conntrack --ctstate NEW -m comment --comment "bramble service portals" -j BRAMBLE-SERVICES
-I FORWARD 1 -m conntrack --ctstate NEW -m comment --comment "bramble service portals" -j BRAMBLE-SERVICES
-I FORWARD 2 -m comment --comment "bramble service forwarding" -j BRAMBLE-FORWARD
-I OUTPUT 1 -m conntrack --ctstate NEW -m comment --comment "bramble service portals" -j BRAMBLE-SERVICES
-A BRAMBLE-FORWARD -m comment --comment "bramble service traffic to forward" -m mark --mark 0x2000/0x2000 -j ACCEPT
COMMIT
*nat
:BRAMBLE-SERVICES - [0:0]
:BRAMBLE-NODEPORTS - [0:0]
:BRAMBLE-POSTROUTING - [0:0]
:BRAMBLE-MARK-MASQ - [0:0]
:BRAMBLE-SVC-PK5WNJDG7QFFBAYH - [0:0]
:BRAMBLE-SEP-GGZHDQHLOYWKD4RX - [0:0]
:BRAMBLE-SEP-UJXDRVD3OTJIGN7Q - [0:0]
:BRAMBLE-SEP-YD5OF5HY3J6ESXHN - [0:0]
-I PREROUTING 1 -m comment --comment "bramble service portals" -j BRAMBLE-SERVICES
-I OUTPUT 1 -m comment --comment "bramble service portals" -j BRAMBLE-SERVICES
-I POSTROUTING 1 -m comment --comment "bramble service postrouting" -j BRAMBLE-POSTROUTING
-A BRAMBLE-SERVICES -d 10.43.0.20/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j BRAMBLE-SVC-PK5WNJDG7QFFBAYH
-A BRAMBLE-SVC-PK5WNJDG7QFFBAYH ! -s 10.42.0.0/16 -d 10.43.0.20/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j BRAMBLE-MARK-MASQ
-A BRAMBLE-SVC-PK5WNJDG7QFFBAYH -m comment --comment "default/web:http -> 10.42.1.5:8080" -m statistic --mode random --probability 0.33333333349 -j BRAMBLE-SEP-GGZHDQHLOYWKD4RX
-A BRAMBLE-SVC-PK5WNJDG7QFFBAYH -m comment --comment "default/web:http -> 10.42.2.7:8080" -m statistic --mode random --probability 0.50000000000 -j BRAMBLE-SEP-UJXDRVD3OTJIGN7Q
-A BRAMBLE-SVC-PK5WNJDG7QFFBAYH -m comment --comment "default/web:http -> 10.42.3.9:8080" -j BRAMBLE-SEP-YD5OF5HY3J6ESXHN
-A BRAMBLE-SEP-GGZHDQHLOYWKD4RX -s 10.42.1.5/32 -m comment --comment "default/web:http" -j BRAMBLE-MARK-MASQ
-A BRAMBLE-SEP-GGZHDQHLOYWKD4RX -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.42.1.5:8080
-A BRAMBLE-SEP-UJXDRVD3OTJIGN7Q -s 10.42.2.7/32 -m comment --comment "default/web:http" -j BRAMBLE-MARK-MASQ
-A BRAMBLE-SEP-UJXDRVD3OTJIGN7Q -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.42.2.7:8080
-A BRAMBLE-SEP-YD5OF5HY3J6ESXHN -s 10.42.3.9/32 -m comment --comment "default/web:http" -j BRAMBLE-MARK-MASQ
-A BRAMBLE-SEP-YD5OF5HY3J6ESXHN -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.42.3.9:8080
-A BRAMBLE-SERVICES -d 192.168.1.10/32 -m comment --comment "bramble service nodeports must be last" -j BRAMBLE-NODEPORTS
-A BRAMBLE-SERVICES -d 10.42.1.1/32 -m comment --comment "bramble service nodeports must be last" -j BRAMBLE-NODEPORTS
-A BRAMBLE-MARK-MASQ -j MARK --set-xmark 0x2000/0x2000
-A BRAMBLE-POSTROUTING -m mark ! --mark 0x2000/0x2000 -j RETURN
-A BRAMBLE-POSTROUTING -j MARK --set-xmark 0x2000/0x0
-A BRAMBLE-POSTROUTING -m comment --comment "bramble service traffic requiring SNAT" -j MASQUERADE --random-fully
COMMIT
`;
  const result = plan([web], [webEndpoints]);
  assert.equal(result.text, expected);
  assert.deepEqual(result.ports, [{ name: 'default/web:http', protocol: 'TCP', clusterIP: '10.43.0.20', port: 80, endpoints: ['10.42.1.5:8080', '10.42.2.7:8080', '10.42.3.9:8080'] }]);
  assert.deepEqual(result.jumpsRepaired, ['filter INPUT', 'filter FORWARD', 'filter OUTPUT', 'nat PREROUTING', 'nat OUTPUT', 'nat POSTROUTING']);
});

test('the chain names are stable: the same Service port and endpoint always hash to the same chain', () => {
  const again = plan([web], [ep('web', [{ addresses: [{ ip: '10.42.3.9' }, { ip: '10.42.1.5' }, { ip: '10.42.2.7' }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }])]);
  assert.equal(again.text, plan([web], [webEndpoints]).text);
});

test('a NodePort Service: its port on every board address, masqueraded, through the same Service chain', () => {
  const np = svc('np', { type: 'NodePort', clusterIP: '10.43.0.21', ports: [{ port: 80, nodePort: 30080 }] });
  assert.deepEqual(serviceLines(plan([np], [ep('np', [{ addresses: [{ ip: '10.42.1.5' }], ports: [{ port: 80 }] }])]).text), [
    ':BRAMBLE-SVC-RDYLKLLOFEUNVJO7 - [0:0]',
    ':BRAMBLE-SEP-6MVAM4VBSOMYFBKZ - [0:0]',
    '-A BRAMBLE-SERVICES -d 10.43.0.21/32 -p tcp -m comment --comment "default/np cluster IP" -m tcp --dport 80 -j BRAMBLE-SVC-RDYLKLLOFEUNVJO7',
    '-A BRAMBLE-NODEPORTS -p tcp -m comment --comment "default/np" -m tcp --dport 30080 -j BRAMBLE-MARK-MASQ',
    '-A BRAMBLE-NODEPORTS -p tcp -m comment --comment "default/np" -m tcp --dport 30080 -j BRAMBLE-SVC-RDYLKLLOFEUNVJO7',
    '-A BRAMBLE-SVC-RDYLKLLOFEUNVJO7 ! -s 10.42.0.0/16 -d 10.43.0.21/32 -p tcp -m comment --comment "default/np cluster IP" -m tcp --dport 80 -j BRAMBLE-MARK-MASQ',
    '-A BRAMBLE-SVC-RDYLKLLOFEUNVJO7 -m comment --comment "default/np -> 10.42.1.5:80" -j BRAMBLE-SEP-6MVAM4VBSOMYFBKZ',
    '-A BRAMBLE-SEP-6MVAM4VBSOMYFBKZ -s 10.42.1.5/32 -m comment --comment "default/np" -j BRAMBLE-MARK-MASQ',
    '-A BRAMBLE-SEP-6MVAM4VBSOMYFBKZ -p tcp -m comment --comment "default/np" -m tcp -j DNAT --to-destination 10.42.1.5:80',
  ]);
});

test('a Service whose endpoints are not ready REJECTs its ClusterIP and NodePort in filter, and has no nat chain', () => {
  const empty = svc('empty', { type: 'NodePort', clusterIP: '10.43.0.22', ports: [{ port: 80, nodePort: 30081 }] });
  const result = plan([empty], [ep('empty', [{ notReadyAddresses: [{ ip: '10.42.1.5' }], ports: [{ port: 80 }] }])]);
  assert.deepEqual(serviceLines(result.text), [
    '-A BRAMBLE-SERVICES -d 10.43.0.22/32 -p tcp -m comment --comment "default/empty has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable',
    '-A BRAMBLE-SERVICES -d 192.168.1.10/32 -p tcp -m comment --comment "default/empty has no endpoints" -m tcp --dport 30081 -j REJECT --reject-with icmp-port-unreachable',
    '-A BRAMBLE-SERVICES -d 10.42.1.1/32 -p tcp -m comment --comment "default/empty has no endpoints" -m tcp --dport 30081 -j REJECT --reject-with icmp-port-unreachable',
  ]);
  assert.deepEqual(result.ports[0]?.endpoints, []);
  // No Endpoints object at all: the same.
  assert.deepEqual(serviceLines(plan([empty], []).text), serviceLines(result.text));
});

test('sessionAffinity ClientIP: a client seen within the timeout goes back to its endpoint (recent), others are spread', () => {
  const sticky = svc('sticky', { clusterIP: '10.43.0.23', sessionAffinity: 'ClientIP', ports: [{ port: 80 }] });
  assert.deepEqual(serviceLines(plan([sticky], [ep('sticky', [{ addresses: [{ ip: '10.42.1.5' }, { ip: '10.42.2.5' }], ports: [{ port: 80 }] }])]).text), [
    ':BRAMBLE-SVC-EJSNIZOXQ6PSNL43 - [0:0]',
    ':BRAMBLE-SEP-ZEIDJSSIIKRJDUUZ - [0:0]',
    ':BRAMBLE-SEP-K2EO6KIIFUQKC6OM - [0:0]',
    '-A BRAMBLE-SERVICES -d 10.43.0.23/32 -p tcp -m comment --comment "default/sticky cluster IP" -m tcp --dport 80 -j BRAMBLE-SVC-EJSNIZOXQ6PSNL43',
    '-A BRAMBLE-SVC-EJSNIZOXQ6PSNL43 ! -s 10.42.0.0/16 -d 10.43.0.23/32 -p tcp -m comment --comment "default/sticky cluster IP" -m tcp --dport 80 -j BRAMBLE-MARK-MASQ',
    '-A BRAMBLE-SVC-EJSNIZOXQ6PSNL43 -m comment --comment "default/sticky -> 10.42.1.5:80" -m recent --rcheck --seconds 10800 --reap --name BRAMBLE-SEP-ZEIDJSSIIKRJDUUZ --mask 255.255.255.255 --rsource -j BRAMBLE-SEP-ZEIDJSSIIKRJDUUZ',
    '-A BRAMBLE-SVC-EJSNIZOXQ6PSNL43 -m comment --comment "default/sticky -> 10.42.2.5:80" -m recent --rcheck --seconds 10800 --reap --name BRAMBLE-SEP-K2EO6KIIFUQKC6OM --mask 255.255.255.255 --rsource -j BRAMBLE-SEP-K2EO6KIIFUQKC6OM',
    '-A BRAMBLE-SVC-EJSNIZOXQ6PSNL43 -m comment --comment "default/sticky -> 10.42.1.5:80" -m statistic --mode random --probability 0.50000000000 -j BRAMBLE-SEP-ZEIDJSSIIKRJDUUZ',
    '-A BRAMBLE-SVC-EJSNIZOXQ6PSNL43 -m comment --comment "default/sticky -> 10.42.2.5:80" -j BRAMBLE-SEP-K2EO6KIIFUQKC6OM',
    '-A BRAMBLE-SEP-ZEIDJSSIIKRJDUUZ -s 10.42.1.5/32 -m comment --comment "default/sticky" -j BRAMBLE-MARK-MASQ',
    '-A BRAMBLE-SEP-ZEIDJSSIIKRJDUUZ -p tcp -m comment --comment "default/sticky" -m recent --set --name BRAMBLE-SEP-ZEIDJSSIIKRJDUUZ --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.42.1.5:80',
    '-A BRAMBLE-SEP-K2EO6KIIFUQKC6OM -s 10.42.2.5/32 -m comment --comment "default/sticky" -j BRAMBLE-MARK-MASQ',
    '-A BRAMBLE-SEP-K2EO6KIIFUQKC6OM -p tcp -m comment --comment "default/sticky" -m recent --set --name BRAMBLE-SEP-K2EO6KIIFUQKC6OM --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.42.2.5:80',
  ]);
  const timed = svc('sticky', { clusterIP: '10.43.0.23', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, ports: [{ port: 80 }] });
  assert.equal(proxyServiceOf(timed)?.affinitySeconds, 60);
});

test('a UDP Service port matches udp and DNATs udp', () => {
  const dns = svc('dns', { clusterIP: '10.43.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] });
  assert.deepEqual(serviceLines(plan([dns], [ep('dns', [{ addresses: [{ ip: '10.42.1.9' }], ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }])]).text), [
    ':BRAMBLE-SVC-7LO3IMVAIH3CH55X - [0:0]',
    ':BRAMBLE-SEP-FX7LJBULMSDVL4BX - [0:0]',
    '-A BRAMBLE-SERVICES -d 10.43.0.10/32 -p udp -m comment --comment "default/dns:dns cluster IP" -m udp --dport 53 -j BRAMBLE-SVC-7LO3IMVAIH3CH55X',
    '-A BRAMBLE-SVC-7LO3IMVAIH3CH55X ! -s 10.42.0.0/16 -d 10.43.0.10/32 -p udp -m comment --comment "default/dns:dns cluster IP" -m udp --dport 53 -j BRAMBLE-MARK-MASQ',
    '-A BRAMBLE-SVC-7LO3IMVAIH3CH55X -m comment --comment "default/dns:dns -> 10.42.1.9:53" -j BRAMBLE-SEP-FX7LJBULMSDVL4BX',
    '-A BRAMBLE-SEP-FX7LJBULMSDVL4BX -s 10.42.1.9/32 -m comment --comment "default/dns:dns" -j BRAMBLE-MARK-MASQ',
    '-A BRAMBLE-SEP-FX7LJBULMSDVL4BX -p udp -m comment --comment "default/dns:dns" -m udp -j DNAT --to-destination 10.42.1.9:53',
  ]);
});

test('headless, ExternalName and not yet allocated Services get no rules at all', () => {
  const skipped = [
    svc('headless', { clusterIP: 'None', ports: [{ port: 80 }] }),
    svc('external', { type: 'ExternalName', externalName: 'example.org', clusterIP: '10.43.0.40', ports: [{ port: 80 }] }),
    svc('unallocated', { ports: [{ port: 80 }] }),
    svc('v6', { clusterIP: 'fd00::1', ports: [{ port: 80 }] }),
  ];
  for (const s of skipped) assert.equal(proxyServiceOf(s), undefined, s.metadata.name);
  const endpoints = skipped.map((s) => ep(s.metadata.name ?? '', [{ addresses: [{ ip: '10.42.1.5' }], ports: [{ port: 80 }] }]));
  const result = plan(skipped, endpoints);
  assert.deepEqual(serviceLines(result.text), []);
  assert.deepEqual(result.ports, []);
});

test('a port is matched to endpoints by name and protocol; a port without a match REJECTs', () => {
  const two = svc('two', { clusterIP: '10.43.0.24', ports: [{ name: 'http', port: 80 }, { name: 'metrics', port: 9100 }, { name: 'http', port: 80, protocol: 'UDP' }] });
  const result = plan([two], [ep('two', [{ addresses: [{ ip: '10.42.1.5' }], ports: [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9100, protocol: 'UDP' }] }])]);
  assert.deepEqual(
    result.ports.map((p) => [p.name, p.protocol, p.endpoints]),
    [
      ['default/two:http', 'TCP', ['10.42.1.5:8080']],
      ['default/two:metrics', 'TCP', []],
      ['default/two:http', 'UDP', []],
    ],
  );
});

test('EndpointSlices: ready endpoints; when none is ready, the serving ones that are terminating; never the others', () => {
  const slice = (endpoints: object[]): KubeObject => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: 'default', name: 'web-abc12', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints,
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  });
  const port = { name: 'http', protocol: 'TCP' as const, port: 80 };
  const mixed = groupsOfEndpointSlice(
    slice([
      { addresses: ['10.42.1.5'], conditions: { ready: true, serving: true, terminating: false } },
      { addresses: ['10.42.2.5'], conditions: { ready: false, serving: true, terminating: true } },
      { addresses: ['10.42.3.5'], conditions: {} },
    ]),
  );
  assert.equal(mixed[0]?.service, 'default/web');
  assert.deepEqual(usableEndpoints(mixed, port), ['10.42.1.5:8080', '10.42.3.5:8080']);
  const draining = groupsOfEndpointSlice(
    slice([
      { addresses: ['10.42.2.5'], conditions: { ready: false, serving: true, terminating: true } },
      { addresses: ['10.42.4.5'], conditions: { ready: false, serving: false, terminating: true } },
      { addresses: ['10.42.5.5'], conditions: { ready: false, serving: false, terminating: false } },
    ]),
  );
  assert.deepEqual(usableEndpoints(draining, port), ['10.42.2.5:8080']);
  const unlabelled = { ...slice([{ addresses: ['10.42.1.5'] }]), metadata: { namespace: 'default', name: 'x' } };
  assert.deepEqual(groupsOfEndpointSlice(unlabelled), []);
  assert.deepEqual(groupsOfEndpointSlice({ ...slice([{ addresses: ['fd00::5'] }]), addressType: 'IPv6' }), []);
});

test('endpoints from two groups are merged without doubles, in address order', () => {
  const groups: EndpointGroup[] = [
    { service: 'default/web', ports: [{ name: '', protocol: 'TCP', port: 80 }], endpoints: [{ ip: '10.42.10.5', ready: true, serving: true, terminating: false }, { ip: '10.42.9.5', ready: true, serving: true, terminating: false }] },
    { service: 'default/web', ports: [{ name: '', protocol: 'TCP', port: 80 }], endpoints: [{ ip: '10.42.9.5', ready: true, serving: true, terminating: false }] },
  ];
  assert.deepEqual(usableEndpoints(groups, { name: '', protocol: 'TCP', port: 80 }), ['10.42.9.5:80', '10.42.10.5:80']);
});

test('a name that could end a comment or a line cannot inject a rule', () => {
  const evil: ProxyService = { key: 'default/x" -j ACCEPT\n-A INPUT -j DROP', clusterIP: '10.43.0.50', ports: [{ name: '', protocol: 'TCP', port: 80 }] };
  const text = planServiceRules({ services: [evil], groups: [], nodeAddresses: [], clusterCidr: '10.42.0.0/16', current: nothing() }).text;
  assert.ok(text.includes('-m comment --comment "default/x -j ACCEPT-A INPUT -j DROP has no endpoints" -m tcp --dport 80 -j REJECT'), text);
  assert.ok(!text.split('\n').some((line) => line.startsWith('-A INPUT')));
});

const saved = (table: string, chains: string[], rules: string[]): string => [`*${table}`, ...chains.map((c) => `:${c} - [0:0]`), ...rules, 'COMMIT', ''].join('\n');

test('jumps in place are not written again; Docker\'s DOCKER-USER jump above ours in FORWARD moves ours back to the top', () => {
  const first = plan([web], [webEndpoints]);
  // What iptables-save shows after the first restore on a board with Docker's rules.
  const natSaved = saved('nat', ['PREROUTING ACCEPT', 'OUTPUT ACCEPT', 'POSTROUTING ACCEPT', 'DOCKER', 'BRAMBLE-SERVICES'], [
    '-A PREROUTING -m comment --comment "bramble service portals" -j BRAMBLE-SERVICES',
    '-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER',
    '-A OUTPUT -m comment --comment "bramble service portals" -j BRAMBLE-SERVICES',
    '-A POSTROUTING -m comment --comment "bramble service postrouting" -j BRAMBLE-POSTROUTING',
    '-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE',
  ]);
  const forward = [
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "bramble service portals" -j BRAMBLE-SERVICES',
    '-A FORWARD -m comment --comment "bramble service forwarding" -j BRAMBLE-FORWARD',
    '-A FORWARD -j DOCKER-USER',
  ];
  const filterRules = [
    '-A INPUT -m conntrack --ctstate NEW -m comment --comment "bramble service portals" -j BRAMBLE-SERVICES',
    '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "bramble service portals" -j BRAMBLE-SERVICES',
  ];
  const current = (fwd: string[]): CurrentRules => ({ nat: parseSave(natSaved), filter: parseSave(saved('filter', ['INPUT ACCEPT', 'FORWARD DROP', 'OUTPUT ACCEPT', 'DOCKER-USER'], [...filterRules, ...fwd])) });
  const steady = plan([web], [webEndpoints], current(forward));
  assert.deepEqual(steady.jumpsRepaired, []);
  assert.equal(steady.text, first.text.split('\n').filter((line) => !line.startsWith('-I ')).join('\n'));

  // Docker restarted: it put its jump first again.
  const afterDocker = plan([web], [webEndpoints], current(['-A FORWARD -j DOCKER-USER', forward[0]!, forward[1]!]));
  assert.deepEqual(afterDocker.jumpsRepaired, ['filter FORWARD']);
  assert.deepEqual(
    afterDocker.text.split('\n').filter((line) => / FORWARD /.test(line)),
    [
      '-D FORWARD -m conntrack --ctstate NEW -m comment --comment "bramble service portals" -j BRAMBLE-SERVICES',
      '-D FORWARD -m comment --comment "bramble service forwarding" -j BRAMBLE-FORWARD',
      '-I FORWARD 1 -m conntrack --ctstate NEW -m comment --comment "bramble service portals" -j BRAMBLE-SERVICES',
      '-I FORWARD 2 -m comment --comment "bramble service forwarding" -j BRAMBLE-FORWARD',
    ],
  );
});

test('chains of Services and endpoints that went away are flushed and deleted; foreign chains are never named', () => {
  const old = plan([web], [webEndpoints]);
  const oldChains = old.text.split('\n').filter((l) => /^:BRAMBLE-(SVC|SEP)-/.test(l)).map((l) => l.slice(1).split(' ')[0]!);
  assert.equal(oldChains.length, 4);
  const natSaved = saved('nat', ['PREROUTING ACCEPT', 'DOCKER', 'KUBE-SVC-AAAAAAAAAAAAAAAA', 'BRAMBLE-DNS', 'BRAMBLE-SERVICES', ...oldChains], []);
  const now = plan([], [], { nat: parseSave(natSaved), filter: emptyTable() });
  const lines = now.text.split('\n');
  for (const chain of oldChains) {
    assert.ok(lines.includes(`:${chain} - [0:0]`), chain);
    assert.ok(lines.includes(`-X ${chain}`), chain);
  }
  assert.ok(lines.indexOf(`-X ${oldChains[0]}`) > lines.findLastIndex((l) => l.startsWith('-A ')), 'deleted after the rules that referred to them are gone');
  for (const foreign of ['DOCKER', 'KUBE-SVC-AAAAAAAAAAAAAAAA', 'BRAMBLE-DNS', 'PREROUTING']) assert.ok(!now.text.includes(`:${foreign} `) && !now.text.includes(`-X ${foreign}`), foreign);
});

test('stateAfter: planned against what an apply left, the next plan repairs no jump, and a Service removed later has its chains deleted', () => {
  const first = plan([web], [webEndpoints]);
  const again = plan([web], [webEndpoints], stateAfter(first));
  assert.deepEqual(again.jumpsRepaired, []);
  assert.equal(again.text, first.text.split('\n').filter((line) => !line.startsWith('-I ')).join('\n'));
  const after = stateAfter(first);
  assert.deepEqual(after.filter.rules.get('FORWARD'), [
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "bramble service portals" -j BRAMBLE-SERVICES',
    '-A FORWARD -m comment --comment "bramble service forwarding" -j BRAMBLE-FORWARD',
  ]);
  const emptied = plan([], [], after);
  const deleted = emptied.text.split('\n').filter((l) => l.startsWith('-X '));
  assert.equal(deleted.length, 4, emptied.text);
  assert.deepEqual(stateAfter(emptied).nat.chains, new Set(['PREROUTING', 'OUTPUT', 'POSTROUTING', 'BRAMBLE-SERVICES', 'BRAMBLE-NODEPORTS', 'BRAMBLE-POSTROUTING', 'BRAMBLE-MARK-MASQ']));
});
