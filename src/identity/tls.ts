// TLS options made from a node's cluster credentials, one function per kind of connection, so
// the peer transport, the store's client port and their clients agree on the rules: TLS 1.3,
// the cluster CA as the only trust anchor, and a server must present a node certificate.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { type ConnectionOptions, type PeerCertificate, type TlsOptions, TLSSocket } from 'node:tls';
import { bundleFiles } from './bundle.ts';
import { certificateFingerprint } from './certs.ts';
import { clusterIdOf } from './token.ts';

/** What a process needs to talk to the cluster: the CA and a certificate of its own. */
export interface ClusterCredentials {
  clusterId: string;
  caPem: string;
  certPem: string;
  keyPem: string;
}

export const NODE_CN_PREFIX = 'system:node:';
/** The Organization every node certificate carries (bundle.ts nodeSubject), as Kubernetes' kubelets do. */
export const NODE_ORGANIZATION = 'system:nodes';

function subjectField(cert: PeerCertificate | undefined, field: 'CN' | 'O'): string[] {
  const value = (cert?.subject as unknown as Record<string, string | string[] | undefined> | undefined)?.[field];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/**
 * The node name of a node certificate (CN system:node:<name> and O system:nodes), or undefined
 * for any other certificate of the CA: the admin's (O system:masters) or a user's.
 */
export function nodeNameOf(cert: PeerCertificate | undefined): string | undefined {
  const cn = subjectField(cert, 'CN')[0];
  if (cn === undefined || !cn.startsWith(NODE_CN_PREFIX) || cn.length === NODE_CN_PREFIX.length) return undefined;
  return subjectField(cert, 'O').includes(NODE_ORGANIZATION) ? cn.slice(NODE_CN_PREFIX.length) : undefined;
}

/** "CN=admin, O=system:masters": how a refusal names a certificate. */
function describeSubject(cert: PeerCertificate | undefined): string {
  const parts = [...subjectField(cert, 'CN').map((v) => `CN=${v}`), ...subjectField(cert, 'O').map((v) => `O=${v}`)];
  return parts.length === 0 ? 'no subject' : parts.join(', ');
}

/**
 * For the peer transport's verifyCertificate, as soon as the TLS handshake is done and before
 * any hello: the peer port takes node certificates only. The admin's or a user's certificate
 * of the same CA is refused at once, not kept open until it says who it is.
 */
export function verifyPeerCertificate(socket: Socket): string | null {
  if (!(socket instanceof TLSSocket)) return 'the peer connection is not TLS';
  if (!socket.authorized) return `the peer's certificate was not verified (${String(socket.authorizationError ?? 'none sent')})`;
  const cert = socket.getPeerCertificate();
  if (nodeNameOf(cert) !== undefined) return null;
  return `the peer's certificate (${describeSubject(cert)}) is not a Bramble node certificate (CN=system:node:<name>, O=${NODE_ORGANIZATION}); the peer port takes only nodes`;
}

/**
 * Accepts any node certificate of the cluster CA, whatever address was dialed: boards move
 * between addresses (DHCP, mDNS), and the CA, not the host name, is what we trust.
 */
function checkNodeServer(_host: string, cert: PeerCertificate): Error | undefined {
  return nodeNameOf(cert) === undefined ? new Error(`the server's certificate (CN ${String((cert.subject as unknown as Record<string, unknown>)['CN'])}) is not a Bramble node certificate`) : undefined;
}

/**
 * For the peer transport's verifyPeer: a node speaks only under the name its certificate gives
 * (a member cannot pose as another in Raft).
 */
export function verifyPeerIdentity(claimed: string, socket: Socket): string | null {
  if (!(socket instanceof TLSSocket)) return 'the peer connection is not TLS';
  const name = nodeNameOf(socket.getPeerCertificate());
  if (name === undefined) return `the peer claiming to be ${claimed} has no node certificate`;
  return name === claimed ? null : `the peer's certificate is for node ${name}, but it claims to be ${claimed}`;
}

/** Peer (Raft) transport: both sides present node certificates; no certificate, no connection. */
export function peerTls(credentials: ClusterCredentials): { server: TlsOptions; client: Omit<ConnectionOptions, 'host' | 'port' | 'socket' | 'path'> } {
  const { caPem: ca, certPem: cert, keyPem: key } = credentials;
  return {
    server: { ca, cert, key, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' },
    client: { ca, cert, key, minVersion: 'TLSv1.3', checkServerIdentity: checkNodeServer },
  };
}

/**
 * The store's client port: a client certificate is asked for but not required at the handshake,
 * so a node that only has a join token can reach the join endpoint; every other request needs
 * `socket.authorized` (the server answers 401 otherwise).
 */
export function storeServerTls(credentials: ClusterCredentials): TlsOptions {
  // The chain includes the CA: a node that holds only the token checks it against the token's fingerprint (src/identity/join.ts).
  return { ca: credentials.caPem, cert: `${credentials.certPem.trimEnd()}\n${credentials.caPem}`, key: credentials.keyPem, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.3' };
}

/** For clients of the store's client port (CLI, the joining node, snapshot fetches, tests). */
export function storeClientTls(credentials: ClusterCredentials): Pick<ConnectionOptions, 'ca' | 'cert' | 'key' | 'minVersion' | 'checkServerIdentity'> {
  return { ca: credentials.caPem, cert: credentials.certPem, key: credentials.keyPem, minVersion: 'TLSv1.3', checkServerIdentity: checkNodeServer };
}

/**
 * Credentials found in `dir`: a node data dir (its bundle/ with node.crt) or a bundle dir
 * (node.crt if a node made one, else admin.crt). Null when there are none (a data dir from
 * before bundles existed: its node speaks plain TCP).
 */
export function findClusterCredentials(dir: string): ClusterCredentials | null {
  const bundleDir = existsSync(join(dir, 'bundle', bundleFiles.caCert)) ? join(dir, 'bundle') : dir;
  const file = (f: string) => join(bundleDir, f);
  if (!existsSync(file(bundleFiles.caCert))) return null;
  const pair = existsSync(file(bundleFiles.nodeCert)) ? [bundleFiles.nodeCert, bundleFiles.nodeKey] : [bundleFiles.adminCert, bundleFiles.adminKey];
  if (!existsSync(file(pair[0]!)) || !existsSync(file(pair[1]!))) return null;
  const caPem = readFileSync(file(bundleFiles.caCert), 'utf8');
  return { clusterId: clusterIdOf(certificateFingerprint(caPem)), caPem, certPem: readFileSync(file(pair[0]!), 'utf8'), keyPem: readFileSync(file(pair[1]!), 'utf8') };
}
