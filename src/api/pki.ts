// The cluster's certificate authority and the certificates this node needs: a serving
// certificate for the API (TLS always) and the admin client certificate (CN admin,
// O system:masters) that `bramble kubeconfig` hands out. Created once in <dataDir>/pki and
// reused, so kubeconfigs stay valid across restarts. ECDSA P-256 keys: instant to generate on a Pi.
import { webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

// Node's WebCrypto is the standard one; the cast only bridges the DOM typings the library names.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const VALIDITY_DAYS = 3650;

export interface Pki {
  dir: string;
  caCertPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  adminCertPem: string;
  adminKeyPem: string;
}

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

function isIp(host: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(':');
}

async function issue(ca: { cert: x509.X509Certificate; key: CryptoKey }, subject: string, usage: 'server' | 'client', hosts: readonly string[]): Promise<{ cert: string; key: string }> {
  const keys = await generateKeys();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension([usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
  ];
  if (usage === 'server') {
    extensions.push(new x509.SubjectAlternativeNameExtension(hosts.map((h) => (isIp(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h }))));
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: ca.cert.subject,
    ...validity(),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: ca.key,
    extensions,
  });
  return { cert: cert.toString('pem') + '\n', key: await keyPem(keys.privateKey) };
}

/** Hosts the serving certificate names: loopback, this machine, and the API address's host. */
export function servingHosts(apiHost: string): string[] {
  const hosts = ['127.0.0.1', 'localhost', '::1', hostname()];
  if (apiHost !== '' && apiHost !== '0.0.0.0' && apiHost !== '::') hosts.push(apiHost);
  return [...new Set(hosts)];
}

function write(path: string, text: string, mode: number): void {
  writeFileSync(path, text, { mode, flag: 'wx' });
}

/**
 * Reads <dataDir>/pki, creating what is missing: the CA at first start, and a serving
 * certificate whenever the set of hosts it must name changed (e.g. a new --api-addr).
 */
export async function ensurePki(dataDir: string, hosts: readonly string[]): Promise<Pki> {
  const dir = join(dataDir, 'pki');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = (name: string) => join(dir, name);
  if (!existsSync(file('ca.crt'))) {
    const keys = await generateKeys();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: 'CN=bramble-ca',
      ...validity(),
      signingAlgorithm: ALG,
      keys,
      extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true)],
    });
    write(file('ca.key'), await keyPem(keys.privateKey), 0o600);
    write(file('ca.crt'), cert.toString('pem') + '\n', 0o644);
  }
  const caCert = new x509.X509Certificate(readFileSync(file('ca.crt'), 'utf8'));
  const caKeyDer = x509.PemConverter.decodeFirst(readFileSync(file('ca.key'), 'utf8'));
  const caKey = (await webcrypto.subtle.importKey('pkcs8', caKeyDer, ALG, false, ['sign'])) as unknown as CryptoKey;
  const ca = { cert: caCert, key: caKey };

  const hostsFile = file('server.hosts');
  const wanted = [...hosts].sort().join(',');
  if (!existsSync(file('server.crt')) || !existsSync(hostsFile) || readFileSync(hostsFile, 'utf8') !== wanted) {
    const server = await issue(ca, 'CN=bramble-apiserver', 'server', hosts);
    writeFileSync(file('server.key'), server.key, { mode: 0o600 });
    writeFileSync(file('server.crt'), server.cert, { mode: 0o644 });
    writeFileSync(hostsFile, wanted, { mode: 0o644 });
  }
  if (!existsSync(file('admin.crt'))) {
    const admin = await issue(ca, 'O=system:masters, CN=admin', 'client', []);
    write(file('admin.key'), admin.key, 0o600);
    write(file('admin.crt'), admin.cert, 0o644);
  }
  return {
    dir,
    caCertPem: readFileSync(file('ca.crt'), 'utf8'),
    serverCertPem: readFileSync(file('server.crt'), 'utf8'),
    serverKeyPem: readFileSync(file('server.key'), 'utf8'),
    adminCertPem: readFileSync(file('admin.crt'), 'utf8'),
    adminKeyPem: readFileSync(file('admin.key'), 'utf8'),
  };
}
