// The cluster DNS server's transports and resolver on loopback: real UDP and TCP sockets, a second
// instance of the same server as the "upstream" resolver, and hostile packets that must be dropped
// without stopping the answers that follow.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import dnsPacket from 'dns-packet';
import type { KubeObject } from '../../../src/client/index.ts';
import { answerQuery, RCODE, type ResolverCounters } from '../../../src/net/dns/resolver.ts';
import { type RunningDnsServer, startDnsServer } from '../../../src/net/dns/server.ts';
import { forwardQuery } from '../../../src/net/dns/upstream.ts';
import { ClusterZone } from '../../../src/net/dns/zone.ts';
import { answerData, dnsQuery, rcodeOf, tcpExchange, udpExchange } from '../../lib/dns-client.ts';
import { freePort } from '../../lib/ports.ts';

const HOST = '127.0.0.1';
const backends = Array.from({ length: 60 }, (_, i) => ({ ip: `10.42.${Math.floor(i / 250)}.${(i % 250) + 2}` }));
const objects: KubeObject[] = [
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.43.0.20', ports: [{ name: 'http', port: 80 }] } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'many', namespace: 'default' }, spec: { clusterIP: 'None' } },
];
const manyEndpoints: KubeObject = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'many', namespace: 'default' }, subsets: [{ addresses: backends }] };

// The upstream: the same server code with a zone of its own ("example.test" stands for the internet).
const upstreamZone = new ClusterZone('example.test', [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'www', namespace: 'public' }, spec: { clusterIP: '192.0.2.7' } }], []);
let upstream: RunningDnsServer;
let server: RunningDnsServer;
let offline: RunningDnsServer;
const counters: ResolverCounters = { dropped: 0, answered: 0, forwarded: 0, failed: 0 };
const upstreamCounters: ResolverCounters = { dropped: 0, answered: 0, forwarded: 0, failed: 0 };

before(async () => {
  upstream = await startDnsServer({ host: HOST, port: 0, handle: (q, limit) => answerQuery(q, { zone: () => upstreamZone, forward: () => Promise.resolve(undefined), counters: upstreamCounters }, limit) });
  const zone = new ClusterZone('cluster.local', objects, [manyEndpoints]);
  server = await startDnsServer({ host: HOST, port: 0, handle: (q, limit) => answerQuery(q, { zone: () => zone, forward: (raw) => forwardQuery(raw, { servers: [`${HOST}:${upstream.port}`] }), counters }, limit) });
  // An offline site: the only upstream is a closed port (the ICMP answer refuses at once).
  const closed = await freePort();
  offline = await startDnsServer({ host: HOST, port: 0, handle: (q, limit) => answerQuery(q, { zone: () => zone, forward: (raw) => forwardQuery(raw, { servers: [`${HOST}:${closed}`] }), counters: { ...counters } }, limit) });
});
after(async () => {
  await server?.stop();
  await offline?.stop();
  await upstream?.stop();
});

const target = () => ({ host: HOST, port: server.port });

test('a cluster name over UDP and over TCP: authoritative, the query id echoed, recursion available', async () => {
  const query = dnsQuery('web.default.svc.cluster.local');
  for (const exchange of [udpExchange, tcpExchange]) {
    const answer = await exchange(target(), query);
    assert.ok(answer, `${exchange.name}: an answer`);
    assert.equal(answer.id, query.readUInt16BE(0));
    assert.equal(answer.flag_aa, true);
    assert.equal(answer.flag_ra, true);
    assert.equal(rcodeOf(answer), RCODE.NOERROR);
    assert.deepEqual(answer.answers?.map(answerData), ['10.43.0.20']);
  }
});

test('a missing cluster name is NXDOMAIN with the zone SOA; AAAA of a Service is NODATA', async () => {
  const missing = await udpExchange(target(), dnsQuery('nope.default.svc.cluster.local'));
  assert.equal(missing && rcodeOf(missing), RCODE.NXDOMAIN);
  assert.equal(missing?.authorities?.[0]?.type, 'SOA');
  const aaaa = await udpExchange(target(), dnsQuery('web.default.svc.cluster.local', 'AAAA'));
  assert.equal(aaaa && rcodeOf(aaaa), RCODE.NOERROR);
  assert.deepEqual(aaaa?.answers, []);
});

