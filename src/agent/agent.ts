// The node agent as `bramble up` runs it: the pod reconcile loop on the container runtime and the
// Node object, both through a Client (in-process on the node's own registry).
import Dockerode from 'dockerode';
import type { Logger } from 'pino';
import { DEFAULT_MAX_PODS, type Client } from '../client/index.ts';
import { ClientPodApi, clientConfigSource, clientServiceLister } from './client-adapters.ts';
import type { ServiceLister } from './pods/service-env.ts';
import { Coalescer } from './coalescer.ts';
import { IMAGE_ANNOTATIONS, type ImagePlatformsLimits } from './image-platforms.ts';
import { watchImagePlatforms, type ImageWatch } from './image-watch.ts';
import { processPlatform, readNodeConditions, readNodeFacts, readNodeHealth, type NodeCondition } from './node-info.ts';
import { NodeRegistration } from './node-registration.ts';
import { MetricsSampler } from './metrics-sampler.ts';
import { PodReconciler } from './pods/reconciler.ts';
import { PodWorker } from './pods/pod-worker.ts';
import { type ClusterDnsSettings, readHostResolvConf } from './pods/dns-config.ts';
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
  /**
   * The node's address for other nodes (Node InternalIP, pods' hostIP): fixed, or derived again at
   * every status check (a board whose DHCP lease moves it); the Node is written only when it changed.
   */
  internalIP: string | (() => Promise<string>);
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
  /**
   * How often the pod loop lists the node's containers to catch an exit the engine's event stream
   * missed (exits are noticed at once through the events; default 20 s).
   */
  podRelistPeriodMs?: number;
  /** How often an unreachable Docker engine is tried again. */
  runtimeRetryIntervalMs?: number;
  /** The Docker network new pod sandboxes join, once the board's pod bridge exists (`--pod-network host-gw`). */
  podNetwork?: () => string | undefined;
  /** The board's cluster DNS once it answers: pods with dnsPolicy ClusterFirst name it in their resolv.conf. */
  clusterDns?: () => ClusterDnsSettings | undefined;
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

/** What runs on the engine once it answered: the runtime, the pod loop and the image watch. */
interface OnEngine {
  runtime: DockerRuntime;
  pods: PodReconciler;
  images: ImageWatch;
  stop(): Promise<void>;
}

export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const { logger } = options;
  const docker = options.runtime === 'docker' ? new Dockerode() : null;
  let onEngine: OnEngine | null = null;
  let stopped = false;
  const address = new BoardAddress(options.internalIP);
  await address.refresh();
  const registration = new NodeRegistration({
    ...pick(options, 'client', 'nodeName', 'apiPort'),
    internalIP: address.current,
    ...(options.healthMinIntervalMs !== undefined ? { healthMinIntervalMs: options.healthMinIntervalMs } : {}),
  });

  let nodeLabels: Record<string, string> = {};
  const nodeSync = new Coalescer(
    async () => {
      await address.refresh().catch((error: unknown) => logger.warn({ err: error }, 'could not derive this board\'s address; the last one stands'));
      nodeLabels = await syncNodeObject(options, registration, docker, onEngine, address.current);
    },
    (error) => {
      if (!stopped) logger.warn({ err: error }, 'could not update this node\'s Node object; trying again at the next check');
    },
  );
  const syncNode = () => nodeSync.run();

  await syncNode();
  const metrics = startMetrics(options, () => onEngine, () => nodeLabels);
  const statusTimer = setInterval(() => void syncNode(), options.nodeStatusIntervalMs ?? 10_000);
  statusTimer.unref();
  if (options.runtime === 'none') logger.info('node agent started with --runtime none: this node runs no pods');

  const warnOnce = onceLogger(logger);
  const connecting = retryUntilDone(async () => {
    if (!docker) return true;
    const started = await startOnEngine(options, docker, warnOnce, syncNode, address.get);
    if (started && stopped) await started.stop(); // stop() ran meanwhile: nothing may outlive it
    else if (started) {
      onEngine = started;
      void syncNode();
    }
    return started !== null;
  }, options.runtimeRetryIntervalMs ?? 10_000);
  await connecting.first;

  return {
    runtime: () => onEngine?.runtime ?? null,
    syncNode,
    registration,
    metrics,
    stop: async () => {
      stopped = true;
      metrics.stop();
      clearInterval(statusTimer);
      connecting.stop();
      await onEngine?.stop();
      await nodeSync.stop();
    },
  };
}

/** The board's address: fixed, or derived again on refresh(); `current` is the last one derived. */
class BoardAddress {
  current = '127.0.0.1';
  constructor(private readonly source: string | (() => Promise<string>)) {
    if (typeof source === 'string') this.current = source;
  }
  readonly get = (): string => this.current;
  async refresh(): Promise<void> {
    if (typeof this.source !== 'string') this.current = await this.source();
  }
}

/** metrics.k8s.io samples of the node and of the pods on the engine, once it answers. */
function startMetrics(options: AgentOptions, onEngine: () => OnEngine | null, nodeLabels: () => Record<string, string>): MetricsSampler {
  const metrics = new MetricsSampler({
    ...pick(options, 'nodeName', 'dataDir', 'hostRoot'),
    runtime: () => onEngine()?.runtime ?? null,
    nodeLabels,
    podLabels: (uid) => onEngine()?.pods.pod(uid)?.metadata.labels,
    intervalMs: options.metricsIntervalMs ?? 10_000,
    onError: (error) => options.logger.debug({ err: error }, 'metrics sample failed'),
  });
  metrics.start();
  return metrics;
}

