import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { HttpClient, type KubeObject } from '../../src/client/index.ts';

interface Kubeconfig {
  clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
  users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
}

/**
 * An HttpClient with the admin credentials a `bramble up` wrote to <dataDir>/kubeconfig. It does
 * not retry on Retry-After (maxRetries 0): tests poll with waitFor and want each answer as it is.
 */
export function adminClient(dataDir: string): HttpClient {
  const kubeconfig = parseYaml(readFileSync(join(dataDir, 'kubeconfig'), 'utf8')) as Kubeconfig;
  const cluster = kubeconfig.clusters[0]?.cluster;
  const user = kubeconfig.users[0]?.user;
  if (!cluster || !user) throw new Error(`${dataDir}/kubeconfig has no cluster or user`);
  const b64 = (s: string) => Buffer.from(s, 'base64');
  return new HttpClient({ server: cluster.server, ca: b64(cluster['certificate-authority-data']), cert: b64(user['client-certificate-data']), key: b64(user['client-key-data']), maxRetries: 0 });
}

/** A ClusterRoleBinding granting `user` the built-in ClusterRole `role` (RBAC changes in tests). */
export function clusterRoleBinding(name: string, user: string, role = 'view'): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
  } as KubeObject;
}
