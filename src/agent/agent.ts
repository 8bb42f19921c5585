// The node agent as `bramble up` runs it: the pod reconcile loop on the container runtime and the
// Node object, both through a Client (in-process on the node's own registry).
import Dockerode from 'dockerode';
import type { Logger } from 'pino';
import type { Client } from '../client/index.ts';
import { ClientPodApi, clientConfigSource } from './client-adapters.ts';
import { IMAGE_ANNOTATIONS, IMAGE_PLATFORMS_ANNOTATION, IMAGE_PLATFORMS_OMITTED_ANNOTATION, defaultImagePlatformsLimits, imagePlatformsAnnotations, type ImagePlatformsLimits } from './image-platforms.ts';
import { processPlatform, readNodeConditions, readNodeFacts, readNodeHealth, type NodeCondition } from './node-info.ts';
import { NodeRegistration } from './node-registration.ts';
import { MetricsSampler } from './metrics-sampler.ts';
import { PodReconciler } from './pods/reconciler.ts';
import { PodWorker } from './pods/pod-worker.ts';
import { DockerRuntime } from './runtime/docker-runtime.ts';
import type { Runtime, RuntimeVersion } from './runtime/runtime.ts';

export type RuntimeKind = 'docker' | 'none';

export interface AgentOptions {
  client: Client;
  nodeName: string;
  dataDir: string;
  /** "/" on a board; tests pass a fake Pi tree (see NodeFactsOptions.hostRoot). */
  hostRoot: string;
  runtime: RuntimeKind;
  /** The node's address for other nodes (Node InternalIP, pods' hostIP). */
  internalIP: string;
  apiPort: number;
  logger: Logger;
  /** How often node conditions are read (a write happens only when one changes). */
  nodeStatusIntervalMs?: number;
  /** A change of the health annotations (load, temperature) alone is written at most this often (default 5 min). */
  healthMinIntervalMs?: number;
  /** How often node and pod usage are sampled for metrics.k8s.io (memory only). */
  metricsIntervalMs?: number;
  /**
   * How often the engine's images are listed again for the Node's image-platforms annotation even
   * without an image event from the engine (events refresh it at once; this is the safety net).
   */
  imageRefreshIntervalMs?: number;
  imagePlatformsLimits?: ImagePlatformsLimits;
  /** How often an unreachable Docker engine is tried again. */
  runtimeRetryIntervalMs?: number;
  /** Static busybox for the pause image (default /bin/busybox, Debian's busybox-static). */
  pauseBusyboxPath?: string;
  maxPods?: number;
  reservedMemoryBytes?: number;
}

export interface RunningAgent {
  /** The runtime once the engine answered; null with --runtime none or while it is unreachable. */
  runtime(): Runtime | null;
  /** Reads the node now and writes its Node if something changed. */
  syncNode(): Promise<void>;
  registration: NodeRegistration;
  /** metrics.k8s.io samples of this node and its pods, in memory. */
  metrics: MetricsSampler;
  stop(): Promise<void>;
}

const noRuntimeCondition: NodeCondition = {
  type: 'Ready',
  status: 'False',
  reason: 'NoContainerRuntime',
  message: 'this node was started with --runtime none and runs no pods: start it with --runtime docker to run pods here',
};

