import type { Answer, Packet, TxtData } from 'dns-packet';

/** The DNS-SD service type every node announces (RFC 6763), so `avahi-browse -rt _bramble._tcp` lists it. */
export const serviceType = '_bramble._tcp.local';

export type FormationState = 'forming' | 'member';
export type ProposalPhase = 'propose' | 'ready';

/** What one node tells the LAN about itself (its TXT record plus the addresses of its A records). */
export interface Announcement {
  clusterId: string;
  nodeName: string;
  /** Stable random id of this node's data dir; orders nodes for bootstrap and tells same-named boards apart. */
  nodeId: string;
  peerPort: number;
  clientPort: number;
  /** 0 when the Kubernetes API is off. */
  apiPort: number;
  arch: string;
  version: string;
  state: FormationState;
  /** The node ids of the first voters this node proposes (or is locked on, or formed with); empty for none. */
  boot: string[];
  phase: ProposalPhase | null;
  /** The node may not hear multicast (it was given --join): answer it by unicast too. */
  unicast: boolean;
  addresses: string[];
}

/** What a browse learns about a peer: its announcement and when it was last heard. */
export interface Peer extends Announcement {
  /** Where the packet came from (used when it carries no usable A record). */
  sourceAddress: string;
}

const nodeIdPattern = /^[0-9a-f]{12}$/;
const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const ipv4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
/** TXT values are single strings of at most 255 bytes (RFC 6763 §6.1); the boot list must fit in one. */
export const maxBootstrapExpect = 9;

export function instanceName(announcement: Pick<Announcement, 'nodeName' | 'nodeId'>): string {
  // The id keeps two boards flashed with the same host name apart.
  return `${announcement.nodeName}-${announcement.nodeId.slice(0, 6)}.${serviceType}`;
}

export function hostTarget(announcement: Pick<Announcement, 'nodeId'>): string {
  // Not <hostname>.local: the board's own responder (avahi) may already publish that name.
  return `bramble-${announcement.nodeId}.local`;
}

export function txtStrings(a: Announcement): string[] {
  return [
    'txtvers=1',
    `cluster=${a.clusterId}`,
    `name=${a.nodeName}`,
    `id=${a.nodeId}`,
    `peer=${a.peerPort}`,
    `client=${a.clientPort}`,
    `api=${a.apiPort}`,
    `arch=${a.arch}`,
    `version=${a.version}`,
    `state=${a.state}`,
    `boot=${a.boot.join(',')}`,
    `phase=${a.phase ?? ''}`,
    `unicast=${a.unicast ? 1 : 0}`,
  ];
}

const recordTtlSeconds = 120;
const hostTtlSeconds = 120;

/** PTR (service type -> instance), SRV (instance -> host, port), TXT, and one A per address. */
export function announcementRecords(a: Announcement, ttlSeconds = recordTtlSeconds): Answer[] {
  const instance = instanceName(a);
  const target = hostTarget(a);
  const hostTtl = ttlSeconds === 0 ? 0 : hostTtlSeconds;
  return [
    { name: serviceType, type: 'PTR', ttl: ttlSeconds, data: instance },
    { name: '_services._dns-sd._udp.local', type: 'PTR', ttl: ttlSeconds, data: serviceType },
    { name: instance, type: 'SRV', ttl: ttlSeconds, flush: true, data: { priority: 0, weight: 0, port: a.peerPort, target } },
    { name: instance, type: 'TXT', ttl: ttlSeconds, flush: true, data: txtStrings(a) },
    ...a.addresses.map((address): Answer => ({ name: target, type: 'A', ttl: hostTtl, flush: true, data: address })),
  ];
}

function txtMap(data: TxtData): Map<string, string> | null {
  const parts = Array.isArray(data) ? data : [data];
  const map = new Map<string, string>();
  for (const part of parts) {
    const text = Buffer.isBuffer(part) ? part.toString('utf8') : String(part);
    const separator = text.indexOf('=');
    if (separator <= 0) continue;
    const key = text.slice(0, separator).toLowerCase();
    // RFC 6763 §6.4: only the first occurrence of a key counts.
    if (!map.has(key)) map.set(key, text.slice(separator + 1));
  }
  return map;
}

