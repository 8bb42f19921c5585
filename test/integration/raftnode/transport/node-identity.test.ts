// The peer port takes node certificates only, over real TLS with certificates of one cluster CA
// (src/identity): the admin's client certificate is refused as soon as its TLS handshake ends,
// before any hello; a certificate that only looks like a node's (CN system:node:x without
// O system:nodes) too; a node certificate whose hello claims another node's id is refused; a
// proper node is accepted and its messages delivered. Each refusal is logged with its reason.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { nodeSubject } from '../../../../src/identity/bundle.ts';
import { createCa, issueCertificate, loadCa } from '../../../../src/identity/certs.ts';
import { type ClusterCredentials, peerTls, verifyPeerCertificate, verifyPeerIdentity } from '../../../../src/identity/tls.ts';
import { encodeHello } from '../../../../src/raftnode/transport/codec.ts';
import { encodeFrame } from '../../../../src/raftnode/transport/frame.ts';
import { TcpTransport } from '../../../../src/raftnode/transport/index.ts';
import { exchange } from '../../../lib/tcp.ts';
import { waitFor } from '../../../lib/wait.ts';
import { capturingLogger, type LogLine, numbered, record, silentLogger } from '../../../unit/raftnode/transport/helpers.ts';

const CLUSTER = 'c0ffee00c0ffee00';
let ca: { certPem: string; keyPem: string };
const certs: Record<'a' | 'b' | 'c' | 'admin' | 'lookalike', { cert: string; key: string }> = {} as never;
const transports: TcpTransport[] = [];

before(async () => {
  ca = await createCa();
  const authority = await loadCa(ca.certPem, ca.keyPem);
  const issue = async (subject: string, usages: ('server' | 'client')[]) => {
    const issued = await issueCertificate(authority, { subject, usages, hosts: ['127.0.0.1'] });
    return { cert: issued.cert, key: issued.key ?? '' };
  };
  for (const name of ['a', 'b', 'c'] as const) certs[name] = await issue(nodeSubject(name), ['server', 'client']);
  certs.admin = await issue('O=system:masters, CN=admin', ['client']);
  certs.lookalike = await issue('CN=system:node:a', ['server', 'client']);
});

after(async () => {
  for (const transport of transports) await transport.stop();
});

function credentials(name: 'a' | 'b' | 'c'): ClusterCredentials {
  return { clusterId: CLUSTER, caPem: ca.certPem, certPem: certs[name].cert, keyPem: certs[name].key };
}

/** A node as `bramble up` makes it (src/node/raft.ts): peer TLS plus both identity checks. */
async function node(name: 'a' | 'b' | 'c', logger = silentLogger): Promise<TcpTransport> {
  // A handshake timeout far above the test's waits: a refusal seen must be the certificate check, not the timeout.
  const transport = new TcpTransport({ id: name, clusterId: CLUSTER, listenAddress: '127.0.0.1:0', logger, tls: peerTls(credentials(name)), verifyPeer: verifyPeerIdentity, verifyCertificate: verifyPeerCertificate, handshakeTimeoutMs: 120_000, reconnectBackoffBaseMs: 10, reconnectBackoffMaxMs: 50 });
  transports.push(transport);
  await transport.start();
  return transport;
}

/** Dials the peer port with a certificate, sends `payload` (if any), and returns what came back until the close. */
function probe(port: number, cert: { cert: string; key: string }, payload: Buffer | null): Promise<string> {
  return exchange(port, { ca: ca.certPem, cert: cert.cert, key: cert.key, checkServerIdentity: () => undefined }, payload, 60_000);
}

function hello(from: string, to: string): Buffer {
  return encodeFrame([encodeHello({ kind: 'hello', from, to, clusterId: CLUSTER })]);
}

function refusals(lines: LogLine[]): string[] {
  return lines.filter((line) => line.msg.startsWith('refused a peer connection')).map((line) => line.msg);
}

describe('the peer port accepts node certificates only', () => {
  test("the admin's client certificate: refused right after TLS, before any hello, with the reason logged", async () => {
    const { logger, lines } = capturingLogger();
    const b = await node('b', logger);
    const port = Number(b.address().split(':')[1]);
    // Sends nothing: the refusal frame can only come from the certificate check after the TLS handshake.
    const silent = await probe(port, certs.admin, null);
    assert.ok(!silent.includes('welcome'));
    assert.match(silent, /refused/);
    const withHello = await probe(port, certs.admin, hello('a', 'b'));
    assert.ok(!withHello.includes('welcome'));
    const reason = "refused a peer connection: the peer's certificate (CN=admin, O=system:masters) is not a Bramble node certificate (CN=system:node:<name>, O=system:nodes); the peer port takes only nodes";
    await waitFor('both refusals logged', () => (refusals(lines).filter((msg) => msg === reason).length === 2 ? true : null));
    assert.equal(b.stats().inbound.rejectedConnections, 2);
  });

  test('a certificate named like a node but without O=system:nodes is refused too', async () => {
    const { logger, lines } = capturingLogger();
    const b = await node('b', logger);
    const answer = await probe(Number(b.address().split(':')[1]), certs.lookalike, hello('a', 'b'));
    assert.ok(!answer.includes('welcome'));
    await waitFor('the refusal logged', () => (refusals(lines).includes("refused a peer connection: the peer's certificate (CN=system:node:a) is not a Bramble node certificate (CN=system:node:<name>, O=system:nodes); the peer port takes only nodes") ? true : null));
  });

  test("node c's genuine certificate with a hello claiming to be a: refused", async () => {
    const { logger, lines } = capturingLogger();
    const b = await node('b', logger);
    const answer = await probe(Number(b.address().split(':')[1]), certs.c, hello('a', 'b'));
    assert.ok(!answer.includes('welcome'));
    assert.match(answer, /refused/);
    await waitFor('the refusal logged', () => (refusals(lines).includes("refused a peer connection: the peer's certificate is for node c, but it claims to be a") ? true : null));
  });

  test('a proper node is accepted and its messages delivered; the refused ones never were', async () => {
    const b = await node('b');
    const atB = record(b);
    const a = await node('a');
    a.addPeer('b', b.address());
    a.send(numbered('a', 'b', 1, 3));
    await waitFor('three messages at b', () => (atB.messages.length === 3 ? true : null));
    assert.deepEqual(atB.messages.map((m) => m.from), ['a', 'a', 'a']);
    assert.equal(b.stats().inbound.rejectedConnections, 0);
  });
});
