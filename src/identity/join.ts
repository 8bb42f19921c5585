// Joining with only the token, over the store's client port (HTTPS, no client certificate yet):
//
//   joiner                                              member
//   TLS 1.3 (server certificate chain: node cert + CA) ->
//   checks a certificate of the chain has the token's CA fingerprint, else refuses the peer
//   POST /v1/join/credentials {name, hosts, publicKey, proof}
//     proof = HMAC-SHA256(secret, label | name | publicKey | EKM)  ->  recomputes it with its own
//                                                        secret and its side's EKM; 403 if wrong
//                                                    <-  {clusterId, caCert, nodeCert, sealed}
//   checks caCert's fingerprint, the server certificate is from that CA, nodeCert is for its key,
//   opens `sealed` (AES-256-GCM under HKDF(secret, EKM)): {caKey, encryptionKeys}
//
// EKM is the TLS session's exported keying material (RFC 8446 §7.5): both ends of *this* session
// compute the same bytes, a man in the middle has two sessions with two EKMs, so a proof or a
// sealed answer cannot be replayed or relayed elsewhere. The secret itself never travels. Only a
// holder of the secret can open `sealed`, and only a holder of the CA key could issue nodeCert,
// so the joiner also learns the member is genuine. Every member can admit: joining hands over
// the CA key (encrypted), since mDNS may lead a new board to any member.
import { createCipheriv, createDecipheriv, createHmac, generateKeyPairSync, hkdfSync, randomBytes, timingSafeEqual, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, request as httpRequest, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { connect, TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { type Bundle, bundleFiles, nodeSubject, writePrivate } from './bundle.ts';
import { certificateFingerprint, issueCertificate, issuedBy, loadCa } from './certs.ts';
import { defaultProofLimit, type ProofLimitConfig, ProofLimiter } from './rate-limit.ts';
import { parseJoinToken } from './token.ts';

/** Under the store's join prefix (src/store/wire.ts joinPathPrefix), which needs no client certificate. */
export const JOIN_CREDENTIALS_PATH = '/v1/join/credentials';
const EKM_LABEL = 'EXPORTER-bramble-join-v1';
const EKM_BYTES = 32;
const PROOF_LABEL = 'bramble-join-proof-v1';
const SEAL_INFO = 'bramble-join-seal-v1';
const MAX_BODY_BYTES = 64 * 1024;
const MAX_HOSTS = 64;
const dns1123Label = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * Why a join did not happen, for a caller that tries several members (mDNS): `foreign-ca` — the
 * peer is not of the token's cluster (try the next one, never this one again); `unreachable` — no
 * TLS answer (try again later); `bad-proof` — a genuine member (its certificate is from the
 * token's CA) refused the proof, so the token's secret is wrong; `invalid-answer` — anything else.
 */
export type JoinErrorReason = 'foreign-ca' | 'unreachable' | 'bad-proof' | 'invalid-answer';

/** The join did not happen; the message says why and what to do. */
export class JoinError extends Error {
  constructor(
    message: string,
    readonly reason: JoinErrorReason = 'invalid-answer',
  ) {
    super(message);
    this.name = 'JoinError';
  }
}

export interface JoinedCredentials {
  clusterId: string;
  token: string;
  caCertPem: string;
  caKeyPem: string;
  nodeCertPem: string;
  nodeKeyPem: string;
  encryptionKeysJson: string;
  name: string;
  hosts: string[];
}

function proofOf(secret: Buffer, name: string, publicKeyPem: string, ekm: Buffer): Buffer {
  return createHmac('sha256', secret).update(`${PROOF_LABEL}\0${name}\0${publicKeyPem}\0`).update(ekm).digest();
}

function sealKey(secret: Buffer, ekm: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, ekm, SEAL_INFO, 32));
}

function seal(key: Buffer, plaintext: string): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64');
}

