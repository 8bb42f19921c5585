// Service ClusterIPs (from the service CIDR) and NodePorts (30000-32767), as Kubernetes' service
// REST storage allocates them. Pure: what is taken is derived from the stored Services, never kept
// elsewhere, so a deleted Service's IP and ports are free again at once. The Registry reads the
// Services and writes the allocated one in a single store transaction that claims each new number
// (see registry.ts), so two concurrent creates never both get the same IP or port.
import { failure, formatIPv4, invalid, ipv4Network, parseIPv4, parseIPv4Cidr, type FieldError, type Ipv4Cidr, type KubeObject, type Status } from './resources/index.ts';

export const DEFAULT_SERVICE_CIDR = '10.43.0.0/16';
/** Offsets in the range of the two Services every cluster has (the API's and the DNS one). */
export const KUBERNETES_SERVICE_OFFSET = 1;
export const DNS_SERVICE_OFFSET = 10;
export const NODE_PORT_MIN = 30000;
export const NODE_PORT_MAX = 32767;
const NODE_PORT_RANGE_TEXT = `${NODE_PORT_MIN}-${NODE_PORT_MAX}`;
/** The smallest range that still holds the DNS Service's address (offset 10) and a few others. */
const MIN_PREFIX = 28;

/** An IPv4 service range; usable addresses exclude the network and broadcast ones, as Kubernetes'. */
export type ServiceCidr = Ipv4Cidr;

/** Parses and checks `--service-cidr`; the error message says what is wrong and what would do. */
export function parseServiceCidr(text: string): ServiceCidr {
  const cidr = parseIPv4Cidr(text);
  if (!cidr) throw new Error(`"${text}" is not an IPv4 CIDR (a.b.c.d/n), e.g. ${DEFAULT_SERVICE_CIDR}`);
  const { base, prefix } = cidr;
  if (prefix > MIN_PREFIX) throw new Error(`${text} is too small: the DNS Service takes the range's 10th address, so the prefix must be /${MIN_PREFIX} or shorter (e.g. ${DEFAULT_SERVICE_CIDR})`);
  if (prefix < 12) throw new Error(`${text} is too large: at most a /12 (1,048,576 addresses), as Kubernetes allows (e.g. ${DEFAULT_SERVICE_CIDR})`);
  const network = ipv4Network(base, prefix);
  if (network !== base) throw new Error(`${text} has host bits set: the network is ${formatIPv4(network)}/${prefix}`);
  return { base, prefix, text: `${formatIPv4(base)}/${prefix}` };
}

/** The address `offset` places after the network address (1: the `kubernetes` Service's). */
export function serviceIPAt(range: ServiceCidr, offset: number): string {
  return formatIPv4((range.base + offset) >>> 0);
}

/** Usable offsets are 1 .. lastOffset (the network and broadcast addresses are never handed out). */
function lastOffset(range: ServiceCidr): number {
  return 2 ** (32 - range.prefix) - 2;
}

/** The offset of an address in the usable part of the range, or undefined. */
function offsetOf(range: ServiceCidr, ip: string): number | undefined {
  const value = parseIPv4(ip);
  if (value === undefined) return undefined;
  const offset = value - range.base;
  return offset >= 1 && offset <= lastOffset(range) ? offset : undefined;
}

/**
 * Kubernetes keeps the low part of the range for addresses users ask for (min(max(16, size/16),
 * 256)): dynamic allocation takes the upper part first, so a requested low address is rarely taken.
 */
function staticBand(range: ServiceCidr): number {
  const size = 2 ** (32 - range.prefix);
  if (size < 16) return 0;
  return Math.min(Math.max(16, Math.floor(size / 16)), 256);
}

/** IPs and node ports held by Services, by number. */
export interface Allocations {
  ips: Set<number>;
  ports: Set<number>;
}

interface PortView {
  port?: unknown;
  protocol?: unknown;
  nodePort?: unknown;
}

interface ServiceSpecView {
  type?: unknown;
  clusterIP?: unknown;
  clusterIPs?: unknown;
  ports?: unknown;
  allocateLoadBalancerNodePorts?: unknown;
}

function specOf(service: KubeObject): ServiceSpecView {
  const spec = service['spec'];
  return spec !== null && typeof spec === 'object' ? (spec as ServiceSpecView) : {};
}

function portsOf(spec: ServiceSpecView): PortView[] {
  return Array.isArray(spec.ports) ? spec.ports.filter((p): p is PortView => p !== null && typeof p === 'object') : [];
}

const nodePortOf = (p: PortView): number | undefined => (typeof p.nodePort === 'number' && p.nodePort !== 0 ? p.nodePort : undefined);

/** What the stored Services hold (`services` should not include the one being written). */
export function allocationsOf(services: readonly KubeObject[], range: ServiceCidr): Allocations {
  const out: Allocations = { ips: new Set(), ports: new Set() };
  for (const svc of services) {
    const spec = specOf(svc);
    const offset = typeof spec.clusterIP === 'string' ? offsetOf(range, spec.clusterIP) : undefined;
    if (offset !== undefined) out.ips.add(offset);
    for (const p of portsOf(spec)) {
      const port = nodePortOf(p);
      if (port !== undefined) out.ports.add(port);
    }
  }
  return out;
}

export type AllocationResult = { ok: true; service: KubeObject } | { ok: false; status: Status } | { ok: false; errors: FieldError[] };

