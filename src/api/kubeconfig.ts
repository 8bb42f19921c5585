// The admin kubeconfig of a node: the cluster CA inline, the admin client certificate and the
// admin token (kubectl uses the certificate; the token works where certificates are awkward).
import { stringify } from 'yaml';
import type { Pki } from './pki.ts';

export function adminKubeconfig(server: string, pki: Pick<Pki, 'caCertPem' | 'adminCertPem' | 'adminKeyPem'>, adminToken?: string): string {
  const b64 = (pem: string) => Buffer.from(pem).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'bramble', cluster: { server, 'certificate-authority-data': b64(pki.caCertPem) } }],
    users: [{ name: 'bramble-admin', user: { 'client-certificate-data': b64(pki.adminCertPem), 'client-key-data': b64(pki.adminKeyPem), ...(adminToken === undefined ? {} : { token: adminToken }) } }],
    contexts: [{ name: 'bramble', context: { cluster: 'bramble', user: 'bramble-admin', namespace: 'default' } }],
    'current-context': 'bramble',
    preferences: {},
  });
}
