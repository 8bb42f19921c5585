// Starts a node's API: credentials and PKI from the data dir, the registry over the replicated
// store, RBAC fed by watches of the rbac kinds, admission, the HTTPS server, and the objects every
// cluster starts with. Writes <dataDir>/kubeconfig (0600) for the admin.
import { writeFileSync } from 'node:fs';
import { arch, hostname } from 'node:os';
import { join } from 'node:path';
import { createAdmissionChain, defaultAdmissionPlugins } from './admission/index.ts';
import { bootstrapRbacObjects, createAuthenticator, createRbacAuthorizer, createRequestGate, ensureAuthFiles, RbacCache } from './auth/index.ts';
import { loadSecretCipher } from './encryption/index.ts';
import { adminKubeconfig } from './kubeconfig.ts';
import { ensurePki, servingHosts } from './pki.ts';
import { ApiError, Registry, type RegistryStore } from './registry.ts';
import { findByKind, type KubeObject } from './resources/index.ts';
import { ApiServer } from './server.ts';
import { NodeForwarder } from './node-forward.ts';
import { PodStreamRouter } from './pod-stream-router.ts';
import type { PodStreams } from './pod-streams.ts';
import { MetricsRouter, type MetricsSource } from './metrics.ts';
import type { ApiFeeds } from './feeds.ts';
import { eventLoopCheck, Health, HEALTH_PATH_PREFIXES, pingCheck, type HealthCheck, type HealthEndpoint } from './health.ts';
import { DEFAULT_FAIRNESS, Fairness, type FairnessOptions } from './fairness.ts';
import { wellKnownServices } from './well-known-services.ts';

export interface ApiOptions {
  dataDir: string;
  store: RegistryStore;
  host: string;
  port: number;
  nodeName: string;
  gitVersion: string;
  /** How the RBAC cache and the peer CAs follow the store (the node assembly passes client/cache's apiFeeds). */
  feeds: ApiFeeds;
  /** Checks of the layers above (the store's leader, shutdown), after ping and event-loop on each endpoint. */
  healthChecks?: Partial<Record<HealthEndpoint, readonly HealthCheck[]>>;
  /** Per-user rate and in-flight limits (default DEFAULT_FAIRNESS). */
  fairness?: FairnessOptions;
  /** The range Services get their cluster IP from (default 10.43.0.0/16). */
  serviceCidr?: string;
}

export interface RunningApi {
  url: string;
  kubeconfigPath: string;
  registry: Registry;
  /** The node agent's logs/exec for pods bound to this node (null: none served here). */
  setPodStreams(streams: PodStreams | null): void;
  /** The node agent's in-memory samples for metrics.k8s.io. */
  setMetrics(source: MetricsSource | null): void;
  stop(): Promise<void>;
}

function goArch(): string {
  return arch() === 'x64' ? 'amd64' : arch();
}

/** The objects a new cluster starts with (created if missing; existing ones are left alone). */
function bootstrapObjects(nodeName: string): KubeObject[] {
  const namespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'].map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
  const node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: nodeName, labels: { 'kubernetes.io/arch': goArch(), 'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': nodeName } },
    spec: {},
  };
  return [...namespaces, ...bootstrapRbacObjects(), node];
}

/** Creates what is missing; `tolerated` are the other answers that leave an object alone (besides 409: it exists). */
async function ensureObjects(registry: Registry, objects: readonly KubeObject[], tolerated: readonly number[] = []): Promise<void> {
  for (const obj of objects) {
    const info = findByKind(obj.apiVersion, obj.kind);
    if (!info) throw new Error(`bootstrap: ${obj.apiVersion} ${obj.kind} is not in the catalog`);
    try {
      await registry.create(info, obj.metadata.namespace, obj);
    } catch (error) {
      if (!(error instanceof ApiError && (error.status.code === 409 || tolerated.includes(error.status.code ?? 0)))) throw error;
    }
  }
}

export async function startApi(options: ApiOptions): Promise<RunningApi> {
  const pki = await ensurePki(options.dataDir, servingHosts(options.host, options.nodeName));
  const auth = ensureAuthFiles(options.dataDir);
  const { cipher } = loadSecretCipher(options.dataDir);
  const registry = new Registry(options.store, cipher, undefined, options.serviceCidr ? { serviceCidr: options.serviceCidr } : {});
  await ensureObjects(registry, bootstrapObjects(options.nodeName));
  // A 422 leaves them alone: a user's Service already holds the well-known address (the API still serves).
  // The target port is cosmetic (each board's endpoint names its own API port); 0 is a test's "any port".
  await ensureObjects(registry, wellKnownServices(registry.serviceCidr, options.port === 0 ? 6443 : options.port), [422]);

  const rbac = new RbacCache();
  // Followed by the injected feed (list, watch, relist with backoff on any end or failure), so
  // authorization never runs on rules older than the store and no failure escapes as a rejection.
  const rbacFeed = await options.feeds.rbac(registry, rbac);
  const authorizer = createRbacAuthorizer(rbac);
  // The server trusts peer CAs once it listens; the forwarder learns them before that.
  const trusted: { server?: ApiServer } = {};
  const forwarder = new NodeForwarder({
    store: options.store,
    registry,
    follow: options.feeds.storePrefix,
    nodeName: options.nodeName,
    caCertPem: pki.caCertPem,
    clientCertPem: pki.adminCertPem,
    clientKeyPem: pki.adminKeyPem,
    onPeerCas: (cas) => trusted.server?.trustClientCas(cas),
  });
  const podStreams = new PodStreamRouter({ registry, nodeName: options.nodeName, forwarder });
  const metrics = new MetricsRouter({ registry, nodeName: options.nodeName, forwarder });
  const gate = createRequestGate(createAuthenticator({ adminToken: auth.adminToken, tokenFile: auth.tokenFilePath }), authorizer, { anonymousPaths: HEALTH_PATH_PREFIXES });
  const eventLoop = eventLoopCheck();
  const extra = options.healthChecks ?? {};
  const health = new Health({
    livez: [pingCheck, eventLoop, ...(extra.livez ?? [])],
    readyz: [pingCheck, eventLoop, ...(extra.readyz ?? [])],
    healthz: [pingCheck, eventLoop, ...(extra.healthz ?? [])],
  });
  const server = new ApiServer({
    registry,
    gate,
    admission: createAdmissionChain(defaultAdmissionPlugins()),
    tls: { key: pki.serverKeyPem, cert: pki.serverCertPem, ca: pki.caCertPem },
    host: options.host,
    port: options.port,
    gitVersion: options.gitVersion,
    authorizer,
    podStreams,
    metrics,
    health,
    fairness: new Fairness(options.fairness ?? DEFAULT_FAIRNESS),
  });
  const address = await server.start();
  trusted.server = server;
  await forwarder.start({ host: options.host, port: address.port });
  const shownHost = options.host === '0.0.0.0' || options.host === '::' ? hostname() : options.host;
  const url = `https://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${address.port}`;
  const kubeconfigPath = join(options.dataDir, 'kubeconfig');
  writeFileSync(kubeconfigPath, adminKubeconfig(url, pki, auth.adminToken), { mode: 0o600 });
  return {
    url,
    kubeconfigPath,
    registry,
    setPodStreams: (streams) => podStreams.setLocal(streams),
    setMetrics: (source) => metrics.setLocal(source),
    stop: async () => {
      forwarder.stop();
      rbacFeed.stop();
      eventLoop.stop();
      await server.stop();
    },
  };
}
