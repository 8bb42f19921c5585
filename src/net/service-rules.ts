// The Service proxy's rules, planned as a whole: from the Services, their endpoints, the board's
// addresses and what iptables holds now, the full text of Bramble's own chains for one
// `iptables-restore --noflush` (the same layout as kube-proxy's iptables mode, under Bramble's
// names). Pure: the runner (service-proxy.ts) reads `iptables-save`, calls this, and applies the
// text only when it changed. Only chains named BRAMBLE-* are written; the built-in chains get
// just the jumps into them, added when missing. Declaring a chain in a --noflush restore flushes
// it, so every own chain is rewritten whole, and in one transaction per table: a packet sees the
// old rules or the new ones, never a half.
//
// nat:    PREROUTING, OUTPUT -> BRAMBLE-SERVICES: a ClusterIP:port -> BRAMBLE-SVC-<hash> (one per
//         Service port) -> one BRAMBLE-SEP-<hash> per endpoint, picked at random with equal chances
//         (`statistic`), sticky per client with `recent` for sessionAffinity ClientIP; the SEP
//         chain DNATs. Last in BRAMBLE-SERVICES, traffic to one of the board's addresses goes on to
//         BRAMBLE-NODEPORTS. POSTROUTING -> BRAMBLE-POSTROUTING masquerades what was marked on the
//         way in: traffic from outside the cluster CIDR (the return path must cross this board
//         again), NodePort traffic, and a pod reaching itself through its Service (hairpin: without
//         it the pod would answer itself directly and the client would drop the reply).
// filter: INPUT, OUTPUT, FORWARD -> BRAMBLE-SERVICES: new connections to a Service port with no
//         usable endpoint are REJECTed (the client sees "connection refused" at once instead of
//         hanging until a timeout). FORWARD -> BRAMBLE-FORWARD accepts traffic marked by the nat
//         rules before Docker's FORWARD policy (DROP) can drop a NodePort connection to a pod.
import { createHash } from 'node:crypto';
import { type EndpointGroup, type ProxyService, type ProxyServicePort, usableEndpoints } from './service-model.ts';

export const SERVICES_CHAIN = 'BRAMBLE-SERVICES';
export const NODEPORTS_CHAIN = 'BRAMBLE-NODEPORTS';
export const POSTROUTING_CHAIN = 'BRAMBLE-POSTROUTING';
export const MARK_MASQ_CHAIN = 'BRAMBLE-MARK-MASQ';
export const FORWARD_CHAIN = 'BRAMBLE-FORWARD';
/**
 * The packet mark bit meaning "masquerade this on the way out". Not kube-proxy's 0x4000, so a board
 * that also runs k3s or kube-proxy for another purpose keeps both sets of rules apart.
 */
export const MASQ_MARK = '0x2000';

/** Per-Service and per-endpoint chains: removed again when their Service or endpoint goes. */
const SERVICE_CHAIN_PREFIX = 'BRAMBLE-SVC-';
const ENDPOINT_CHAIN_PREFIX = 'BRAMBLE-SEP-';
const OWN_STALE_PREFIXES = [SERVICE_CHAIN_PREFIX, ENDPOINT_CHAIN_PREFIX];

/** One table as `iptables-save -t <table>` shows it: its chains and each chain's rules ("-A ..."). */
export interface TableState {
  chains: Set<string>;
  rules: Map<string, string[]>;
}

export interface CurrentRules {
  nat: TableState;
  filter: TableState;
}

export interface RulesInput {
  services: readonly ProxyService[];
  groups: readonly EndpointGroup[];
  /** The board's own IPv4 addresses NodePorts answer on (loopback is never among them). */
  nodeAddresses: readonly string[];
  /** The pod network (e.g. 10.42.0.0/16): traffic from outside it to a ClusterIP is masqueraded. */
  clusterCidr: string;
  current: CurrentRules;
}

/** A Service port as programmed: what the conntrack cleanup compares between two plans. */
export interface PlannedPort {
  /** "namespace/name" or "namespace/name:port-name" */
  name: string;
  protocol: ProxyServicePort['protocol'];
  clusterIP: string;
  port: number;
  nodePort?: number;
  /** "ip:port" of the endpoints traffic goes to; empty: the port REJECTs. */
  endpoints: string[];
}

export interface RulesPlan {
  /** Input for `iptables-restore --noflush` (filter, then nat). */
  text: string;
  ports: PlannedPort[];
  /** Jump rules from the built-in chains that were missing or out of place (re-added by `text`). */
  jumpsRepaired: string[];
}