export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const { logger } = options;
  const docker = options.runtime === 'docker' ? new Dockerode() : null;
  let runtime: DockerRuntime | null = null;
  let reconciler: PodReconciler | null = null;
  let stopped = false;
  let retryTimer: NodeJS.Timeout | null = null;
  let warned = false;
  let imageAnnotations: Record<string, string> | null = null;
  let stopImageWatch: (() => void) | null = null;
  let imageTimer: NodeJS.Timeout | null = null;
  let imageDebounce: NodeJS.Timeout | null = null;
  const registration = new NodeRegistration({
    client: options.client,
    nodeName: options.nodeName,
    internalIP: options.internalIP,
    apiPort: options.apiPort,
    ...(options.healthMinIntervalMs !== undefined ? { healthMinIntervalMs: options.healthMinIntervalMs } : {}),
  });

  const retry = (): void => {
    retryTimer = setTimeout(() => void connect(), options.runtimeRetryIntervalMs ?? 10_000);
    retryTimer.unref();
  };

  const connect = async (): Promise<void> => {
    if (!docker || stopped) return;
    let created: DockerRuntime;
    try {
      created = await DockerRuntime.create({
        docker,
        nodeName: options.nodeName,
        scope: options.dataDir,
        ...(options.pauseBusyboxPath ? { pauseBusyboxPath: options.pauseBusyboxPath } : {}),
      });
    } catch (error) {
      if (!warned) {
        warned = true;
        const socket = process.env['DOCKER_HOST'] ?? '/var/run/docker.sock';
        logger.warn(
          { err: error },
          `cannot use the Docker engine at ${socket} (${(error as Error).message}): this node runs no pods until it can and reports Ready=False. ` +
            'Start Docker (sudo systemctl start docker; on a new board: sudo apt-get install docker.io), or pass --runtime none to run this node without pods. Trying again every few seconds.',
        );
      }
      retry();
      return;
    }
    const worker = new PodWorker({ runtime: created, hostIP: options.internalIP, dataDir: options.dataDir, configSource: clientConfigSource(options.client) });
    const loop = new PodReconciler({
      worker,
      api: new ClientPodApi(options.client, { onRelist: (reason) => logger.info({ reason }, 'pod watch restarted from a fresh list') }),
      nodeName: options.nodeName,
      onError: (uid, error) => logger.warn({ pod: uid, err: error }, 'pod sync failed; retried at the next resync'),
    });
    try {
      await loop.start();
    } catch (error) {
      logger.warn({ err: error }, 'the pod loop could not start (listing this node\'s pods failed); trying again');
      await loop.stop().catch(() => undefined);
      retry();
      return;
    }
    if (stopped) {
      await loop.stop();
      return;
    }
    runtime = created;
    reconciler = loop;
    const version = await created.version();
    await refreshImages();
    if (stopped) return; // stop() ran meanwhile: no event stream may outlive it
    stopImageWatch = created.watchImages(imagesMayHaveChanged);
    imageTimer = setInterval(() => void refreshImages(), options.imageRefreshIntervalMs ?? 300_000);
    imageTimer.unref();
    logger.info({ engine: `${version.runtimeName}://${version.runtimeVersion}` }, 'node agent running pods on the Docker engine');
    void syncNode();
  };

  // One listing at a time; a change reported meanwhile gets one more listing after it.
  let refreshing: Promise<void> | null = null;
  let refreshAgain = false;
  const refreshImages = (): Promise<void> => {
    if (refreshing) {
      refreshAgain = true;
      return refreshing;
    }
    refreshing = (async () => {
      const current = runtime;
      if (!current || stopped) return;
      try {
        const next = imagePlatformsAnnotations(await current.listImages(), options.imagePlatformsLimits ?? defaultImagePlatformsLimits);
        if (JSON.stringify(next) === JSON.stringify(imageAnnotations)) return;
        imageAnnotations = next;
        const published = next[IMAGE_PLATFORMS_ANNOTATION];
        logger.info(
          { references: published ? Object.keys(JSON.parse(published) as object).length : 0, omittedImages: Number(next[IMAGE_PLATFORMS_OMITTED_ANNOTATION] ?? 0) },
          'local image platforms changed; the Node annotation follows',
        );
        void syncNode();
      } catch (error) {
        logger.debug({ err: error }, 'listing local images failed; tried again at the next image event or interval');
      }
    })().finally(() => {
      refreshing = null;
      if (refreshAgain && !stopped) {
        refreshAgain = false;
        void refreshImages();
      }
    });
    return refreshing;
  };

  // A `docker load` or pull sends a burst of events: list once the burst is over.
  const imagesMayHaveChanged = (): void => {
    if (imageDebounce || stopped) return;
    imageDebounce = setTimeout(() => {
      imageDebounce = null;
      void refreshImages();
    }, 500);
    imageDebounce.unref();
  };

  const runtimeVersion = async (): Promise<RuntimeVersion> =>
    runtime ? runtime.version() : { runtimeName: options.runtime, runtimeVersion: 'unavailable', platform: processPlatform() };

  const reachable = async (): Promise<boolean> => {
    if (!docker || !runtime) return false;
    return docker.ping().then(
      () => true,
      () => false,
    );
  };

  let nodeLabels: Record<string, string> = {};
  let syncing: Promise<void> | null = null;
  let syncAgain = false;
  const syncNode = (): Promise<void> => {
    if (syncing) {
      // The running sync may have read the node before the change that asked for this one.
      syncAgain = true;
      return syncing;
    }
    return (syncing = (async () => {
      try {
        const [facts, conditions] = await Promise.all([
          readNodeFacts({ nodeName: options.nodeName, hostRoot: options.hostRoot, runtime: await runtimeVersion(), maxPods: options.maxPods ?? 110, reservedMemoryBytes: options.reservedMemoryBytes ?? 256 * 1024 * 1024 }),
          readNodeConditions({ hostRoot: options.hostRoot, dataDir: options.dataDir, runtimeReachable: await reachable() }),
        ]);
        const shown = options.runtime === 'none' ? conditions.map((c) => (c.type === 'Ready' ? noRuntimeCondition : c)) : conditions;
        const health = await readNodeHealth(options.hostRoot, Number(facts.capacity.cpu));
        nodeLabels = facts.labels;
        const annotations = runtime && imageAnnotations ? { owned: IMAGE_ANNOTATIONS, values: imageAnnotations } : undefined;
        const result = await registration.sync({ facts, conditions: shown, health, ...(annotations ? { annotations } : {}) });
        if (result !== 'unchanged') logger.info({ result, ready: shown.find((c) => c.type === 'Ready')?.status }, 'node object written');
      } catch (error) {
        if (!stopped) logger.warn({ err: error }, 'could not update this node\'s Node object; trying again at the next check');
      } finally {
        syncing = null;
        if (syncAgain && !stopped) {
          syncAgain = false;
          void syncNode();
        }
      }
    })());
  };

  await syncNode();
  const metrics = new MetricsSampler({
    nodeName: options.nodeName,
    dataDir: options.dataDir,
    hostRoot: options.hostRoot,
    runtime: () => runtime,
    nodeLabels: () => nodeLabels,
    podLabels: (uid) => reconciler?.pod(uid)?.metadata.labels,
    intervalMs: options.metricsIntervalMs ?? 10_000,
    onError: (error) => logger.debug({ err: error }, 'metrics sample failed'),
  });
  metrics.start();
  const statusTimer = setInterval(() => void syncNode(), options.nodeStatusIntervalMs ?? 10_000);
  statusTimer.unref();
  if (options.runtime === 'none') logger.info('node agent started with --runtime none: this node runs no pods');
  await connect();

  return {
    runtime: () => runtime,
    syncNode,
    registration,
    metrics,
    stop: async () => {
      stopped = true;
      metrics.stop();
      clearInterval(statusTimer);
      if (retryTimer) clearTimeout(retryTimer);
      if (imageTimer) clearInterval(imageTimer);
      if (imageDebounce) clearTimeout(imageDebounce);
      stopImageWatch?.();
      await refreshing;
      await reconciler?.stop();
      await syncing;
    },
  };
}
