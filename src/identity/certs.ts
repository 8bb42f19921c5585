// X.509 for the cluster: the CA, and certificates it issues (API serving certificate, admin and
// node certificates). ECDSA P-256 keys: instant to generate on a Pi. Moved here from
// src/api/pki.ts so the bundle, the node identities and the API share one implementation.
import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

// Node's WebCrypto is the standard one; the cast only bridges the DOM typings the library names.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const VALIDITY_DAYS = 3650;

/** A CA that can sign: its certificate and private key. */
export interface CertificateAuthority {
  cert: x509.X509Certificate;
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

function validity(): { notBefore: Date; notAfter: Date } {
  const notBefore = new Date(Date.now() - 60_000);
  return { notBefore, notAfter: new Date(notBefore.getTime() + VALIDITY_DAYS * 86_400_000) };
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
}

export function isIp(host: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(':');
}

/** A new self-signed CA (CN=bramble-ca), as PEM. */
export async function createCa(): Promise<{ certPem: string; keyPem: string }> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=bramble-ca',
    ...validity(),
    signingAlgorithm: ALG,
    keys,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true)],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await keyPem(keys.privateKey) };
}

export async function loadCa(certPem: string, keyPemText: string): Promise<CertificateAuthority> {
  const der = x509.PemConverter.decodeFirst(keyPemText);
  const key = (await webcrypto.subtle.importKey('pkcs8', der, ALG, false, ['sign'])) as unknown as CryptoKey;
  return { cert: new x509.X509Certificate(certPem), key };
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
  let publicKey: CryptoKey;
  let privateKey: CryptoKey | undefined;
  if (request.publicKeyPem === undefined) {
    const keys = await generateKeys();
    publicKey = keys.publicKey;
    privateKey = keys.privateKey;
  } else {
    const der = x509.PemConverter.decodeFirst(request.publicKeyPem);
    publicKey = (await webcrypto.subtle.importKey('spki', der, ALG, true, ['verify'])) as unknown as CryptoKey;
  }
  const server = request.usages.includes('server');
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(request.usages.map((usage) => (usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth))),
  ];
  const hosts = request.hosts ?? [];
  if (server && hosts.length > 0) {
    extensions.push(new x509.SubjectAlternativeNameExtension(hosts.map((h) => (isIp(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h }))));
  }
  const cert = await x509.X509CertificateGenerator.create({
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
