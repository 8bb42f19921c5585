import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { type Announcement, announcementRecords, parseTxt, peersInPacket, serviceType, txtStrings } from '../../../src/discovery/records.ts';

const base: Announcement = {
  clusterId: 'c0ffee',
  nodeName: 'pi-1',
  nodeId: '0123456789ab',
  peerPort: 7380,
  clientPort: 7379,
  apiPort: 6443,
  arch: 'arm64',
  version: '0.1.0',
  state: 'forming',
  boot: ['0123456789ab', 'aaaaaaaaaaaa'],
  phase: 'propose',
  unicast: false,
  addresses: ['10.0.0.5'],
};

test('records survive the real DNS codec: PTR/SRV/TXT/A in, the same announcement out', () => {
  const wire = dnsPacket.encode({ type: 'response', answers: announcementRecords(base) });
  const { peers, departed } = peersInPacket(dnsPacket.decode(wire), '10.0.0.9');
  assert.deepEqual(departed, []);
  assert.deepEqual(peers, [{ ...base, sourceAddress: '10.0.0.9' }]);
  const types = dnsPacket.decode(wire).answers!.map((answer) => `${answer.type} ${answer.name}`);
  assert.deepEqual(types, [`PTR ${serviceType}`, 'PTR _services._dns-sd._udp.local', `SRV pi-1-012345.${serviceType}`, `TXT pi-1-012345.${serviceType}`, 'A bramble-0123456789ab.local']);
});

test('TTL 0 is a goodbye; a packet without A records falls back to the sender address', () => {
  const goodbye = peersInPacket(dnsPacket.decode(dnsPacket.encode({ type: 'response', answers: announcementRecords(base, 0) })), '10.0.0.9');
  assert.deepEqual(goodbye, { peers: [], departed: ['0123456789ab'] });
  const txtOnly = announcementRecords({ ...base, addresses: [] }).filter((record) => record.type === 'TXT');
  const [peer] = peersInPacket({ answers: txtOnly, additionals: [] }, '10.0.0.9').peers;
  assert.equal(peer?.sourceAddress, '10.0.0.9');
  assert.deepEqual(peer?.addresses, []);
});

test('malformed TXT records are rejected, never thrown', () => {
  const good = txtStrings(base);
  const replace = (key: string, value: string | null) => good.filter((item) => !item.startsWith(`${key}=`)).concat(value === null ? [] : [`${key}=${value}`]);
  const bad: [string, (string | Buffer)[]][] = [
    ['no cluster', replace('cluster', null)],
    ['empty cluster', replace('cluster', '')],
    ['upper-case name', replace('name', 'Pi-1')],
    ['short id', replace('id', '1234')],
    ['peer port out of range', replace('peer', '70000')],
    ['peer port not a number', replace('peer', '73a')],
    ['client port zero', replace('client', '0')],
    ['unknown state', replace('state', 'leader')],
    ['boot list with a bad id', replace('boot', '0123456789ab,xyz')],
    ['boot list too long', replace('boot', Array(10).fill('0123456789ab').join(','))],
    ['binary junk', [Buffer.from([0xff, 0x00, 0x3d]), Buffer.alloc(0)]],
  ];
  for (const [what, txt] of bad) assert.equal(parseTxt(txt), null, what);
  assert.equal(parseTxt('cluster=x'), null);
  // Duplicate keys: the first one counts (RFC 6763 §6.4); a missing api port means "off".
  assert.equal(parseTxt([...replace('api', null), 'name=other'])?.nodeName, 'pi-1');
  assert.equal(parseTxt(replace('api', null))?.apiPort, 0);
  assert.equal(parseTxt(replace('phase', 'weird'))?.phase, null);
});

test('peersInPacket ignores records of other shapes and other services', () => {
  const packet = {
    answers: [
      { type: 'TXT', name: 'printer._ipp._tcp.local', data: txtStrings(base) },
      { type: 'TXT', name: `x.${serviceType}` },
      { type: 'SRV', name: `x.${serviceType}`, data: 'not an object' },
      { type: 'A', name: 'bramble-0123456789ab.local', data: '999.1.1.1' },
      null,
      42,
    ],
    additionals: 'nope',
  } as never;
  assert.deepEqual(peersInPacket(packet, '10.0.0.9'), { peers: [], departed: [] });
});
