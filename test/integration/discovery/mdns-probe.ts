// A discovery node without Raft, for the mDNS tests: announces itself, browses, and prints its
// peer table (one JSON line per change) and counters on stdout. Run inside a NetnsLab host.
//   mdns-probe.ts <name> <dataDir> <host> [--cluster ID] [--garbage] [--join HOST]
import { createSocket } from 'node:dgram';
import pino from 'pino';
import { NodeDiscovery } from '../../../src/discovery/node-discovery.ts';
import { mdnsGroup } from '../../../src/discovery/mdns.ts';

const [name, dataDir, host, ...rest] = process.argv.slice(2);
const flag = (key: string) => {
  const at = rest.indexOf(key);
  return at >= 0 ? rest[at + 1] : undefined;
};
if (!name || !dataDir || !host) throw new Error('usage: mdns-probe.ts <name> <dataDir> <host> [--cluster ID] [--join HOST] [--garbage]');

if (rest.includes('--garbage')) {
  // Garbage at the mDNS group: random bytes, truncated headers, and a well-formed packet whose
  // TXT for our service type is malformed in every way a peer could get it wrong.
  const { default: makeMdns } = await import('multicast-dns');
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve) => socket.bind(0, host, () => resolve()));
  socket.setMulticastInterface(host);
  const blobs = [Buffer.alloc(0), Buffer.from([0, 0, 0x84, 0, 0, 0, 0, 5]), Buffer.from('not a dns packet at all'), Buffer.alloc(600, 0xff)];
  for (let i = 0; i < 20; i++) blobs.push(Buffer.from(Array.from({ length: 12 + ((i * 37) % 300) }, (_, j) => (i * 131 + j * 17) % 256)));
  for (const blob of blobs) await new Promise((resolve) => socket.send(blob, 5353, mdnsGroup, resolve));
  socket.close();
  const mdns = makeMdns({ interface: host, bind: false });
  const bad = (txt: string[] | Buffer[]) => ({ name: `x-1.${'_bramble._tcp.local'}`, type: 'TXT' as const, ttl: 120, data: txt });
  const malformed = [
    bad(['cluster=test', 'name=UPPER', 'id=0123456789ab', 'peer=1', 'client=2', 'state=forming']),
    bad(['cluster=test', 'name=ok', 'id=short', 'peer=1', 'client=2', 'state=forming']),
    bad(['cluster=test', 'name=ok', 'id=0123456789ab', 'peer=99999', 'client=2', 'state=forming']),
    bad(['cluster=test', 'name=ok', 'id=0123456789ab', 'peer=1', 'client=2', 'state=bogus']),
    bad(['cluster=test', 'name=ok', 'id=0123456789ab', 'peer=1', 'client=2', 'state=forming', 'boot=zz,yy']),
    bad([Buffer.from([0xff, 0xfe, 0x3d]), Buffer.from('=novalue'), Buffer.alloc(0)]),
    bad([]),
  ];
  for (const record of malformed) await new Promise((resolve) => mdns.respond({ answers: [record] }, resolve));
  await new Promise<void>((resolve) => mdns.destroy(() => resolve()));
  console.log('GARBAGE-SENT');
  process.exit(0);
}

const join = flag('--join');
const discovery = new NodeDiscovery({
  clusterId: flag('--cluster') ?? 'test',
  nodeName: name,
  dataDir,
  host,
  peerPort: 7380,
  clientPort: 7379,
  apiPort: 6443,
  version: '0.1.0',
  expect: null,
  settleMs: 1000,
  announceIntervalMs: 300,
  unicastHosts: join ? [join] : [],
  logger: pino({ level: 'warn' }),
});
await discovery.start();
console.log(`READY ${discovery.nodeId}`);
let last = '';
const timer = setInterval(() => {
  const table = discovery.peers().map((peer) => ({ name: peer.nodeName, id: peer.nodeId, cluster: peer.clusterId, addresses: peer.addresses, state: peer.state, peerPort: peer.peerPort }));
  table.sort((a, b) => a.name.localeCompare(b.name));
  const line = JSON.stringify({ peers: table, garbage: discovery.counters.garbage });
  if (line !== last) console.log(`PEERS ${line}`);
  last = line;
}, 100);
process.on('SIGTERM', () => {
  clearInterval(timer);
  void discovery.stop().then(() => process.exit(0));
});
