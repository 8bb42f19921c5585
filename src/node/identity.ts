// Which cluster this node belongs to, settled before anything listens: the bundle given with
// --bundle (copied into <dataDir>/bundle), the one already in the data dir, or a new one for a
// node that starts a cluster of its own. The bundle's CA goes to <dataDir>/pki and its Secret keys
// to <dataDir>/encryption-keys.json, where the API reads them, so every node of a cluster serves
// with the same CA and reads the same Secrets.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { KEY_FILE_NAME } from '../api/encryption/index.ts';
import { bundleFiles, type Bundle, BundleError, ensureNodeCertificate, isBundle, readBundle, writePrivate } from '../identity/bundle.ts';
import { certificateFingerprint, preloadCertificateLibrary } from '../identity/certs.ts';
import { joinWithToken, writeJoinedBundle } from '../identity/join.ts';
import { parseJoinToken } from '../identity/token.ts';
import type { ClusterCredentials } from '../identity/tls.ts';
import { writeClusterBundle } from './cluster-bundle.ts';
import { formatHostPort, type NodeOptions } from './options.ts';
import { UsageError } from './usage-error.ts';

/** What settling the identity reads from the node's options. */
export type IdentityOptions = Pick<NodeOptions, 'name' | 'dataDir' | 'peerAddress' | 'clientAddress' | 'apiAddress' | 'join' | 'bundle' | 'token'>;

export interface NodeIdentity {
  bundle: Bundle;
  credentials: ClusterCredentials;
  /** This start fetched the bundle with --token: a join that then fails removes it again. */
  fetchedWithToken: boolean;
}

/** What a failed first join must remove so that the next attempt (maybe with another token) starts clean. */
export function removeFetchedIdentity(dataDir: string): void {
  rmSync(join(dataDir, KEY_FILE_NAME), { force: true });
  rmSync(join(dataDir, 'pki'), { recursive: true, force: true });
  rmSync(nodeBundleDir(dataDir), { recursive: true, force: true });
}

/** How the node starts, as far as its identity is concerned. */
export interface IdentityStart {
  kind: 'bootstrap' | 'join' | 'resume';
  /** Bootstrap members, this node included. */
  bootstrapMembers: number;
}

/** Where the node bundle lives inside a data dir. */
export function nodeBundleDir(dataDir: string): string {
  return join(dataDir, 'bundle');
}

const unspecified = new Set(['', '0.0.0.0', '::']);

/** Names and addresses the node certificate lists: the configured hosts, this machine, loopback, and every interface address when listening on all of them. */
export function nodeHosts(options: Pick<NodeOptions, 'peerAddress' | 'clientAddress' | 'apiAddress'>): string[] {
  const configured = [options.peerAddress.host, options.clientAddress.host, ...(options.apiAddress ? [options.apiAddress.host] : [])];
  const hosts = ['localhost', '127.0.0.1', '::1', hostname(), ...configured.filter((host) => !unspecified.has(host))];
  if (configured.some((host) => unspecified.has(host))) {
    for (const addresses of Object.values(networkInterfaces())) for (const address of addresses ?? []) if (!address.internal) hosts.push(address.address.replace(/%.*$/, ''));
  }
  return [...new Set(hosts)];
}

function copyBundle(source: Bundle, dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const file of [bundleFiles.caCert, bundleFiles.cluster, bundleFiles.adminCert]) {
    if (existsSync(join(source.dir, file))) writeFileSync(join(dir, file), readFileSync(join(source.dir, file)), { mode: 0o644 });
  }
  for (const file of [bundleFiles.caKey, bundleFiles.token, bundleFiles.encryptionKeys, bundleFiles.adminKey, bundleFiles.kubeconfig]) {
    if (existsSync(join(source.dir, file))) writePrivate(join(dir, file), readFileSync(join(source.dir, file), 'utf8'));
  }
}