function port(text: string | undefined, allowZero: boolean): number | null {
  if (text === undefined || !/^\d{1,5}$/.test(text)) return null;
  const value = Number(text);
  return value <= 65535 && (allowZero || value > 0) ? value : null;
}

/** Parses our TXT keys; null when anything a peer must have is missing or malformed (such a record is ignored). */
export function parseTxt(data: TxtData): Omit<Announcement, 'addresses'> | null {
  const txt = txtMap(data);
  if (!txt) return null;
  const clusterId = txt.get('cluster');
  const nodeName = txt.get('name');
  const nodeId = txt.get('id');
  const peerPort = port(txt.get('peer'), false);
  const clientPort = port(txt.get('client'), false);
  const apiPort = port(txt.get('api') ?? '0', true);
  const state = txt.get('state');
  if (!clusterId || clusterId.length > 64 || !nodeName || !dnsLabel.test(nodeName) || !nodeId || !nodeIdPattern.test(nodeId)) return null;
  if (peerPort === null || clientPort === null || apiPort === null || (state !== 'forming' && state !== 'member')) return null;
  const bootText = txt.get('boot') ?? '';
  const boot = bootText === '' ? [] : bootText.split(',');
  if (boot.length > maxBootstrapExpect || boot.some((id) => !nodeIdPattern.test(id))) return null;
  const phaseText = txt.get('phase') ?? '';
  const phase = phaseText === 'propose' || phaseText === 'ready' ? phaseText : null;
  return {
    clusterId,
    nodeName,
    nodeId,
    peerPort,
    clientPort,
    apiPort,
    arch: (txt.get('arch') ?? 'unknown').slice(0, 32),
    version: (txt.get('version') ?? 'unknown').slice(0, 32),
    state,
    boot,
    phase,
    unicast: txt.get('unicast') === '1',
  };
}

/**
 * Every Bramble node a response packet describes (answers and additionals together, as
 * responders split them differently). Malformed or partial records are skipped, never thrown.
 * Goodbyes (TTL 0 on the TXT) come back in `departed`.
 */
export function peersInPacket(packet: Pick<Packet, 'answers' | 'additionals'>, sourceAddress: string): { peers: Peer[]; departed: string[] } {
  const records = [...(Array.isArray(packet.answers) ? packet.answers : []), ...(Array.isArray(packet.additionals) ? packet.additionals : [])];
  const addresses = new Map<string, string[]>();
  const targets = new Map<string, string>();
  for (const record of records) {
    if (!record || typeof record !== 'object' || typeof record.name !== 'string') continue;
    if (record.type === 'A' && typeof record.data === 'string' && ipv4.test(record.data)) {
      const key = record.name.toLowerCase();
      addresses.set(key, [...(addresses.get(key) ?? []), record.data]);
    }
    if (record.type === 'SRV' && record.data && typeof record.data === 'object' && typeof record.data.target === 'string') {
      targets.set(record.name.toLowerCase(), record.data.target.toLowerCase());
    }
  }
  const peers: Peer[] = [];
  const departed: string[] = [];
  for (const record of records) {
    if (!record || record.type !== 'TXT' || typeof record.name !== 'string') continue;
    const name = record.name.toLowerCase();
    if (!name.endsWith(`.${serviceType}`)) continue;
    const parsed = record.data === undefined ? null : parseTxt(record.data);
    if (!parsed) continue;
    if (record.ttl === 0) {
      departed.push(parsed.nodeId);
      continue;
    }
    const target = targets.get(name) ?? hostTarget(parsed);
    peers.push({ ...parsed, addresses: addresses.get(target) ?? [], sourceAddress });
  }
  return { peers, departed };
}

/** The address to reach a peer at: its first A record, else where its packet came from. */
export function peerHost(peer: Peer): string {
  return peer.addresses[0] ?? peer.sourceAddress;
}
