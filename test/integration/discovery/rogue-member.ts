// A rogue board for the token-only join test: announces itself by mDNS as a *member* of a cluster
// id it does not hold (lowest possible node id, so a joiner tries it first), and serves TLS on its
// "client port" with a certificate of another CA, optionally with the real CA certificate (which
// is public) appended to its chain. Prints READY, then one CONNECTION line per TLS connection.
// Run inside a NetnsLab host.
//   rogue-member.ts <dataDir> <host> <clientPort> <clusterId> [<real ca.crt to show>]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:tls';
import pino from 'pino';
import { NodeDiscovery } from '../../../src/discovery/node-discovery.ts';
import { createCa, issueCertificate, loadCa } from '../../../src/identity/certs.ts';

const [dataDir, host, clientPortText, clusterId, realCaFile] = process.argv.slice(2);
if (!dataDir || !host || !clientPortText || !clusterId) throw new Error('usage: rogue-member.ts <dataDir> <host> <clientPort> <clusterId> [<real ca.crt>]');
const clientPort = Number(clientPortText);
mkdirSync(dataDir, { recursive: true });
writeFileSync(join(dataDir, 'node-id'), '000000000000\n');

const ca = await createCa();
const leaf = await issueCertificate(await loadCa(ca.certPem, ca.keyPem), { subject: 'O=system:nodes, CN=system:node:rogue', usages: ['server', 'client'], hosts: [host] });
const chain = `${leaf.cert}${realCaFile ? readFileSync(realCaFile, 'utf8') : ca.certPem}`;
const server = createServer({ cert: chain, key: leaf.key ?? '', minVersion: 'TLSv1.3' }, (socket) => {
  socket.on('error', () => undefined);
  socket.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}');
});
// Counted at TCP accept: the joiner hangs up as soon as it has seen the chain, maybe before the server's side of the handshake ends.
server.on('connection', (socket) => console.log(`CONNECTION ${socket.remoteAddress}`));
server.on('tlsClientError', () => undefined);
await new Promise<void>((resolve) => server.listen(clientPort, host, resolve));

const discovery = new NodeDiscovery({
  clusterId,
  nodeName: 'rogue',
  dataDir,
  host,
  peerPort: clientPort + 1,
  clientPort,
  apiPort: 0,
  version: '0.1.0',
  expect: null,
  settleMs: 1000,
  announceIntervalMs: 200,
  unicastHosts: [],
  logger: pino({ level: 'warn' }),
});
await discovery.start();
discovery.markMember();
console.log(`READY ${discovery.nodeId}`);
// What it hears of the cluster it poses as: the genuine members, and any board that joins later.
let last = '';
const timer = setInterval(() => {
  const line = `MEMBERS ${discovery.members().map((peer) => peer.nodeName).sort().join(',')}`;
  if (line !== last) console.log(line);
  last = line;
}, 100);
process.on('SIGTERM', () => {
  clearInterval(timer);
  server.close();
  void discovery.stop().then(() => process.exit(0));
});