function open(key: Buffer, sealed: string): string | null {
  const bytes = Buffer.from(sealed, 'base64');
  if (bytes.length < 12 + 16) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    return Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

function ekmOf(socket: TLSSocket): Buffer | null {
  if (socket.getProtocol() !== 'TLSv1.3') return null;
  return socket.exportKeyingMaterial(EKM_BYTES, EKM_LABEL, Buffer.alloc(0));
}

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function readJson(request: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const tooLarge = () => new HttpFailure(413, 'too-large', `a join request is at most ${MAX_BODY_BYTES} bytes`);
    request.on('data', (chunk: Buffer) => {
      total += chunk.length;
      // Drained up to a bound so the 413 reaches the client; beyond it the connection is cut.
      if (total > 16 * MAX_BODY_BYTES) {
        reject(tooLarge());
        request.destroy();
      } else if (total <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () => {
      if (total > MAX_BODY_BYTES) {
        reject(tooLarge());
        return;
      }
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new HttpFailure(400, 'invalid-request', 'the join request body must be JSON: {"name", "hosts", "publicKey", "proof"}'));
      }
    });
    request.on('error', reject);
  });
}

interface JoinRequest {
  name: string;
  hosts: string[];
  publicKey: string;
  proof: Buffer;
}

function parseJoinRequest(body: unknown): JoinRequest {
  const bad = (message: string) => new HttpFailure(400, 'invalid-request', message);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('the join request must be a JSON object {"name", "hosts", "publicKey", "proof"}');
  const { name, hosts, publicKey, proof } = body as Record<string, unknown>;
  if (typeof name !== 'string' || !dns1123Label.test(name)) throw bad('name must be a node name: lower-case letters, digits and -, at most 63 characters');
  if (!Array.isArray(hosts) || hosts.length > MAX_HOSTS || !hosts.every((h) => typeof h === 'string' && h.length > 0 && h.length <= 253 && /^[A-Za-z0-9.:_-]+$/.test(h))) {
    throw bad(`hosts must be a list of at most ${MAX_HOSTS} host names or IP addresses`);
  }
  if (typeof publicKey !== 'string' || !publicKey.startsWith('-----BEGIN PUBLIC KEY-----') || publicKey.length > 4096) throw bad('publicKey must be a PEM public key (SPKI)');
  if (typeof proof !== 'string' || !/^[0-9a-f]{64}$/.test(proof)) throw bad('proof must be 64 hex digits (HMAC-SHA256)');
  return { name, hosts: hosts as string[], publicKey, proof: Buffer.from(proof, 'hex') };
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const bytes = Buffer.from(JSON.stringify(body));
  response.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': bytes.length });
  response.end(bytes);
}

/**
 * The member's side, for StoreServer's `join` option: answers POST /v1/join/credentials on a TLS
 * 1.3 connection; anything else under the prefix is a 404 or 405 with a JSON error.
 */
export function createJoinHandler(options: { bundle: Bundle; logger: Logger; proofLimit?: ProofLimitConfig }): (request: IncomingMessage, response: ServerResponse) => void {
  const { bundle, logger } = options;
  const limiter = new ProofLimiter(options.proofLimit ?? defaultProofLimit);
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = new URL(request.url ?? '/', 'https://member').pathname;
    if (path !== JOIN_CREDENTIALS_PATH) throw new HttpFailure(404, 'not-found', `no join API at ${path}; a new node posts to ${JOIN_CREDENTIALS_PATH}`);
    if (request.method !== 'POST') throw new HttpFailure(405, 'method-not-allowed', `${request.method} ${path}: the join takes POST with a JSON body`);
    const socket = request.socket;
    const ekm = socket instanceof TLSSocket ? ekmOf(socket) : null;
    if (!ekm) throw new HttpFailure(400, 'tls-required', 'the join needs TLS 1.3 (its proof is bound to the TLS session)');
    const joinRequest = parseJoinRequest(await readJson(request));
    const remote = socket.remoteAddress ?? 'unknown';
    // Before the proof is checked, so an address that keeps guessing learns nothing more.
    const blockedMs = limiter.blockedForMs(remote);
    if (blockedMs > 0) {
      const seconds = Math.ceil(blockedMs / 1000);
      throw new HttpFailure(429, 'too-many-wrong-proofs', `too many wrong join proofs from ${remote}: try again in ${seconds} s, with the right token (\`bramble token\` on a member prints it)`, { 'retry-after': String(seconds) });
    }
    const expected = proofOf(bundle.secret, joinRequest.name, joinRequest.publicKey, ekm);
    if (!timingSafeEqual(expected, joinRequest.proof)) {
      const nowLimited = limiter.recordFailure(remote);
      logger.warn({ remote, name: joinRequest.name }, nowLimited ? 'refused a join: the proof does not match this cluster\'s token; further join requests from this address are refused (429) for a while' : 'refused a join: the proof does not match this cluster\'s token');
      throw new HttpFailure(403, 'bad-proof', 'the join proof does not match this cluster\'s token: check the token (`bramble token` on a member prints it)');
    }
    let nodeCert: string;
    try {
      nodeCert = (await issueCertificate(await loadCa(bundle.caCertPem, bundle.caKeyPem), { subject: nodeSubject(joinRequest.name), usages: ['server', 'client'], hosts: [...new Set([joinRequest.name, ...joinRequest.hosts])], publicKeyPem: joinRequest.publicKey })).cert;
    } catch (error) {
      throw new HttpFailure(400, 'invalid-request', `publicKey is not an ECDSA P-256 public key (${(error as Error).message})`);
    }
    const sealed = seal(sealKey(bundle.secret, ekm), JSON.stringify({ caKey: bundle.caKeyPem, encryptionKeys: bundle.encryptionKeysJson }));
    logger.info({ remote: socket.remoteAddress, name: joinRequest.name }, 'issued credentials to a node that proved it holds the join token');
    sendJson(response, 200, { clusterId: bundle.clusterId, caCert: bundle.caCertPem, nodeCert, sealed });
  };
  return (request, response) => {
    handle(request, response).catch((error: unknown) => {
      const failure = error instanceof HttpFailure ? error : new HttpFailure(500, 'internal', error instanceof Error ? error.message : String(error));
      if (failure.status >= 500) logger.error({ err: error }, 'join request failed');
      if (!response.headersSent) sendJson(response, failure.status, { error: { code: failure.code, message: failure.message } }, failure.headers);
    });
  };
}

