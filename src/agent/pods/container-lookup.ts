import type { ContainerStatus, Runtime } from '../runtime/runtime.ts';
import type { Pod } from '../../client/index.ts';

/** Why a logs or exec request cannot be served; `statusCode` is the HTTP answer the API gives. */
export class ContainerLookupError extends Error {
  constructor(
    readonly statusCode: 400 | 404,
    message: string,
  ) {
    super(message);
    this.name = 'ContainerLookupError';
  }
}

/**
 * The container a `kubectl logs`/`exec` request means, found by the runtime's labels, with
 * Kubernetes' answers when there is none: no container name for a multi-container pod, an
 * unknown name, a container still waiting, no previous attempt.
 */
export async function findPodContainer(runtime: Runtime, pod: Pod, containerName: string | undefined, options: { previous: boolean }): Promise<ContainerStatus> {
  const names = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((c) => c.name);
  const appNames = pod.spec.containers.map((c) => c.name);
  if (containerName === undefined) {
    if (appNames.length !== 1) {
      throw new ContainerLookupError(400, `a container name must be specified for pod ${pod.metadata.name}, choose one of: [${appNames.join(' ')}]`);
    }
    containerName = appNames[0] ?? '';
  }
  if (!names.includes(containerName)) {
    throw new ContainerLookupError(400, `container ${containerName} is not valid for pod ${pod.metadata.name}`);
  }
  const attempts = (await runtime.listContainers({ podUid: pod.metadata.uid }))
    .filter((c) => c.name === containerName)
    .sort((a, b) => b.attempt - a.attempt);
  if (options.previous) {
    // Kubernetes answers --previous with lastState's container: during a back-off that is the
    // attempt that just crashed (container GC keeps it), otherwise the one before the current.
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    const last = statuses.find((s) => s.name === containerName)?.lastState;
    const lastId = last && 'terminated' in last ? last.terminated.containerID?.replace(/^[a-z]+:\/\//, '') : undefined;
    const previous = attempts.find((c) => c.id === lastId) ?? attempts[1];
    if (!previous) throw new ContainerLookupError(400, `previous terminated container "${containerName}" in pod "${pod.metadata.name}" not found`);
    return previous;
  }
  const current = attempts[0];
  if (!current) {
    const waiting = pod.status?.containerStatuses?.find((c) => c.name === containerName)?.state;
    const reason = waiting && 'waiting' in waiting ? waiting.waiting.reason : 'ContainerCreating';
    throw new ContainerLookupError(400, `container "${containerName}" in pod "${pod.metadata.name}" is waiting to start: ${reason}`);
  }
  return current;
}
