// Stage "api": the Kubernetes API over the replicated store. Its first-start writes (namespaces,
// the Node) need a leader, so it is tried a few times; a port already taken is not retried. The
// API's own caches (RBAC, the node forwarder's peers) follow the store through client/cache's
// informer, handed in as ApiFeeds because api cannot import client.
import type { Logger } from 'pino';
import { startApi, type RunningApi } from '../api/start.ts';
import { apiFeeds } from '../client/cache/index.ts';
import type { ReplicatedStore } from '../store/replicated-store.ts';
import { nodeHealthChecks } from './health.ts';
import { formatHostPort, type HostPort, type NodeOptions } from './options.ts';

export type ApiStageOptions = Pick<NodeOptions, 'dataDir' | 'name' | 'version' | 'apiFairness' | 'serviceCidr'> & { apiAddress: HostPort };

const attempts = 5;

/** Starts the API, retrying (1 s, 2 s, ...) while `stopping()` is false; the last failure is logged with what to do, and thrown. */
export async function startApiStage(options: ApiStageOptions, store: ReplicatedStore, stopping: () => boolean, logger: Logger): Promise<RunningApi> {
  for (let attempt = 1; ; attempt++) {
    try {
      const started = await startApi({ dataDir: options.dataDir, store, host: options.apiAddress.host, port: options.apiAddress.port, nodeName: options.name, gitVersion: `v${options.version}`, feeds: apiFeeds(logger.child({ component: 'api' })), healthChecks: nodeHealthChecks(store.node, stopping), ...(options.apiFairness ? { fairness: options.apiFairness } : {}), ...(options.serviceCidr ? { serviceCidr: options.serviceCidr } : {}) });
      logger.info({ api: started.url, kubeconfig: started.kubeconfigPath }, 'kubernetes API ready');
      return started;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (stopping() || attempt >= attempts || code === 'EADDRINUSE') {
        const hint = code === 'EADDRINUSE' ? ` (${formatHostPort(options.apiAddress)} is taken: choose another with --api-addr or BRAMBLE_API_ADDR)` : '';
        logger.error({ err: error }, `kubernetes API did not start${hint}`);
        throw error;
      }
      // An election in progress (a restarted board rejoining) times the first writes out: try again.
      logger.warn({ err: error, attempt }, 'kubernetes API not started yet; retrying');
      await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
    }
  }
}
