// The agent's side of pods/log and pods/exec: the container a request means (findPodContainer,
// Kubernetes' 400 answers), then the runtime's log or exec stream. The API server routes here
// for pods bound to this node (src/api/pod-stream-router.ts).
import { PodStreamError, type PodExecStreams, type PodStreams } from '../api/pod-streams.ts';
import { badRequest, failure, type KubeObject } from '../api/resources/index.ts';
import { ContainerLookupError, findPodContainer } from './pods/container-lookup.ts';
import { asPod, type Pod } from '../client/index.ts';
import type { Runtime } from './runtime/runtime.ts';

async function lookup(runtime: Runtime, pod: Pod, container: string | undefined, previous: boolean) {
  try {
    return await findPodContainer(runtime, pod, container, { previous });
  } catch (error) {
    if (error instanceof ContainerLookupError) throw new PodStreamError(failure(error.statusCode, error.statusCode === 400 ? 'BadRequest' : 'NotFound', error.message));
    throw error;
  }
}

async function runningContainer(runtime: Runtime, pod: Pod, name: string | undefined) {
  const container = await lookup(runtime, pod, name, false);
  if (container.state.kind !== 'running') {
    throw new PodStreamError(badRequest(`container ${container.name} is not running in pod ${pod.metadata.name} (${container.state.kind === 'terminated' ? `terminated: ${container.state.reason}` : 'waiting'})`));
  }
  return container;
}

/** PodStreams over this node's runtime; `runtime()` is null while the engine is unreachable. */
export function agentPodStreams(runtime: () => Runtime | null, nodeName: string): PodStreams {
  const current = (): Runtime => {
    const found = runtime();
    if (!found) throw new PodStreamError(failure(503, 'ServiceUnavailable', `node ${nodeName} runs no pods now (started with --runtime none, or its Docker engine is unreachable): see its log`));
    return found;
  };
  return {
    logs: async (object: KubeObject, options) => {
      const rt = current();
      const container = await lookup(rt, asPod(object), options.container, options.previous);
      return rt.logs(container.id, {
        follow: options.follow && !options.previous,
        timestamps: options.timestamps,
        ...(options.tailLines !== undefined ? { tailLines: options.tailLines } : {}),
        ...(options.sinceSeconds !== undefined ? { sinceTime: new Date(Date.now() - options.sinceSeconds * 1000) } : {}),
      });
    },
    checkExec: async (object: KubeObject, options) => {
      await runningContainer(current(), asPod(object), options.container);
    },
    exec: async (object: KubeObject, options): Promise<PodExecStreams> => {
      const rt = current();
      const container = await runningContainer(rt, asPod(object), options.container);
      return rt.exec(container.id, { command: options.command, stdin: options.stdin, tty: options.tty, ...(options.tty && options.initialSize ? { initialSize: options.initialSize } : {}) });
    },
  };
}
