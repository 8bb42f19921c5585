import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Answer } from 'dns-packet';
import type { KubeObject } from '../../../src/client/index.ts';
import { answerData } from '../../lib/dns-client.ts';
import { limitInFlight } from '../../../src/net/dns/upstream.ts';
import { ClusterZone, DNS_TTL_SECONDS, type ZoneAnswer } from '../../../src/net/dns/zone.ts';

function service(name: string, namespace: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec };
}

function endpoints(name: string, namespace: string, ready: { ip: string; hostname?: string }[], notReady: string[] = [], ports = [{ name: 'http', port: 8080, protocol: 'TCP' }]): KubeObject {
  return { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace }, subsets: [{ addresses: ready, notReadyAddresses: notReady.map((ip) => ({ ip })), ports }] };
}

const zone = new ClusterZone(
  'cluster.local',
  [
    service('web', 'default', { type: 'ClusterIP', clusterIP: '10.43.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }] }),
    service('db', 'shop', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] }),
    service('ext', 'default', { type: 'ExternalName', externalName: 'Example.COM.' }),
  ],
  [
    endpoints('web', 'default', [{ ip: '10.42.1.5' }]),
    endpoints('db', 'shop', [{ ip: '10.42.1.7', hostname: 'db-0' }, { ip: '10.42.2.9' }], ['10.42.3.3'], [{ name: 'pg', port: 5432, protocol: 'TCP' }]),
  ],
);

function answers(found: ZoneAnswer): Answer[] {
  assert.equal(found.kind, 'answer', JSON.stringify(found));
  return found.kind === 'answer' ? found.answers : [];
}

function data(found: ZoneAnswer): unknown[] {
  return answers(found).map(answerData);
}

test('a ClusterIP Service: its A record is the ClusterIP, TTL 5 s, any letter case', () => {
  const found = answers(zone.answer({ type: 'A', name: 'Web.Default.svc.cluster.local.' }));
  assert.deepEqual(found, [{ type: 'A', name: 'web.default.svc.cluster.local', ttl: DNS_TTL_SECONDS, data: '10.43.0.20' }]);
});

test('a headless Service: the ready endpoint IPs only (a not-ready pod is not listed)', () => {
  assert.deepEqual(data(zone.answer({ type: 'A', name: 'db.shop.svc.cluster.local' })).sort(), ['10.42.1.7', '10.42.2.9']);
});

test('per-pod names of a headless Service: by hostname, else by dashed IP', () => {
  assert.deepEqual(data(zone.answer({ type: 'A', name: 'db-0.db.shop.svc.cluster.local' })), ['10.42.1.7']);
  assert.deepEqual(data(zone.answer({ type: 'A', name: '10-42-2-9.db.shop.svc.cluster.local' })), ['10.42.2.9']);
  assert.equal(zone.answer({ type: 'A', name: '10-42-3-3.db.shop.svc.cluster.local' }).kind, 'nxdomain');
  assert.equal(zone.answer({ type: 'A', name: 'x.web.default.svc.cluster.local' }).kind, 'nxdomain', 'a ClusterIP Service has no per-pod names');
});

test('SRV per named port, with the targets\' A records as additionals', () => {
  const found = zone.answer({ type: 'SRV', name: '_http._tcp.web.default.svc.cluster.local' });
  assert.deepEqual(data(found), [{ priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' }]);
  assert.deepEqual(found.kind === 'answer' ? found.additionals.map(answerData) : [], ['10.43.0.20']);
  assert.deepEqual(data(zone.answer({ type: 'SRV', name: '_dns._udp.web.default.svc.cluster.local' })).length, 1);
  const headless = zone.answer({ type: 'SRV', name: '_pg._tcp.db.shop.svc.cluster.local' });
  assert.deepEqual(data(headless).map((d) => (d as { target: string }).target).sort(), ['10-42-2-9.db.shop.svc.cluster.local', 'db-0.db.shop.svc.cluster.local']);
  assert.equal(zone.answer({ type: 'SRV', name: '_http._udp.web.default.svc.cluster.local' }).kind, 'nxdomain', 'wrong protocol');
});

test('pod names: a-b-c-d.<ns>.pod.<domain>', () => {
  assert.deepEqual(data(zone.answer({ type: 'A', name: '10-42-1-5.default.pod.cluster.local' })), ['10.42.1.5']);
  assert.equal(zone.answer({ type: 'A', name: '10-42-1-999.default.pod.cluster.local' }).kind, 'nxdomain');
});

test('PTR: a ClusterIP and a headless endpoint back to their names; other addresses are not ours', () => {
  assert.deepEqual(data(zone.answer({ type: 'PTR', name: '20.0.43.10.in-addr.arpa' })), ['web.default.svc.cluster.local']);
  assert.deepEqual(data(zone.answer({ type: 'PTR', name: '7.1.42.10.in-addr.arpa' })), ['db-0.db.shop.svc.cluster.local']);
  assert.equal(zone.answer({ type: 'PTR', name: '1.1.168.192.in-addr.arpa' }).kind, 'forward');
});

test('ExternalName: a CNAME, also when asked for A', () => {
  assert.deepEqual(answers(zone.answer({ type: 'A', name: 'ext.default.svc.cluster.local' })), [{ type: 'CNAME', name: 'ext.default.svc.cluster.local', ttl: DNS_TTL_SECONDS, data: 'example.com' }]);
});

test('missing names are NXDOMAIN, existing names of another type NODATA, both with the SOA; others are forwarded', () => {
  const missing = zone.answer({ type: 'A', name: 'nope.default.svc.cluster.local' });
  assert.equal(missing.kind, 'nxdomain');
  assert.equal(missing.kind === 'nxdomain' ? missing.authority.type : '', 'SOA');
  assert.equal(zone.answer({ type: 'A', name: 'web.other.svc.cluster.local' }).kind, 'nxdomain', 'the namespace is part of the name');
  assert.equal(zone.answer({ type: 'AAAA', name: 'web.default.svc.cluster.local' }).kind, 'nodata');
  assert.equal(zone.answer({ type: 'A', name: 'example.com' }).kind, 'forward');
  assert.equal(zone.answer({ type: 'A', name: 'evilcluster.local' }).kind, 'forward', 'a suffix match must be on a label boundary');
});

test('a Service without a ClusterIP yet (before the allocator) answers with its ready endpoints', () => {
  const early = new ClusterZone('cluster.local', [service('api', 'default', { ports: [{ port: 80 }] })], [endpoints('api', 'default', [{ ip: '10.42.0.4' }])]);
  assert.deepEqual(data(early.answer({ type: 'A', name: 'api.default.svc.cluster.local' })), ['10.42.0.4']);
});

test('limitInFlight: beyond the limit a call answers undefined at once (SERVFAIL), and frees its place when done', async () => {
  const releases: Array<() => void> = [];
  const slow = limitInFlight((n: number) => new Promise<number | undefined>((resolve) => releases.push(() => resolve(n))), 2);
  const first = slow(1);
  const second = slow(2);
  assert.equal(await slow(3), undefined, 'the third while two are in flight');
  releases.shift()!();
  assert.equal(await first, 1);
  const fourth = slow(4);
  releases.shift()!();
  releases.shift()!();
  assert.deepEqual([await second, await fourth], [2, 4]);
});