function toPem(raw: Buffer): string {
  return `${new X509Certificate(raw).toString().trim()}\n`;
}

/** The certificates the server sent, leaf first (Node rebuilds the chain from what the peer presented). */
function presentedChain(socket: TLSSocket): string[] {
  const chain: string[] = [];
  let cert = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (cert && cert.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push(toPem(cert.raw));
    cert = cert.issuerCertificate;
  }
  return chain;
}

function hostPort(address: string): { host: string; port: number } {
  const separator = address.lastIndexOf(':');
  return { host: address.slice(0, separator).replace(/^\[|\]$/g, ''), port: Number(address.slice(separator + 1)) };
}

/**
 * The joiner's side: proves the token to the member at `via` (its client address) and returns
 * this node's credentials. Throws JoinError when the peer is not the token's cluster, refuses the
 * secret, or cannot be reached.
 */
export async function joinWithToken(options: { token: string; via: string; name: string; hosts: readonly string[]; timeoutMs?: number }): Promise<JoinedCredentials> {
  const token = parseJoinToken(options.token);
  const timeoutMs = options.timeoutMs ?? 15_000;
  const { host, port } = hostPort(options.via);
  const socket = await new Promise<TLSSocket>((resolve, reject) => {
    // The CA is not known yet: the chain is checked against the token's fingerprint below.
    const s = connect({ host, port, minVersion: 'TLSv1.3', rejectUnauthorized: false, ...(/^[\d.]+$|:/.test(host) ? {} : { servername: host }) }, () => resolve(s));
    s.setTimeout(timeoutMs, () => s.destroy(new Error(`no TLS answer within ${timeoutMs} ms`)));
    s.once('error', (error) => reject(new JoinError(`could not reach ${options.via} over TLS (${error.message}); is it the client address of a member (--client-addr)?`, 'unreachable')));
  });
  try {
    const chain = presentedChain(socket);
    const pinned = chain.find((pem) => certificateFingerprint(pem) === token.caFingerprint);
    if (pinned === undefined) {
      throw new JoinError(`${options.via} is not a member of the token's cluster ${token.clusterId}: its certificate chain does not contain the CA the token pins (sha256 ${token.caFingerprint.slice(0, 16)}…). Refusing it; check the address and the token`, 'foreign-ca');
    }
    // Checked before the proof is sent too: the CA certificate is public, so a server that merely
    // shows it is refused here, and a refusal of the proof (below) comes from a genuine member.
    if (!issuedBy(chain[0]!, pinned)) throw new JoinError(`${options.via}'s own certificate is not from the token's CA: refusing it`, 'foreign-ca');
    const ekm = ekmOf(socket);
    if (!ekm) throw new JoinError(`${options.via} did not negotiate TLS 1.3, which the join needs`);
    const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const publicKey = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const body = Buffer.from(JSON.stringify({ name: options.name, hosts: options.hosts, publicKey, proof: proofOf(token.secret, options.name, publicKey, ekm).toString('hex') }));
    const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest({ createConnection: () => socket, method: 'POST', path: JOIN_CREDENTIALS_PATH, headers: { 'content-type': 'application/json', 'content-length': body.length, host: options.via } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (error) => reject(new JoinError(`the join request to ${options.via} failed: ${error.message}`, 'unreachable')));
      req.end(body);
    });
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(answer.text) as Record<string, unknown>;
    } catch {
      throw new JoinError(`${options.via} answered the join with HTTP ${answer.status} and no JSON`);
    }
    if (answer.status !== 200) {
      const message = (parsed['error'] as { message?: string } | undefined)?.message ?? 'no reason given';
      throw new JoinError(`${options.via} refused the join (HTTP ${answer.status}): ${message}`, answer.status === 403 ? 'bad-proof' : 'invalid-answer');
    }
    const { caCert, nodeCert, sealed } = parsed;
    if (typeof caCert !== 'string' || typeof nodeCert !== 'string' || typeof sealed !== 'string') throw new JoinError(`${options.via} answered the join without caCert, nodeCert and sealed`);
    if (certificateFingerprint(caCert) !== token.caFingerprint) throw new JoinError(`${options.via} sent a CA that is not the one the token pins: refusing it`, 'foreign-ca');
    if (!issuedBy(chain[0]!, caCert)) throw new JoinError(`${options.via}'s own certificate is not from the token's CA: refusing it`, 'foreign-ca');
    if (!issuedBy(nodeCert, caCert) || !new X509Certificate(nodeCert).publicKey.equals(keys.publicKey)) throw new JoinError(`${options.via} sent a node certificate that is not for this node's key or not from the CA`);
    const opened = open(sealKey(token.secret, ekm), sealed);
    if (opened === null) throw new JoinError(`${options.via} does not know the token's secret (its sealed answer does not open): refusing it`, 'foreign-ca');
    const secrets = JSON.parse(opened) as { caKey?: unknown; encryptionKeys?: unknown };
    if (typeof secrets.caKey !== 'string' || typeof secrets.encryptionKeys !== 'string') throw new JoinError(`${options.via} sealed an answer without the CA key and the Secret keys`);
    return {
      clusterId: token.clusterId,
      token: options.token.trim(),
      caCertPem: caCert,
      caKeyPem: secrets.caKey,
      nodeCertPem: nodeCert,
      nodeKeyPem: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      encryptionKeysJson: secrets.encryptionKeys,
      name: options.name,
      hosts: [...options.hosts],
    };
  } finally {
    socket.destroy();
  }
}