test('other names go to the upstream resolver and its answer comes back as it is', async () => {
  const answer = await udpExchange(target(), dnsQuery('www.public.svc.example.test'));
  assert.deepEqual(answer?.answers?.map(answerData), ['192.0.2.7']);
  assert.equal(answer?.flag_aa, true, 'the upstream is authoritative for its zone');
  assert.ok(counters.forwarded >= 1);
});

test('an offline site: no upstream answers, the client gets SERVFAIL (not silence)', async () => {
  const answer = await udpExchange({ host: HOST, port: offline.port }, dnsQuery('example.com'));
  assert.ok(answer, 'an answer, not a timeout');
  assert.equal(rcodeOf(answer), RCODE.SERVFAIL);
});

test('an answer too big for UDP is truncated (TC) and complete over TCP', async () => {
  const query = dnsQuery('many.default.svc.cluster.local');
  const overUdp = await udpExchange(target(), query);
  assert.equal(overUdp?.flag_tc, true);
  assert.deepEqual(overUdp?.answers, []);
  const overTcp = await tcpExchange(target(), query);
  assert.equal(overTcp?.flag_tc, false);
  assert.equal(overTcp?.answers?.length, backends.length);
});

test('hostile packets are dropped and counted; the server keeps answering', async () => {
  const longLabel = dnsPacket.encode({ type: 'query', id: 9, questions: [{ type: 'A', name: `${'a'.repeat(64)}.default.svc.cluster.local` }] });
  const longName = dnsPacket.encode({ type: 'query', id: 10, questions: [{ type: 'A', name: Array.from({ length: 60 }, () => 'abcd').join('.') }] });
  const aResponse = dnsPacket.encode({ type: 'response', id: 11, questions: [{ type: 'A', name: 'web.default.svc.cluster.local' }] });
  const twoQuestions = dnsPacket.encode({ type: 'query', id: 12, questions: [{ type: 'A', name: 'a.b' }, { type: 'A', name: 'c.d' }] });
  const hostile = [Buffer.alloc(0), Buffer.from([0x12]), Buffer.from('this is not dns at all'), dnsQuery('web.default.svc.cluster.local').subarray(0, 20), longLabel, longName, aResponse, twoQuestions];
  const before = counters.dropped;
  for (const bytes of hostile) assert.equal(await udpExchange(target(), bytes, 300), undefined, `no answer to ${bytes.toString('hex').slice(0, 24)}`);
  assert.equal(counters.dropped - before, hostile.length, 'every one counted');
  const after = await udpExchange(target(), dnsQuery('web.default.svc.cluster.local'));
  assert.deepEqual(after?.answers?.map(answerData), ['10.43.0.20']);
});

test('TCP: a frame split in pieces is answered; garbage frames and a half frame do not hurt others', async () => {
  const query = dnsQuery('web.default.svc.cluster.local');
  const framed = Buffer.concat([Buffer.from([0, query.length]), query]);
  const answered = await new Promise<boolean>((resolve) => {
    const socket = net.connect(server.port, HOST);
    socket.on('data', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
    socket.write(framed.subarray(0, 3));
    setTimeout(() => socket.write(framed.subarray(3)), 50);
  });
  assert.equal(answered, true);
  const garbage = net.connect(server.port, HOST);
  garbage.on('error', () => undefined);
  garbage.write(Buffer.concat([Buffer.from([0, 5]), Buffer.from('junk!'), Buffer.from([0xff, 0xff]), Buffer.alloc(100)]));
  const stillFine = await tcpExchange(target(), query);
  garbage.destroy();
  assert.deepEqual(stillFine?.answers?.map(answerData), ['10.43.0.20']);
});
