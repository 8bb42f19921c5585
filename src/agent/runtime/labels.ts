import type { PodRef } from './runtime.ts';

/**
 * Labels on every container a runtime creates: with them alone (no local database) a restarted
 * agent knows which node, pod, container and attempt each container is, and finds its sandbox.
 */
export const labels = {
  node: 'io.bramble.node',
  role: 'io.bramble.role',
  podUid: 'io.bramble.pod.uid',
  podNamespace: 'io.bramble.pod.namespace',
  podName: 'io.bramble.pod.name',
  container: 'io.bramble.container',
  attempt: 'io.bramble.container.attempt',
  sandbox: 'io.bramble.sandbox',
  image: 'io.bramble.image',
  /** Optional: which of several same-named nodes on one engine (see DockerRuntimeOptions.scope). */
  scope: 'io.bramble.scope',
} as const;

export type Role = 'sandbox' | 'container';

export function podLabels(nodeName: string, role: Role, pod: PodRef): Record<string, string> {
  return {
    [labels.node]: nodeName,
    [labels.role]: role,
    [labels.podUid]: pod.uid,
    [labels.podNamespace]: pod.namespace,
    [labels.podName]: pod.name,
  };
}

export function podOfLabels(values: Record<string, string>): PodRef {
  return {
    uid: values[labels.podUid] ?? '',
    namespace: values[labels.podNamespace] ?? '',
    name: values[labels.podName] ?? '',
  };
}

/**
 * A Docker container name (unique per engine, so it carries the node) that people can read in
 * `docker ps`: bramble_<node>_<namespace>_<pod>_<container>_<attempt>_<uid prefix>.
 */
export function containerName(nodeName: string, pod: PodRef, container: string, attempt: number): string {
  const clean = (part: string) => part.replace(/[^a-zA-Z0-9_.-]/g, '-');
  return ['bramble', nodeName, pod.namespace, pod.name, container, String(attempt), pod.uid.slice(0, 8)].map(clean).join('_');
}
