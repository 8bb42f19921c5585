// What the Service proxy needs to know, read from the API objects: the Services a board proxies and
// the endpoints behind each port, whichever object carries them. Endpoints (core/v1) serve today;
// discovery.k8s.io/v1 EndpointSlices carry the same facts plus serving/terminating, and both are
// turned into the same EndpointGroup here, so the planner and the runner do not care which one.
// Anything malformed (a non-IPv4 address, a port out of range, an unknown protocol) is skipped:
// the API validated what it stored, and one bad object must never stop the rules of the others.
import { isIPv4 } from 'node:net';
import { keyOf } from '../client/cache/index.ts';
import type { KubeObject } from '../client/index.ts';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface ProxyServicePort {
  /** Service port name; '' for the one unnamed port. */
  name: string;
  protocol: Protocol;
  port: number;
  /** Set for NodePort and LoadBalancer Services. */
  nodePort?: number;
}

/** A Service that has a ClusterIP to program (headless, ExternalName and unallocated ones are not). */
export interface ProxyService {
  /** "namespace/name" */
  key: string;
  clusterIP: string;
  ports: ProxyServicePort[];
  /** sessionAffinity ClientIP: how long a client sticks to its endpoint, in seconds. */
  affinitySeconds?: number;
}

export interface ProxyEndpoint {
  ip: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

/** One Endpoints subset or one EndpointSlice: these endpoints listen on these ports. */
export interface EndpointGroup {
  /** "namespace/name" of the Service. */
  service: string;
  ports: Array<{ name: string; protocol: Protocol; port: number }>;
  endpoints: ProxyEndpoint[];
}

/** Kubernetes' default for sessionAffinityConfig.clientIP.timeoutSeconds (3 hours). */
export const DEFAULT_AFFINITY_SECONDS = 10_800;

const record = (value: unknown): Record<string, unknown> => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {});
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const validPort = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65_535;

function protocolOf(value: unknown): Protocol | undefined {
  const protocol = value ?? 'TCP';
  return protocol === 'TCP' || protocol === 'UDP' || protocol === 'SCTP' ? protocol : undefined;
}

function servicePortOf(raw: unknown): ProxyServicePort | undefined {
  const p = record(raw);
  const protocol = protocolOf(p['protocol']);
  if (!protocol || !validPort(p['port'])) return undefined;
  const name = typeof p['name'] === 'string' ? p['name'] : '';
  return { name, protocol, port: p['port'], ...(validPort(p['nodePort']) ? { nodePort: p['nodePort'] } : {}) };
}

/** The Service as the proxy sees it, or undefined when there is nothing to program for it. */
export function proxyServiceOf(service: KubeObject): ProxyService | undefined {
  const spec = record(service['spec']);
  const clusterIP = spec['clusterIP'];
  // Headless ('None'), not yet allocated (absent) and ExternalName Services have no virtual IP.
  if (spec['type'] === 'ExternalName' || typeof clusterIP !== 'string' || !isIPv4(clusterIP)) return undefined;
  const ports = list(spec['ports']).map(servicePortOf).filter((p): p is ProxyServicePort => p !== undefined);
  if (ports.length === 0) return undefined;
  const result: ProxyService = { key: keyOf(service), clusterIP, ports };
  if (spec['sessionAffinity'] === 'ClientIP') {
    const timeout = record(record(record(spec['sessionAffinityConfig'])['clientIP']))['timeoutSeconds'];
    const valid = typeof timeout === 'number' && Number.isInteger(timeout) && timeout >= 1 && timeout <= 86_400;
    result.affinitySeconds = valid ? timeout : DEFAULT_AFFINITY_SECONDS;
  }
  return result;
}

function groupPortsOf(raw: unknown): EndpointGroup['ports'] {
  const ports: EndpointGroup['ports'] = [];
  for (const item of list(raw)) {
    const p = record(item);
    const protocol = protocolOf(p['protocol']);
    if (protocol && validPort(p['port'])) ports.push({ name: typeof p['name'] === 'string' ? p['name'] : '', protocol, port: p['port'] });
  }
  return ports;
}

/** core/v1 Endpoints: one group per subset; addresses are ready, notReadyAddresses are neither ready nor serving. */
export function groupsOfEndpoints(endpoints: KubeObject): EndpointGroup[] {
  const service = keyOf(endpoints);
  return list(endpoints['subsets']).map((raw) => {
    const subset = record(raw);
    const of = (field: string, ready: boolean): ProxyEndpoint[] =>
      list(subset[field])
        .map((a) => record(a)['ip'])
        .filter((ip): ip is string => typeof ip === 'string' && isIPv4(ip))
        .map((ip) => ({ ip, ready, serving: ready, terminating: false }));
    return { service, ports: groupPortsOf(subset['ports']), endpoints: [...of('addresses', true), ...of('notReadyAddresses', false)] };
  });
}

/** The label an EndpointSlice names its Service by. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/**
 * discovery.k8s.io/v1 EndpointSlice: one group. Unset `ready` and `serving` mean ready (the API's
 * rule for an unknown state), unset `terminating` means not terminating. IPv6 slices are skipped.
 */
export function groupsOfEndpointSlice(slice: KubeObject): EndpointGroup[] {
  const serviceName = slice.metadata.labels?.[SERVICE_NAME_LABEL];
  if (!serviceName || (slice['addressType'] !== undefined && slice['addressType'] !== 'IPv4')) return [];
  const endpoints: ProxyEndpoint[] = [];
  for (const raw of list(slice['endpoints'])) {
    const endpoint = record(raw);
    const conditions = record(endpoint['conditions']);
    const ready = conditions['ready'] !== false;
    const serving = typeof conditions['serving'] === 'boolean' ? conditions['serving'] : ready;
    const terminating = conditions['terminating'] === true;
    const ip = list(endpoint['addresses'])[0];
    if (typeof ip === 'string' && isIPv4(ip)) endpoints.push({ ip, ready, serving, terminating });
  }
  return [{ service: `${slice.metadata.namespace ?? 'default'}/${serviceName}`, ports: groupPortsOf(slice['ports']), endpoints }];
}

/**
 * The endpoints traffic to one Service port goes to, as "ip:port", sorted: the ready ones; when
 * none is ready, those still serving while terminating (a rollout's last pods), as Kubernetes does.
 */
export function usableEndpoints(groups: readonly EndpointGroup[], port: ProxyServicePort): string[] {
  const ready = new Set<string>();
  const fallback = new Set<string>();
  for (const group of groups) {
    const target = group.ports.find((p) => p.name === port.name && p.protocol === port.protocol);
    if (!target) continue;
    for (const e of group.endpoints) {
      if (e.ready) ready.add(`${e.ip}:${target.port}`);
      else if (e.serving && e.terminating) fallback.add(`${e.ip}:${target.port}`);
    }
  }
  const chosen = ready.size > 0 ? ready : fallback;
  return [...chosen].sort(compareEndpoints);
}

/** Orders "ip:port" by address numerically, then port (stable text for the same set). */
export function compareEndpoints(a: string, b: string): number {
  const key = (e: string): number[] => {
    const [ip = '', port = '0'] = e.split(':');
    return [...ip.split('.').map(Number), Number(port)];
  };
  const ka = key(a);
  const kb = key(b);
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return (ka[i] ?? 0) - (kb[i] ?? 0);
  return 0;
}
