// The board's cluster DNS server: Services and Endpoints from the one list-and-watch cache, the
// zone rebuilt lazily (at the first query after a change, so a burst of writes costs one build),
// the resolver on UDP and TCP. Every board runs its own, answering its own pods from its own
// cache: a DNS answer never waits for another board.
import { type Client, Kinds } from '../../client/index.ts';
import { type CacheLogger, ObjectInformer } from '../../client/cache/index.ts';
import { answerQuery, type ResolverCounters } from './resolver.ts';
import { type RunningDnsServer, startDnsServer } from './server.ts';
import { forwardQuery, limitInFlight } from './upstream.ts';
import { ClusterZone } from './zone.ts';

export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';
/** Upstream forwards at once (each holds a UDP socket up to its timeout); more get SERVFAIL. */
export const MAX_FORWARDS_IN_FLIGHT = 256;

export interface ClusterDnsOptions {
  client: Client;
  host: string;
  port: number;
  /** Default cluster.local. */
  domain?: string;
  /** Where names outside the cluster go (the board's resolvers); none: SERVFAIL at once. */
  upstreams: readonly string[];
  upstreamTimeoutMs?: number;
  logger: CacheLogger;
}

export interface RunningClusterDns {
  port: number;
  counters: Readonly<ResolverCounters>;
  stop(): Promise<void>;
}

export async function startClusterDns(o: ClusterDnsOptions): Promise<RunningClusterDns> {
  const services = new ObjectInformer(o.client, Kinds.services, { logger: o.logger });
  const endpoints = new ObjectInformer(o.client, Kinds.endpoints, { logger: o.logger });
  const domain = o.domain ?? DEFAULT_CLUSTER_DOMAIN;
  let zone: ClusterZone | undefined;
  services.on(() => (zone = undefined));
  endpoints.on(() => (zone = undefined));
  await Promise.all([services.start(), endpoints.start()]);
  const counters: ResolverCounters = { dropped: 0, answered: 0, forwarded: 0, failed: 0 };
  const deps = {
    zone: () => (zone ??= new ClusterZone(domain, services.list(), endpoints.list())),
    forward: limitInFlight((query: Buffer) => forwardQuery(query, { servers: o.upstreams, ...(o.upstreamTimeoutMs ? { timeoutMs: o.upstreamTimeoutMs } : {}) }), MAX_FORWARDS_IN_FLIGHT),
    counters,
  };
  let server: RunningDnsServer;
  try {
    server = await startDnsServer({ host: o.host, port: o.port, handle: (query, udpLimit) => answerQuery(query, deps, udpLimit) });
  } catch (error) {
    services.stop();
    endpoints.stop();
    throw error;
  }
  o.logger.info({ host: o.host, port: server.port, domain, upstreams: o.upstreams }, 'cluster DNS answering');
  return {
    port: server.port,
    counters,
    stop: async () => {
      services.stop();
      endpoints.stop();
      await server.stop();
    },
  };
}
