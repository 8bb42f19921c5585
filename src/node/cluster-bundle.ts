// A new cluster bundle (src/identity/bundle.ts) plus what identity/ cannot make itself: the Secret
// encryption keys in the API's format and the admin's kubeconfig. `bramble cluster init --out DIR`
// writes one; a node that starts a cluster of its own writes one into its data dir (identity.ts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSecretCipher } from '../api/encryption/index.ts';
import { adminKubeconfig } from '../api/kubeconfig.ts';
import { bundleFiles, createBundleCore } from '../identity/bundle.ts';

export interface CreatedBundle {
  dir: string;
  clusterId: string;
  token: string;
  kubeconfigPath: string;
}

export async function writeClusterBundle(dir: string, server: string): Promise<CreatedBundle> {
  const core = await createBundleCore(dir);
  // Creates encryption-keys.json (0600, one random AES-256 key) exactly as a node would.
  loadSecretCipher(dir);
  const kubeconfigPath = join(dir, bundleFiles.kubeconfig);
  writeFileSync(kubeconfigPath, adminKubeconfig(server, { caCertPem: core.caCertPem, adminCertPem: core.adminCertPem, adminKeyPem: core.adminKeyPem }), { mode: 0o600 });
  return { dir, clusterId: core.clusterId, token: core.token, kubeconfigPath };
}