/** A free number of [first, last], scanning from a random start and wrapping; undefined when none. */
function pickFree(first: number, last: number, taken: (n: number) => boolean, random: () => number): number | undefined {
  const size = last - first + 1;
  if (size <= 0) return undefined;
  const start = Math.floor(random() * size);
  for (let i = 0; i < size; i++) {
    const n = first + ((start + i) % size);
    if (!taken(n)) return n;
  }
  return undefined;
}

function rangeFull(what: 'serviceIP' | 'nodePort'): Status {
  const message = `failed to allocate a ${what}: range is full`;
  return failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
}

const hasNodePorts = (spec: ServiceSpecView): boolean =>
  spec.type === 'NodePort' || (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);

/** The well-known addresses dynamic allocation never hands out (the kubernetes and kube-dns Services'). */
const RESERVED_OFFSETS = new Set([KUBERNETES_SERVICE_OFFSET, DNS_SERVICE_OFFSET]);

function allocateIP(spec: ServiceSpecView, oldSpec: ServiceSpecView | undefined, taken: Allocations, range: ServiceCidr, random: () => number): AllocationResult | undefined {
  if (spec.type === 'ExternalName') {
    delete spec.clusterIP;
    delete spec.clusterIPs;
    return undefined;
  }
  const ips = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [];
  let wanted = typeof spec.clusterIP === 'string' && spec.clusterIP !== '' ? spec.clusterIP : typeof ips[0] === 'string' ? ips[0] : '';
  if (wanted === 'None') {
    spec.clusterIP = 'None';
    spec.clusterIPs = ['None'];
    return undefined;
  }
  if (wanted !== '' && wanted !== oldSpec?.clusterIP) {
    const offset = offsetOf(range, wanted);
    const field = 'spec.clusterIPs';
    if (offset === undefined) {
      return { ok: false, errors: [invalid(field, [wanted], `failed to allocate IP ${wanted}: the provided IP (${wanted}) is not in the valid range. The range of valid IPs is ${range.text}`)] };
    }
    if (taken.ips.has(offset)) return { ok: false, errors: [invalid(field, [wanted], `failed to allocate IP ${wanted}: provided IP is already allocated`)] };
  }
  if (wanted === '') {
    const free = (n: number): boolean => taken.ips.has(n) || RESERVED_OFFSETS.has(n);
    const last = lastOffset(range);
    const band = Math.min(staticBand(range), last);
    const offset = pickFree(band + 1, last, free, random) ?? pickFree(1, band, free, random);
    if (offset === undefined) return { ok: false, status: rangeFull('serviceIP') };
    wanted = serviceIPAt(range, offset);
  }
  spec.clusterIP = wanted;
  spec.clusterIPs = [wanted];
  return undefined;
}

function allocatePorts(spec: ServiceSpecView, oldSpec: ServiceSpecView | undefined, taken: Allocations, random: () => number): AllocationResult | undefined {
  const ports = portsOf(spec);
  if (!hasNodePorts(spec)) {
    for (const p of ports) delete p.nodePort;
    return undefined;
  }
  const own = new Set(portsOf(oldSpec ?? {}).map(nodePortOf).filter((n): n is number => n !== undefined));
  const used = new Set<number>();
  const errors: FieldError[] = [];
  ports.forEach((p, i) => {
    const requested = nodePortOf(p);
    if (requested === undefined) return;
    used.add(requested);
    if (own.has(requested)) return;
    const field = `spec.ports[${i}].nodePort`;
    if (requested < NODE_PORT_MIN || requested > NODE_PORT_MAX) errors.push(invalid(field, requested, `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_RANGE_TEXT}`));
    else if (taken.ports.has(requested)) errors.push(invalid(field, requested, 'provided port is already allocated'));
  });
  if (errors.length > 0) return { ok: false, errors };
  for (const p of ports) {
    if (nodePortOf(p) !== undefined) continue;
    const port = pickFree(NODE_PORT_MIN, NODE_PORT_MAX, (n) => taken.ports.has(n) || used.has(n), random);
    if (port === undefined) return { ok: false, status: rangeFull('nodePort') };
    used.add(port);
    p.nodePort = port;
  }
  return undefined;
}

/**
 * Fills in the Service's ClusterIP and node ports (a copy; `old` is the stored Service on an
 * update, whose IP and ports stay its own). A requested IP or port outside its range or held by
 * another Service is Kubernetes' 422 field error; a full range its 500.
 */
export function allocateService(service: KubeObject, old: KubeObject | undefined, taken: Allocations, range: ServiceCidr, random: () => number = Math.random): AllocationResult {
  const copy = structuredClone(service);
  const spec = specOf(copy);
  if (copy['spec'] !== spec) copy['spec'] = spec;
  const oldSpec = old ? specOf(old) : undefined;
  return allocateIP(spec, oldSpec, taken, range, random) ?? allocatePorts(spec, oldSpec, taken, random) ?? { ok: true, service: copy };
}

/**
 * What writing `next` over `old` (undefined: a create) takes that `old` did not hold: the numbers
 * another Service could want at the same time, and so the ones the write must claim.
 */
export function newAllocations(next: KubeObject, old: KubeObject | undefined, range: ServiceCidr): Allocations {
  const wanted = allocationsOf([next], range);
  if (!old) return wanted;
  const held = allocationsOf([old], range);
  return { ips: new Set([...wanted.ips].filter((n) => !held.ips.has(n))), ports: new Set([...wanted.ports].filter((n) => !held.ports.has(n))) };
}
