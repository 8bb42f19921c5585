// The cluster's certificate authority and the certificates this node needs: a serving
// certificate for the API (TLS always) and the admin client certificate (CN admin,
// O system:masters) that `bramble kubeconfig` hands out. Created once in <dataDir>/pki and
// reused, so kubeconfigs stay valid across restarts. The X.509 work is src/identity/certs.ts; a node
// started with a cluster bundle finds the cluster's CA already in <dataDir>/pki (src/node/identity.ts).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { createCa, issueCertificate, loadCa } from '../identity/certs.ts';
import { isWildcard } from './host-address.ts';

export interface Pki {
  dir: string;
  caCertPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  adminCertPem: string;
  adminKeyPem: string;
}

/** Hosts the serving certificate names: loopback, this machine (and its mDNS name), the API address's host (every address of the board for a wildcard), the node's name. */
export function servingHosts(apiHost: string, nodeName?: string, host: string = hostname()): string[] {
  const hosts = ['127.0.0.1', 'localhost', '::1', host];
  // A board's name on the LAN is <hostname>.local (avahi on Raspberry Pi OS): the address a
  // kubeconfig can name when DHCP hands out the boards' addresses.
  if (!host.includes('.')) hosts.push(`${host}.local`);
  if (!isWildcard(apiHost)) hosts.push(apiHost);
  // On all addresses: every address of the board, so `--server https://<LAN address>:6443` verifies.
  else for (const addresses of Object.values(networkInterfaces())) for (const a of addresses ?? []) if (!a.internal) hosts.push(a.address.replace(/%.*$/, ''));
  // The node's name too: the other nodes' forwarders check it, whatever address they dialled
  // (an API on all addresses, a board whose DHCP address moved since the certificate was made).
  if (nodeName) hosts.push(nodeName);
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
    const created = await createCa();
    write(file('ca.key'), created.keyPem, 0o600);
    write(file('ca.crt'), created.certPem, 0o644);
  }
  const ca = await loadCa(readFileSync(file('ca.crt'), 'utf8'), readFileSync(file('ca.key'), 'utf8'));

  const hostsFile = file('server.hosts');
  const wanted = [...hosts].sort().join(',');
  if (!existsSync(file('server.crt')) || !existsSync(hostsFile) || readFileSync(hostsFile, 'utf8') !== wanted) {
    const server = await issueCertificate(ca, { subject: 'CN=bramble-apiserver', usages: ['server'], hosts });
    writeFileSync(file('server.key'), server.key ?? '', { mode: 0o600 });
    writeFileSync(file('server.crt'), server.cert, { mode: 0o644 });
    writeFileSync(hostsFile, wanted, { mode: 0o644 });
  }
  if (!existsSync(file('admin.crt'))) {
    const admin = await issueCertificate(ca, { subject: 'O=system:masters, CN=admin', usages: ['client'] });
    write(file('admin.key'), admin.key ?? '', 0o600);
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