/** Parses `iptables-save` output of one table (the first table in it). */
export function parseSave(text: string): TableState {
  const state: TableState = { chains: new Set(), rules: new Map() };
  for (const line of text.split('\n')) {
    if (line.startsWith(':')) {
      const name = line.slice(1).split(' ')[0] ?? '';
      state.chains.add(name);
      if (!state.rules.has(name)) state.rules.set(name, []);
    } else if (line.startsWith('-A ')) {
      const chain = line.split(' ')[1] ?? '';
      const rules = state.rules.get(chain) ?? [];
      rules.push(line);
      state.rules.set(chain, rules);
    } else if (line === 'COMMIT' && state.chains.size > 0) break;
  }
  return state;
}

export const emptyTable = (): TableState => ({ chains: new Set(), rules: new Map() });

/** RFC 4648 base32 of the first 10 bytes of sha256: 16 characters, stable across restarts. */
function hash16(input: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bytes = createHash('sha256').update(input).digest().subarray(0, 10);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/** "namespace/name" or "namespace/name:port-name". */
export const portName = (service: ProxyService, port: ProxyServicePort): string => (port.name ? `${service.key}:${port.name}` : service.key);

/** 28 characters, iptables' limit for a chain name. */
export const serviceChainName = (name: string, protocol: string): string => SERVICE_CHAIN_PREFIX + hash16(`${name}/${protocol}`);
export const endpointChainName = (name: string, protocol: string, endpoint: string): string => ENDPOINT_CHAIN_PREFIX + hash16(`${name}/${protocol}/${endpoint}`);

/** A rule comment, quoted for iptables-restore; anything that could end the quote or the line is dropped. */
function comment(text: string): string {
  return `-m comment --comment "${text.replace(/[^A-Za-z0-9 ._:/>-]/g, '')}"`;
}

// The jumps from the built-in chains, written as iptables-save prints them (so a saved rule and a
// planned one compare equal). In FORWARD they must come first: Docker jumps to DOCKER-USER and
// its own chains, which ACCEPT a pod's traffic, before anything appended later could REJECT it.
interface Jump {
  table: 'nat' | 'filter';
  chain: string;
  spec: string;
}
const NEW_ONLY = '-m conntrack --ctstate NEW';
const JUMPS: Jump[] = [
  { table: 'filter', chain: 'INPUT', spec: `${NEW_ONLY} ${comment('bramble service portals')} -j ${SERVICES_CHAIN}` },
  { table: 'filter', chain: 'FORWARD', spec: `${NEW_ONLY} ${comment('bramble service portals')} -j ${SERVICES_CHAIN}` },
  { table: 'filter', chain: 'FORWARD', spec: `${comment('bramble service forwarding')} -j ${FORWARD_CHAIN}` },
  { table: 'filter', chain: 'OUTPUT', spec: `${NEW_ONLY} ${comment('bramble service portals')} -j ${SERVICES_CHAIN}` },
  { table: 'nat', chain: 'PREROUTING', spec: `${comment('bramble service portals')} -j ${SERVICES_CHAIN}` },
  { table: 'nat', chain: 'OUTPUT', spec: `${comment('bramble service portals')} -j ${SERVICES_CHAIN}` },
  { table: 'nat', chain: 'POSTROUTING', spec: `${comment('bramble service postrouting')} -j ${POSTROUTING_CHAIN}` },
];
const OWN_TOP = /(?:^| )-j (BRAMBLE-(?:SERVICES|NODEPORTS|POSTROUTING|FORWARD|MARK-MASQ))(?: |$)/;

/**
 * The lines that put the jumps of one table in place: nothing when each is there once, at the
 * top of its chain, in order; otherwise every jump into an own top chain in that built-in chain is
 * deleted (by its saved text) and the set inserted again at the top.
 */
function jumpLines(table: 'nat' | 'filter', state: TableState, repaired: string[]): string[] {
  const lines: string[] = [];
  const byChain = new Map<string, Jump[]>();
  for (const jump of JUMPS.filter((j) => j.table === table)) byChain.set(jump.chain, [...(byChain.get(jump.chain) ?? []), jump]);
  for (const [chain, jumps] of byChain) {
    const existing = state.rules.get(chain) ?? [];
    const wanted = jumps.map((j) => `-A ${chain} ${j.spec}`);
    const ours = existing.filter((rule) => OWN_TOP.test(rule));
    const inPlace = ours.length === wanted.length && wanted.every((rule, i) => existing[i] === rule);
    if (inPlace) continue;
    repaired.push(`${table} ${chain}`);
    for (const rule of ours) lines.push(`-D${rule.slice(2)}`);
    jumps.forEach((jump, i) => lines.push(`-I ${chain} ${i + 1} ${jump.spec}`));
  }
  return lines;
}

const matchPort = (protocol: string, port: number): string => `-m ${protocol.toLowerCase()} --dport ${port}`;

/**
 * Equal chances: the i-th of n endpoints is taken with 1/(n-i) of what the earlier ones left.
 * Written as iptables stores and prints it (a 31-bit fraction, 11 decimals), so a saved rule reads
 * exactly as planned.
 */
const probability = (i: number, n: number): string => (Math.round(0x8000_0000 / (n - i)) / 0x8000_0000).toFixed(11);

interface Chains {
  declared: string[];
  rules: string[];
}

function servicePortRules(service: ProxyService, port: ProxyServicePort, endpoints: string[], input: RulesInput, nat: Chains, filter: Chains): void {
  const name = portName(service, port);
  const proto = port.protocol.toLowerCase();
  const dst = `-d ${service.clusterIP}/32 -p ${proto}`;
  if (endpoints.length === 0) {
    const reject = `-j REJECT --reject-with icmp-port-unreachable`;
    filter.rules.push(`-A ${SERVICES_CHAIN} ${dst} ${comment(`${name} has no endpoints`)} ${matchPort(proto, port.port)} ${reject}`);
    if (port.nodePort !== undefined) {
      for (const address of input.nodeAddresses) filter.rules.push(`-A ${SERVICES_CHAIN} -d ${address}/32 -p ${proto} ${comment(`${name} has no endpoints`)} ${matchPort(proto, port.nodePort)} ${reject}`);
    }
    return;
  }
  const svc = serviceChainName(name, port.protocol);
  nat.declared.push(svc);
  nat.rules.push(`-A ${SERVICES_CHAIN} ${dst} ${comment(`${name} cluster IP`)} ${matchPort(proto, port.port)} -j ${svc}`);
  if (port.nodePort !== undefined) {
    const np = `-A ${NODEPORTS_CHAIN} -p ${proto} ${comment(name)} ${matchPort(proto, port.nodePort)}`;
    nat.rules.push(`${np} -j ${MARK_MASQ_CHAIN}`, `${np} -j ${svc}`);
  }
  nat.rules.push(`-A ${svc} ! -s ${input.clusterCidr} ${dst} ${comment(`${name} cluster IP`)} ${matchPort(proto, port.port)} -j ${MARK_MASQ_CHAIN}`);
  const seps = endpoints.map((endpoint) => ({ endpoint, chain: endpointChainName(name, port.protocol, endpoint) }));
  const recent = (chain: string): string => `--name ${chain} --mask 255.255.255.255 --rsource`;
  if (service.affinitySeconds !== undefined) {
    for (const { endpoint, chain } of seps) {
      nat.rules.push(`-A ${svc} ${comment(`${name} -> ${endpoint}`)} -m recent --rcheck --seconds ${service.affinitySeconds} --reap ${recent(chain)} -j ${chain}`);
    }
  }
  seps.forEach(({ endpoint, chain }, i) => {
    const pick = i < seps.length - 1 ? ` -m statistic --mode random --probability ${probability(i, seps.length)}` : '';
    nat.rules.push(`-A ${svc} ${comment(`${name} -> ${endpoint}`)}${pick} -j ${chain}`);
  });
  for (const { endpoint, chain } of seps) {
    nat.declared.push(chain);
    const ip = endpoint.split(':')[0];
    const sticky = service.affinitySeconds !== undefined ? ` -m recent --set ${recent(chain)}` : '';
    nat.rules.push(`-A ${chain} -s ${ip}/32 ${comment(name)} -j ${MARK_MASQ_CHAIN}`);
    nat.rules.push(`-A ${chain} -p ${proto} ${comment(name)}${sticky} -m ${proto} -j DNAT --to-destination ${endpoint}`);
  }
}

/** Own per-Service chains iptables holds that the plan no longer has: flushed, then deleted. */
function staleChains(state: TableState, keep: ReadonlySet<string>): string[] {
  return [...state.chains].filter((c) => OWN_STALE_PREFIXES.some((p) => c.startsWith(p)) && !keep.has(c)).sort();
}

export function planServiceRules(input: RulesInput): RulesPlan {
  const nat: Chains = { declared: [SERVICES_CHAIN, NODEPORTS_CHAIN, POSTROUTING_CHAIN, MARK_MASQ_CHAIN], rules: [] };
  const filter: Chains = { declared: [SERVICES_CHAIN, FORWARD_CHAIN], rules: [] };
  const ports: PlannedPort[] = [];
  const groupsOf = new Map<string, EndpointGroup[]>();
  for (const group of input.groups) groupsOf.set(group.service, [...(groupsOf.get(group.service) ?? []), group]);

  const services = [...input.services].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const service of services) {
    for (const port of service.ports) {
      const endpoints = usableEndpoints(groupsOf.get(service.key) ?? [], port);
      servicePortRules(service, port, endpoints, input, nat, filter);
      ports.push({ name: portName(service, port), protocol: port.protocol, clusterIP: service.clusterIP, port: port.port, ...(port.nodePort !== undefined ? { nodePort: port.nodePort } : {}), endpoints });
    }
  }
  // Last in BRAMBLE-SERVICES: NodePorts, only for traffic to the board's own addresses.
  for (const address of input.nodeAddresses) nat.rules.push(`-A ${SERVICES_CHAIN} -d ${address}/32 ${comment('bramble service nodeports must be last')} -j ${NODEPORTS_CHAIN}`);
  nat.rules.push(
    `-A ${MARK_MASQ_CHAIN} -j MARK --set-xmark ${MASQ_MARK}/${MASQ_MARK}`,
    `-A ${POSTROUTING_CHAIN} -m mark ! --mark ${MASQ_MARK}/${MASQ_MARK} -j RETURN`,
    // Clear the bit, so a packet that goes through the stack again is not masqueraded twice.
    `-A ${POSTROUTING_CHAIN} -j MARK --set-xmark ${MASQ_MARK}/0x0`,
    `-A ${POSTROUTING_CHAIN} ${comment('bramble service traffic requiring SNAT')} -j MASQUERADE --random-fully`,
  );
  filter.rules.push(`-A ${FORWARD_CHAIN} ${comment('bramble service traffic to forward')} -m mark --mark ${MASQ_MARK}/${MASQ_MARK} -j ACCEPT`);

  const jumpsRepaired: string[] = [];
  const table = (name: 'nat' | 'filter', chains: Chains): string[] => {
    const state = input.current[name];
    const stale = staleChains(state, new Set(chains.declared));
    return [
      `*${name}`,
      ...[...chains.declared, ...stale].map((c) => `:${c} - [0:0]`),
      ...jumpLines(name, state, jumpsRepaired),
      ...chains.rules,
      ...stale.map((c) => `-X ${c}`),
      'COMMIT',
    ];
  };
  const text = [...table('filter', filter), ...table('nat', nat), ''].join('\n');
  return { text, ports, jumpsRepaired };
}

