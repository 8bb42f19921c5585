// The two Services every cluster has, at fixed addresses of the service range as in Kubernetes:
// `default/kubernetes` (the range's 1st address, port 443 to the API servers; its endpoints are the
// boards', kept by the control plane) and `kube-system/kube-dns` (the 10th, the cluster DNS).
import type { KubeObject } from './resources/index.ts';
import { DNS_SERVICE_OFFSET, KUBERNETES_SERVICE_OFFSET, serviceIPAt, type ServiceCidr } from './service-alloc.ts';

export const KUBERNETES_SERVICE = { namespace: 'default', name: 'kubernetes' } as const;
export const DNS_SERVICE = { namespace: 'kube-system', name: 'kube-dns' } as const;

/** The Services created at start when missing (an existing one is left as it is). */
export function wellKnownServices(range: ServiceCidr, apiPort: number): KubeObject[] {
  const kubernetesIP = serviceIPAt(range, KUBERNETES_SERVICE_OFFSET);
  const dnsIP = serviceIPAt(range, DNS_SERVICE_OFFSET);
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: KUBERNETES_SERVICE.name, namespace: KUBERNETES_SERVICE.namespace, labels: { component: 'apiserver', provider: 'kubernetes' } },
      // No selector: the endpoints are the API servers (the boards), not pods.
      spec: { type: 'ClusterIP', clusterIP: kubernetesIP, clusterIPs: [kubernetesIP], ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: apiPort }] },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: DNS_SERVICE.name,
        namespace: DNS_SERVICE.namespace,
        labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'KubeDNS' },
      },
      spec: {
        type: 'ClusterIP',
        clusterIP: dnsIP,
        clusterIPs: [dnsIP],
        selector: { 'k8s-app': 'kube-dns' },
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        ],
      },
    },
  ];
}
