// The Service proxy on a board (kube-proxy's job): watches Services and their EndpointSlices through
// the one list-and-watch cache and keeps Bramble's nat/filter chains equal to the plan
// (service-rules.ts). A pass plans and runs `iptables-restore --noflush` only when the plan
// differs from the last one applied or iptables drifted from it (a jump gone after a Docker
// engine restart, an own chain flushed or deleted by hand): an idle board writes nothing, and a
// pass writes only the chains that differ (service-rules-delta.ts). A pass
// for a change plans against what the last apply left; every `resyncMs` (and after a failure) a
// full pass reads `iptables-save` and compares, which is what finds drift nobody announced.
// Passes never overlap; a burst of changes costs at most one more pass. After an apply, UDP flows to
// endpoints that went away are forgotten (`conntrack -D`).
import { networkInterfaces } from 'node:os';
import { type CacheLogger, ObjectInformer } from '../client/cache/index.ts';
import { type Client, type KubeObject, Kinds, type ResourceInfo } from '../client/index.ts';
import { serialPass } from './serial-pass.ts';
import { changedChainsOnly } from './service-rules-delta.ts';
import { type ConntrackCommand, conntrackCommand, type IptablesIo, iptablesIo, readCurrent, staleUdpFlows } from './service-iptables.ts';
import { type EndpointGroup, groupsOfEndpoints, groupsOfEndpointSlice, type ProxyService, proxyServiceOf } from './service-model.ts';
import { type CurrentRules, planServiceRules, type PlannedPort, type RulesPlan, stateAfter } from './service-rules.ts';

/** Where a Service's endpoints are read from: the kind to watch and how to read one object. */
export interface EndpointSource {
  info(): ResourceInfo;
  groups(obj: KubeObject): EndpointGroup[];
}

export const ENDPOINTS_SOURCE: EndpointSource = { info: () => Kinds.endpoints, groups: groupsOfEndpoints };

export const ENDPOINT_SLICES_SOURCE: EndpointSource = { info: () => Kinds.endpointslices, groups: groupsOfEndpointSlice };

/**
 * What the proxy reads endpoints from: EndpointSlices, as kube-proxy does (they carry serving and
 * terminating). A user's hand-written Endpoints reach it through the control plane's mirroring
 * controller (control/controllers/endpointslice-mirroring.ts).
 */
export const DEFAULT_ENDPOINT_SOURCE = ENDPOINT_SLICES_SOURCE;

export interface ServiceProxyOptions {
  client: Client;
  /** The pod network: traffic to a ClusterIP from outside it is masqueraded. */
  clusterCidr: string;
  logger: CacheLogger;
  /** The board's addresses NodePorts answer on (default: every non-loopback IPv4 address, read at each pass). */
  nodeAddresses?: () => string[];
  iptables?: IptablesIo;
  conntrack?: ConntrackCommand;
  endpointSource?: EndpointSource;
  /** ClusterIPs the board answers itself (the cluster DNS on every board): no rules for them. */
  localServiceIPs?: readonly string[];
  /** A pass this often without any change, to find and repair drift (default 30 s). */
  resyncMs?: number;
  /** Told after every pass (tests and the benchmark wait on it). */
  onPass?(result: PassResult): void;
  /** Told when a pass fails (it is tried again at the next change or resync). */
  onPassFailed?(error: unknown): void;
}

export interface PassResult {
  applied: boolean;
  /** Read iptables-save (the first pass, a resync, a pass after a failure) rather than planned against the last apply. */
  full: boolean;
  /** Why it applied: 'changed', or the drift it found. */
  reasons: string[];
  ports: number;
  flushedFlows: number;
}

export interface RunningServiceProxy {
  stop(): void;
}

/** Every IPv4 address of this machine but loopback (NodePorts from localhost are not served: see README). */
export function boardAddresses(): string[] {
  const addresses: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) addresses.push(a.address);
  }
  return [...new Set(addresses)].sort();
}

/**
 * How iptables differs from a plan's own chains: missing, holding other rules than planned, or
 * stale ones still there (the jumps are the plan's `jumpsRepaired`). Planned rules are written
 * the way iptables-save prints them, so "holds as planned" is a plain comparison of lines.
 */