/**
 * What iptables holds once `plan` is applied, as far as the planner looks at it: the own chains
 * with the planned rules (the stale ones gone) and the jumps at the top of the built-in chains.
 * The runner plans the next change against it instead of reading iptables-save again (the save
 * is the slow half of a pass); a periodic full pass still reads the real thing.
 */
export function stateAfter(plan: RulesPlan): CurrentRules {
  const state: CurrentRules = { nat: emptyTable(), filter: emptyTable() };
  for (const jump of JUMPS) {
    const table = state[jump.table];
    table.chains.add(jump.chain);
    table.rules.set(jump.chain, [...(table.rules.get(jump.chain) ?? []), `-A ${jump.chain} ${jump.spec}`]);
  }
  let table = state.filter;
  for (const line of plan.text.split('\n')) {
    if (line === '*nat' || line === '*filter') table = state[line === '*nat' ? 'nat' : 'filter'];
    else if (line.startsWith(':')) {
      const chain = line.slice(1).split(' ')[0] ?? '';
      table.chains.add(chain);
      table.rules.set(chain, []);
    } else if (line.startsWith('-A ')) table.rules.get(line.split(' ')[1] ?? '')?.push(line);
    else if (line.startsWith('-X ')) {
      table.chains.delete(line.slice(3));
      table.rules.delete(line.slice(3));
    }
  }
  return state;
}