function pick<T, K extends keyof T>(from: T, ...keys: K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((key) => [key, from[key]])) as Pick<T, K>;
}

/** Runs `attempt` now and again every `intervalMs` until it returns true or `stop` is called. */
function retryUntilDone(attempt: () => Promise<boolean>, intervalMs: number): { first: Promise<void>; stop(): void } {
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const run = async (): Promise<void> => {
    if (stopped || (await attempt()) || stopped) return;
    timer = setTimeout(() => void run(), intervalMs);
    timer.unref();
  };
  return {
    first: run(),
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

/** Logs the unreachable engine once with what to do: it is retried every few seconds, for as long as it takes. */
function onceLogger(logger: Logger): (error: unknown) => void {
  let warned = false;
  return (error) => {
    if (warned) return;
    warned = true;
    const socket = process.env['DOCKER_HOST'] ?? '/var/run/docker.sock';
    logger.warn(
      { err: error },
      `cannot use the Docker engine at ${socket} (${(error as Error).message}): this node runs no pods until it can and reports Ready=False. ` +
        'Start Docker (sudo systemctl start docker; on a new board: sudo apt-get install docker.io), or pass --runtime none to run this node without pods. Trying again every few seconds.',
    );
  };
}

/** The runtime, the pod loop and the image watch on a reachable engine; null (logged) when it is not ready yet. */
async function startOnEngine(options: AgentOptions, docker: Dockerode, warnUnreachable: (error: unknown) => void, syncNode: () => Promise<void>, hostIP: () => string): Promise<OnEngine | null> {
  const { logger } = options;
  let runtime: DockerRuntime;
  try {
    runtime = await DockerRuntime.create({
      docker,
      nodeName: options.nodeName,
      scope: options.dataDir,
      ...(options.podNetwork ? { podNetwork: options.podNetwork } : {}),
      ...(options.pauseBusyboxPath ? { pauseBusyboxPath: options.pauseBusyboxPath } : {}),
    });
  } catch (error) {
    warnUnreachable(error);
    return null;
  }
  const services = clientServiceLister(options.client, logger);
  const pods = podLoop(options, runtime, hostIP, services);
  try {
    await pods.start();
  } catch (error) {
    logger.warn({ err: error }, 'the pod loop could not start (listing this node\'s pods failed); trying again');
    await pods.stop().catch(() => undefined);
    services.stop();
    return null;
  }
  const images = await watchImagePlatforms(runtime, {
    logger,
    refreshIntervalMs: options.imageRefreshIntervalMs ?? 300_000,
    ...(options.imagePlatformsLimits ? { limits: options.imagePlatformsLimits } : {}),
    onChange: () => void syncNode(),
  });
  const version = await runtime.version();
  logger.info({ engine: `${version.runtimeName}://${version.runtimeVersion}` }, 'node agent running pods on the Docker engine');
  return {
    runtime,
    pods,
    images,
    stop: async () => {
      await images.stop();
      await pods.stop();
      services.stop();
    },
  };
}

/** The pod reconcile loop over the node's own client. */
function podLoop(options: AgentOptions, runtime: DockerRuntime, hostIP: () => string, services: ServiceLister): PodReconciler {
  const { logger } = options;
  const dns = { cluster: options.clusterDns ?? (() => undefined), host: () => readHostResolvConf() };
  const worker = new PodWorker({ runtime, hostIP, dataDir: options.dataDir, configSource: clientConfigSource(options.client), services, dns });
  return new PodReconciler({
    worker,
    api: new ClientPodApi(options.client, { logger }),
    nodeName: options.nodeName,
    ...(options.podRelistPeriodMs !== undefined ? { relistPeriodMs: options.podRelistPeriodMs } : {}),
    onError: (uid, error) => logger.warn({ pod: uid || undefined, err: error }, uid ? 'pod sync failed; retried with backoff' : 'listing this node\'s containers failed; tried again at the next relist'),
  });
}

/** Reads the node's facts, conditions and health and writes its Node when something changed; returns the node's labels. */
async function syncNodeObject(options: AgentOptions, registration: NodeRegistration, docker: Dockerode | null, onEngine: OnEngine | null, internalIP: string): Promise<Record<string, string>> {
  const runtime: RuntimeVersion = onEngine ? await onEngine.runtime.version() : { runtimeName: options.runtime, runtimeVersion: 'unavailable', platform: processPlatform() };
  const reachable = docker && onEngine ? await docker.ping().then(() => true, () => false) : false;
  const [facts, conditions] = await Promise.all([
    readNodeFacts({ nodeName: options.nodeName, hostRoot: options.hostRoot, runtime, maxPods: options.maxPods ?? DEFAULT_MAX_PODS, reservedMemoryBytes: options.reservedMemoryBytes ?? 256 * 1024 * 1024 }),
    readNodeConditions({ hostRoot: options.hostRoot, dataDir: options.dataDir, runtimeReachable: reachable }),
  ]);
  const shown = options.runtime === 'none' ? conditions.map((c) => (c.type === 'Ready' ? noRuntimeCondition : c)) : conditions;
  const health = await readNodeHealth(options.hostRoot, Number(facts.capacity.cpu));
  const imageAnnotations = onEngine?.images.annotations();
  const annotations = imageAnnotations ? { owned: IMAGE_ANNOTATIONS, values: imageAnnotations } : undefined;
  const result = await registration.sync({ facts, conditions: shown, health, internalIP, ...(annotations ? { annotations } : {}) });
  if (result !== 'unchanged') options.logger.info({ result, ready: shown.find((c) => c.type === 'Ready')?.status }, 'node object written');
  return facts.labels;
}