/** Puts the bundle's CA and Secret keys where the API reads them; refuses to replace different ones (Secrets and kubeconfigs depend on them). */
function installForApi(bundle: Bundle, dataDir: string): void {
  const pki = join(dataDir, 'pki');
  const caCert = join(pki, 'ca.crt');
  if (existsSync(caCert)) {
    if (certificateFingerprint(readFileSync(caCert, 'utf8')) !== bundle.caFingerprint) {
      throw new Error(`${pki} holds a CA of its own (made before this node had the cluster bundle), not the bundle's CA ${bundle.clusterId}: start the node with an empty --data-dir, or move ${pki} aside if nothing depends on its certificates`);
    }
  } else {
    mkdirSync(pki, { recursive: true, mode: 0o700 });
    writePrivate(join(pki, 'ca.key'), bundle.caKeyPem);
    writeFileSync(caCert, bundle.caCertPem, { mode: 0o644 });
  }
  const keys = join(dataDir, KEY_FILE_NAME);
  if (existsSync(keys)) {
    const same = JSON.stringify(JSON.parse(readFileSync(keys, 'utf8'))) === JSON.stringify(JSON.parse(bundle.encryptionKeysJson));
    if (!same) throw new Error(`${keys} holds other Secret encryption keys than the cluster bundle; Secrets written with them would be unreadable on other nodes. Start with an empty --data-dir, or copy the bundle's ${bundleFiles.encryptionKeys} to every node`);
  } else {
    writePrivate(keys, bundle.encryptionKeysJson);
  }
}

/**
 * The node's cluster identity, or null for a data dir from before bundles (it keeps running
 * with plain TCP peers and an unauthenticated client port, and says so).
 */
export async function prepareIdentity(options: IdentityOptions, start: IdentityStart, logger: Logger): Promise<NodeIdentity | null> {
  // Before Raft runs: loaded later (a join to admit, a certificate to issue), the library would stall this node's event loop.
  await preloadCertificateLibrary();
  const dir = nodeBundleDir(options.dataDir);
  let fetchedWithToken = false;
  if (options.bundle !== null) {
    let source: Bundle;
    try {
      source = readBundle(options.bundle);
    } catch (error) {
      throw new UsageError(`--bundle: ${(error as Error).message}`);
    }
    if (isBundle(dir)) {
      const own = readBundle(dir);
      if (own.caFingerprint !== source.caFingerprint) {
        throw new UsageError(`${options.dataDir} belongs to cluster ${own.clusterId}, but --bundle ${options.bundle} is cluster ${source.clusterId}: a node cannot change clusters; use an empty --data-dir to join the other one`);
      }
    } else {
      copyBundle(source, dir);
    }
  } else if (options.token !== null) {
    const token = parseJoinToken(options.token);
    if (isBundle(dir)) {
      const own = readBundle(dir);
      if (own.caFingerprint !== token.caFingerprint) throw new UsageError(`${options.dataDir} belongs to cluster ${own.clusterId}, but --token is for cluster ${token.clusterId}: a node cannot change clusters; use an empty --data-dir to join the other one`);
    } else {
      if (start.kind !== 'join' || options.join === null) throw new UsageError('--token needs --join <client address of a member> and an empty --data-dir');
      const via = formatHostPort(options.join);
      logger.info({ via, clusterId: token.clusterId }, 'fetching this node\'s credentials with the join token');
      writeJoinedBundle(dir, await joinWithToken({ token: options.token, via, name: options.name, hosts: nodeHosts(options) }));
      fetchedWithToken = true;
    }
  } else if (!isBundle(dir)) {
    if (start.kind === 'resume') {
      logger.warn(`${options.dataDir} has no cluster bundle (it was made before bundles existed): peer traffic stays plain TCP and the client port unauthenticated. Form a new cluster with \`bramble cluster init\` to get mutual TLS`);
      return null;
    }
    if (start.kind === 'join') throw new UsageError('--join needs the cluster credentials: --token TOKEN (print it with `bramble token` on a member) or --bundle DIR');
    if (start.bootstrapMembers > 1) {
      throw new UsageError('--initial-cluster with several members needs the same cluster bundle on each: create it once with `bramble cluster init --out DIR`, copy DIR to every board and start each with --bundle DIR');
    }
    const api = options.apiAddress;
    const server = `https://${api && !unspecified.has(api.host) ? formatHostPort(api) : '127.0.0.1:6443'}`;
    const created = await writeClusterBundle(dir, server);
    logger.info({ clusterId: created.clusterId, bundle: dir }, 'created a cluster bundle for a new cluster; `bramble token` prints the join token for other boards');
  }
  let bundle: Bundle;
  try {
    bundle = readBundle(dir);
  } catch (error) {
    if (error instanceof BundleError) throw new Error(`${error.message} (the node's own copy in its data dir is damaged; copy the cluster bundle there again)`);
    throw error;
  }
  installForApi(bundle, options.dataDir);
  const node = await ensureNodeCertificate(bundle, options.name, nodeHosts(options));
  return { bundle, fetchedWithToken, credentials: { clusterId: bundle.clusterId, caPem: bundle.caCertPem, certPem: node.certPem, keyPem: node.keyPem } };
}