export function drift(plan: RulesPlan, current: CurrentRules): string[] {
  const found: string[] = [];
  let table: 'nat' | 'filter' = 'filter';
  const wanted = new Map<string, string[]>();
  const check = (): void => {
    for (const [chain, rules] of wanted) {
      const have = current[table].rules.get(chain);
      if (!current[table].chains.has(chain) || JSON.stringify(have ?? []) !== JSON.stringify(rules)) found.push(`${table} ${chain}`);
    }
    wanted.clear();
  };
  for (const line of plan.text.split('\n')) {
    if (line === '*nat' || line === '*filter') table = line === '*nat' ? 'nat' : 'filter';
    else if (line.startsWith(':')) wanted.set(line.slice(1).split(' ')[0] ?? '', []);
    else if (line.startsWith('-A ')) wanted.get(line.split(' ')[1] ?? '')?.push(line);
    else if (line.startsWith('-X ')) {
      // A stale own chain still exists (the plan deletes it): that is drift too.
      const chain = line.slice(3);
      wanted.delete(chain);
      if (current[table].chains.has(chain)) found.push(`${table} ${chain} stale`);
    }
    else if (line === 'COMMIT') check();
  }
  return found;
}

/** A plan's text without its jump repairs: what two plans compare by. */
const ownChains = (text: string): string => text.replace(/^-[ID] .*\n/gm, '');

export async function startServiceProxy(o: ServiceProxyOptions): Promise<RunningServiceProxy> {
  const io = o.iptables ?? iptablesIo();
  const conntrack = o.conntrack ?? conntrackCommand();
  const source = o.endpointSource ?? DEFAULT_ENDPOINT_SOURCE;
  const addresses = o.nodeAddresses ?? boardAddresses;
  const services = new ObjectInformer(o.client, Kinds.services, { logger: o.logger });
  const endpoints = new ObjectInformer(o.client, source.info(), { logger: o.logger });
  let applied: { text: string; ports: PlannedPort[] } | undefined;
  // What iptables holds after the last apply, when this process is sure of it; a pass for a
  // change plans against it, without an iptables-save. The timer's passes (and any pass after a
  // failure) read iptables-save instead, and find what others changed meanwhile.
  let known: CurrentRules | undefined;
  let resyncDue = false;
  let conntrackMissing = false;

  const flush = async (before: readonly PlannedPort[], after: readonly PlannedPort[]): Promise<number> => {
    let flushed = 0;
    for (const args of staleUdpFlows(before, after)) {
      if (conntrackMissing) break;
      if ((await conntrack(args)) === 'missing') {
        conntrackMissing = true;
        o.logger.warn({}, 'conntrack is not installed (Debian package conntrack): UDP clients of a removed endpoint keep their flow until it times out');
      } else flushed++;
    }
    return flushed;
  };

  const pass = async (): Promise<void> => {
    const full = resyncDue || known === undefined;
    resyncDue = false;
    const current = (!full && known) || (await readCurrent(io));
    known = undefined; // until this pass has ended well
    const plan = planServiceRules({
      services: services.list().map(proxyServiceOf).filter((s): s is ProxyService => s !== undefined && !o.localServiceIPs?.includes(s.clusterIP)),
      groups: endpoints.list().flatMap((e) => source.groups(e)),
      nodeAddresses: addresses(),
      clusterCidr: o.clusterCidr,
      current,
    });
    // The first pass after a restart finds the rules of the last run in place: nothing written.
    const reasons = plan.jumpsRepaired.map((j) => `jump ${j}`);
    if (applied !== undefined && ownChains(plan.text) !== ownChains(applied.text)) reasons.push('changed');
    else if (full) reasons.push(...drift(plan, current));
    let flushedFlows = 0;
    if (reasons.length > 0) {
      const text = changedChainsOnly(plan, current);
      if (text !== '') await io.restore(text);
      flushedFlows = await flush(applied?.ports ?? [], plan.ports);
      o.logger.info({ reasons, ports: plan.ports.length, linesWritten: text.split('\n').length - 1, flushedFlows }, 'service rules applied');
    }
    applied = { text: plan.text, ports: plan.ports };
    known = stateAfter(plan);
    o.onPass?.({ applied: reasons.length > 0, full, reasons, ports: plan.ports.length, flushedFlows });
  };

  const passes = serialPass(pass, (error) => {
    o.logger.warn({ err: error }, 'service proxy pass failed; tried again at the next change or resync');
    o.onPassFailed?.(error);
  });
  // Rules from half a picture would REJECT Services whose endpoints are not listed yet: both
  // caches hold a first list before the first pass.
  await Promise.all([services.start(), endpoints.start()]);
  services.on(() => passes.request());
  endpoints.on(() => passes.request());
  passes.request();
  const timer = setInterval(() => {
    resyncDue = true;
    passes.request();
  }, o.resyncMs ?? 30_000);
  timer.unref();
  return {
    stop: () => {
      passes.stop();
      clearInterval(timer);
      services.stop();
      endpoints.stop();
    },
  };
}