/** Writes what a token join brought as this node's bundle dir (the same files as `--bundle` gives, but no admin credentials). */
export function writeJoinedBundle(dir: string, joined: JoinedCredentials): void {
  if (existsSync(join(dir, bundleFiles.caCert))) throw new JoinError(`${dir} already holds a cluster bundle`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, bundleFiles.caCert), joined.caCertPem, { mode: 0o644 });
  writePrivate(join(dir, bundleFiles.caKey), joined.caKeyPem);
  writePrivate(join(dir, bundleFiles.token), `${joined.token}\n`);
  writeFileSync(join(dir, bundleFiles.cluster), `${JSON.stringify({ clusterId: joined.clusterId, caFingerprint: certificateFingerprint(joined.caCertPem) }, null, 2)}\n`, { mode: 0o644 });
  writePrivate(join(dir, bundleFiles.encryptionKeys), joined.encryptionKeysJson);
  writePrivate(join(dir, bundleFiles.nodeKey), joined.nodeKeyPem);
  writeFileSync(join(dir, bundleFiles.nodeCert), joined.nodeCertPem, { mode: 0o644 });
  // As ensureNodeCertificate writes it, so the received certificate is kept, not reissued.
  writeFileSync(join(dir, bundleFiles.nodeHosts), `${joined.name}\n${[...new Set(joined.hosts)].sort().join(',')}`, { mode: 0o644 });
}
