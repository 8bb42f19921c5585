// X.509 for the cluster: the CA, and certificates it issues (API serving certificate, admin and
// node certificates). ECDSA P-256 keys: instant to generate on a Pi. Moved here from
// src/api/pki.ts so the bundle, the node identities and the API share one implementation.
import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import type * as X509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

let library: Promise<typeof X509> | undefined;

/**
 * @peculiar/x509, loaded when the first certificate is made or a CA loaded: it is a large library
 * (about as long to load as the rest of a CLI verb), and the CLI's verbs, which only read
 * certificates (fingerprint, issuer: node:crypto does that), never need it. A long-running
 * process calls preloadCertificateLibrary() at its start: loading it later blocks the event loop
 * for long enough (seconds on a busy board) to cost a Raft member its leader.
 */
function x509(): Promise<typeof X509> {
  library ??= import('@peculiar/x509').then((lib) => {
    // Node's WebCrypto is the standard one; the cast only bridges the DOM typings the library names.
    lib.cryptoProvider.set(webcrypto as unknown as Parameters<typeof lib.cryptoProvider.set>[0]);
    return lib;
  });
  return library;
}

/** Loads the certificate library now, so no later certificate operation blocks the event loop on it. */
export async function preloadCertificateLibrary(): Promise<void> {
  await x509();
}

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const VALIDITY_DAYS = 3650;
/**
 * Every certificate is valid from this date on, whenever it is made. A Raspberry Pi has no
 * real-time clock: at first boot its clock is the image's build date (fake-hwclock, or systemd's
 * build-time floor) until NTP answers, or forever at an offline site. A notBefore of "now" on the
 * laptop that made the bundle would then be in the board's future and every TLS handshake would
 * fail with "certificate is not yet valid" (k3s-on-Pi's known trap). Any board running a systemd
 * built after 2020 has a clock past this date. Backdating costs nothing here: there is no
 * revocation, and a certificate is worth what the CA key is.
 */
export const CERTIFICATE_NOT_BEFORE = new Date('2020-01-01T00:00:00Z');

/** A CA that can sign: its certificate and private key. */
export interface CertificateAuthority {
  cert: X509.X509Certificate;
  key: CryptoKey;
}

export type CertUsage = 'server' | 'client';

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

async function keyPem(key: CryptoKey): Promise<string> {
  return pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', key));
}

function serial(): string {
  // Positive 16-byte serial: the top bit cleared.
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return Buffer.from(bytes).toString('hex');
}

/** From CERTIFICATE_NOT_BEFORE to ten years after now (after that date when the clock is even further behind). */
export function validity(now: number = Date.now()): { notBefore: Date; notAfter: Date } {
  const from = Math.max(now, CERTIFICATE_NOT_BEFORE.getTime());
  return { notBefore: CERTIFICATE_NOT_BEFORE, notAfter: new Date(from + VALIDITY_DAYS * 86_400_000) };
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
}

export function isIp(host: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(':');
}

/** A new self-signed CA (CN=bramble-ca), as PEM. */
export async function createCa(): Promise<{ certPem: string; keyPem: string }> {
  const x = await x509();
  const keys = await generateKeys();
  const cert = await x.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=bramble-ca',
    ...validity(),
    signingAlgorithm: ALG,
    keys,
    extensions: [new x.BasicConstraintsExtension(true, 0, true), new x.KeyUsagesExtension(x.KeyUsageFlags.keyCertSign | x.KeyUsageFlags.cRLSign | x.KeyUsageFlags.digitalSignature, true)],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await keyPem(keys.privateKey) };
}

export async function loadCa(certPem: string, keyPemText: string): Promise<CertificateAuthority> {
  const x = await x509();
  const der = x.PemConverter.decodeFirst(keyPemText);
  const key = (await webcrypto.subtle.importKey('pkcs8', der, ALG, false, ['sign'])) as unknown as CryptoKey;
  return { cert: new x.X509Certificate(certPem), key };
}

export interface IssueRequest {
  /** Distinguished name, e.g. 'O=system:nodes, CN=system:node:pi1'. */
  subject: string;
  usages: readonly CertUsage[];
  /** DNS names and IP addresses for the subjectAltName (server certificates). */
  hosts?: readonly string[];
  /** SPKI PEM of a key the subject holds; absent: a key pair is made and returned. */
  publicKeyPem?: string;
}

/** Signs a certificate; `key` is the new private key (PKCS#8 PEM) unless the request brought its own public key. */
export async function issueCertificate(ca: CertificateAuthority, request: IssueRequest): Promise<{ cert: string; key?: string }> {
  const x = await x509();
  let publicKey: CryptoKey;
  let privateKey: CryptoKey | undefined;
  if (request.publicKeyPem === undefined) {
    const keys = await generateKeys();
    publicKey = keys.publicKey;
    privateKey = keys.privateKey;
  } else {
    const der = x.PemConverter.decodeFirst(request.publicKeyPem);
    publicKey = (await webcrypto.subtle.importKey('spki', der, ALG, true, ['verify'])) as unknown as CryptoKey;
  }
  const server = request.usages.includes('server');
  const extensions: X509.Extension[] = [
    new x.BasicConstraintsExtension(false, undefined, true),
    new x.KeyUsagesExtension(x.KeyUsageFlags.digitalSignature | x.KeyUsageFlags.keyEncipherment, true),
    new x.ExtendedKeyUsageExtension(request.usages.map((usage) => (usage === 'server' ? x.ExtendedKeyUsage.serverAuth : x.ExtendedKeyUsage.clientAuth))),
  ];
  const hosts = request.hosts ?? [];
  if (server && hosts.length > 0) {
    extensions.push(new x.SubjectAlternativeNameExtension(hosts.map((h) => (isIp(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h }))));
  }
  const cert = await x.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: request.subject,
    issuer: ca.cert.subject,
    ...validity(),
    signingAlgorithm: ALG,
    publicKey,
    signingKey: ca.key,
    extensions,
  });
  return { cert: cert.toString('pem') + '\n', ...(privateKey ? { key: await keyPem(privateKey) } : {}) };
}

/** SHA-256 of the certificate's DER, lower-case hex: what a join token pins. */
export function certificateFingerprint(certPem: string): string {
  return createHash('sha256').update(new X509Certificate(certPem).raw).digest('hex');
}

/** True when `certPem` was signed by the CA in `caPem` (signature and issuer name). */
export function issuedBy(certPem: string, caPem: string): boolean {
  try {
    const cert = new X509Certificate(certPem);
    const ca = new X509Certificate(caPem);
    return cert.checkIssued(ca) && cert.verify(ca.publicKey);
  } catch {
    return false;
  }
}
