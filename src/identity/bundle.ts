// The cluster bundle: one directory with everything a node needs to be a member, and what
// `bramble cluster init --out DIR` writes:
//   ca.crt, ca.key            the cluster CA (every member holds the key: any of them may admit a node)
//   token                     BRAMBLE-1-<ca-fingerprint>-<secret>
//   cluster.json              { clusterId, caFingerprint }
//   encryption-keys.json      the Secret encryption keys (src/api/encryption format), the same on every node
//   admin.crt, admin.key      CN=admin, O=system:masters
//   kubeconfig                the admin's (written by the CLI, which knows the server URL)
// A node keeps its own copy in <dataDir>/bundle, plus its identity node.crt/node.key
// (CN=system:node:<name>, O=system:nodes; server and client use; SANs its name and addresses).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certificateFingerprint, createCa, issueCertificate, issuedBy, loadCa } from './certs.ts';
import { clusterIdOf, formatJoinToken, newTokenSecret, parseJoinToken } from './token.ts';

export const bundleFiles = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  token: 'token',
  cluster: 'cluster.json',
  encryptionKeys: 'encryption-keys.json',
  adminCert: 'admin.crt',
  adminKey: 'admin.key',
  kubeconfig: 'kubeconfig',
  nodeCert: 'node.crt',
  nodeKey: 'node.key',
  nodeHosts: 'node.hosts',
} as const;

/** What a member must have; the rest of the bundle is for people (admin credentials). */
const REQUIRED = [bundleFiles.caCert, bundleFiles.caKey, bundleFiles.token, bundleFiles.encryptionKeys] as const;

export class BundleError extends Error {
  constructor(
    readonly dir: string,
    message: string,
  ) {
    super(`cluster bundle ${dir}: ${message}`);
    this.name = 'BundleError';
  }
}

export interface Bundle {
  dir: string;
  caCertPem: string;
  caKeyPem: string;
  caFingerprint: string;
  clusterId: string;
  token: string;
  secret: Buffer;
  /** The encryption-keys.json text, copied verbatim to every node. */
  encryptionKeysJson: string;
}

export function writePrivate(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600 });
}

/**
 * Creates the CA, token, cluster.json and admin certificate in `dir` (refusing a directory that
 * already holds a CA: that would be another cluster). The caller adds encryption-keys.json and
 * the kubeconfig.
 */
export async function createBundleCore(dir: string): Promise<{ caFingerprint: string; clusterId: string; token: string; adminCertPem: string; adminKeyPem: string; caCertPem: string }> {
  if (existsSync(join(dir, bundleFiles.caCert))) throw new BundleError(dir, `already holds a cluster CA (${bundleFiles.caCert}); a new one would be another cluster. Choose an empty directory, or use this bundle as it is`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = await createCa();
  const caFingerprint = certificateFingerprint(ca.certPem);
  const token = formatJoinToken(caFingerprint, newTokenSecret());
  const admin = await issueCertificate(await loadCa(ca.certPem, ca.keyPem), { subject: 'O=system:masters, CN=admin', usages: ['client'] });
  writePrivate(join(dir, bundleFiles.caKey), ca.keyPem);
  writeFileSync(join(dir, bundleFiles.caCert), ca.certPem, { mode: 0o644 });
  writePrivate(join(dir, bundleFiles.token), `${token}\n`);
  writeFileSync(join(dir, bundleFiles.cluster), `${JSON.stringify({ clusterId: clusterIdOf(caFingerprint), caFingerprint }, null, 2)}\n`, { mode: 0o644 });
  writePrivate(join(dir, bundleFiles.adminKey), admin.key ?? '');
  writeFileSync(join(dir, bundleFiles.adminCert), admin.cert, { mode: 0o644 });
  return { caFingerprint, clusterId: clusterIdOf(caFingerprint), token, adminCertPem: admin.cert, adminKeyPem: admin.key ?? '', caCertPem: ca.certPem };
}

export function isBundle(dir: string): boolean {
  return existsSync(join(dir, bundleFiles.caCert)) && existsSync(join(dir, bundleFiles.token));
}

/** Reads and checks a bundle: every required file, and a token that pins this CA. */
export function readBundle(dir: string): Bundle {
  if (!existsSync(dir)) throw new BundleError(dir, 'does not exist; create one with `bramble cluster init --out DIR`');
  const missing = REQUIRED.filter((file) => !existsSync(join(dir, file)));
  if (missing.length > 0) throw new BundleError(dir, `is missing ${missing.join(', ')}; copy the whole directory that \`bramble cluster init\` made`);
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  const caCertPem = read(bundleFiles.caCert);
  let caFingerprint: string;
  try {
    caFingerprint = certificateFingerprint(caCertPem);
  } catch (error) {
    throw new BundleError(dir, `${bundleFiles.caCert} is not a PEM certificate (${(error as Error).message})`);
  }
  let parsed;
  try {
    parsed = parseJoinToken(read(bundleFiles.token));
  } catch (error) {
    throw new BundleError(dir, `${bundleFiles.token}: ${(error as Error).message}`);
  }
  if (parsed.caFingerprint !== caFingerprint) throw new BundleError(dir, `${bundleFiles.token} pins CA ${parsed.caFingerprint.slice(0, 16)}… but ${bundleFiles.caCert} is ${caFingerprint.slice(0, 16)}…: the files come from two different clusters`);
  return {
    dir,
    caCertPem,
    caKeyPem: read(bundleFiles.caKey),
    caFingerprint,
    clusterId: parsed.clusterId,
    token: read(bundleFiles.token).trim(),
    secret: parsed.secret,
    encryptionKeysJson: read(bundleFiles.encryptionKeys),
  };
}

export function nodeSubject(name: string): string {
  return `O=system:nodes, CN=system:node:${name}`;
}

/**
 * This node's certificate in the bundle dir, issued by the CA, reissued when the name or the
 * host set changes (a new --peer-addr) or it is not from this CA.
 */
export async function ensureNodeCertificate(bundle: Bundle, name: string, hosts: readonly string[]): Promise<{ certPem: string; keyPem: string }> {
  const file = (f: string) => join(bundle.dir, f);
  const wanted = `${name}\n${[...new Set(hosts)].sort().join(',')}`;
  const current = existsSync(file(bundleFiles.nodeCert)) && existsSync(file(bundleFiles.nodeKey)) && existsSync(file(bundleFiles.nodeHosts));
  if (!current || readFileSync(file(bundleFiles.nodeHosts), 'utf8') !== wanted || !issuedBy(readFileSync(file(bundleFiles.nodeCert), 'utf8'), bundle.caCertPem)) {
    const issued = await issueCertificate(await loadCa(bundle.caCertPem, bundle.caKeyPem), { subject: nodeSubject(name), usages: ['server', 'client'], hosts: [...new Set([name, ...hosts])] });
    writePrivate(file(bundleFiles.nodeKey), issued.key ?? '');
    writeFileSync(file(bundleFiles.nodeCert), issued.cert, { mode: 0o644 });
    writeFileSync(file(bundleFiles.nodeHosts), wanted, { mode: 0o644 });
  }
  return { certPem: readFileSync(file(bundleFiles.nodeCert), 'utf8'), keyPem: readFileSync(file(bundleFiles.nodeKey), 'utf8') };
}
