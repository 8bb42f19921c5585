// The cluster's DNS zone, pure: built from Services and Endpoints, asked one question at a time.
// Names follow the Kubernetes DNS specification (and CoreDNS's "pods insecure" mode):
//   <svc>.<ns>.svc.<domain>          A: the ClusterIP, or a headless Service's ready endpoint IPs
//   <host>.<svc>.<ns>.svc.<domain>   A: one endpoint of a headless Service (its hostname, else a-b-c-d)
//   _<port>._<proto>.<svc>.<ns>.svc.<domain>   SRV per named port
//   <a-b-c-d>.<ns>.pod.<domain>      A: a.b.c.d
//   d.c.b.a.in-addr.arpa             PTR: a ClusterIP or a headless endpoint back to its name
// An ExternalName Service answers a CNAME. A name in the domain that does not exist is NXDOMAIN;
// an existing name asked for another type is NODATA (NOERROR, no answer); both carry the SOA so
// resolvers cache the negative answer for the zone's TTL.
import type { Answer, Question, SoaAnswer } from 'dns-packet';
import { asEndpoints, asService, type KubeObject } from '../../client/index.ts';

export const DNS_TTL_SECONDS = 5;

export type ZoneAnswer =
  | { kind: 'answer'; answers: Answer[]; additionals: Answer[] }
  | { kind: 'nodata'; authority: SoaAnswer }
  | { kind: 'nxdomain'; authority: SoaAnswer }
  /** Not ours: forward to the upstream resolvers. */
  | { kind: 'forward' };

interface Endpoint {
  ip: string;
  hostname?: string;
  ports: { name?: string; port: number; protocol: string }[];
}

interface ZoneService {
  name: string;
  namespace: string;
  /** undefined for headless. */
  clusterIP?: string;
  externalName?: string;
  ports: { name?: string; port: number; protocol: string }[];
  ready: Endpoint[];
}

/** An Endpoints address as the API stores it; `hostname` is set for pods with spec.hostname and a matching subdomain. */
interface AddressWithHostname {
  ip: string;
  hostname?: string;
}

function lower(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function dashed(ip: string): string {
  return ip.replaceAll('.', '-');
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

export class ClusterZone {
  private readonly services = new Map<string, ZoneService>();
  private readonly reverse = new Map<string, string[]>();
  private readonly soa: SoaAnswer;

  constructor(
    readonly domain: string,
    services: readonly KubeObject[],
    endpoints: readonly KubeObject[],
  ) {
    this.domain = lower(domain);
    this.soa = {
      type: 'SOA', name: this.domain, ttl: DNS_TTL_SECONDS,
      data: { mname: `ns.dns.${this.domain}`, rname: `hostmaster.${this.domain}`, serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: DNS_TTL_SECONDS },
    };
    const readyByKey = new Map<string, Endpoint[]>();
    for (const ep of endpoints) readyByKey.set(`${ep.metadata.namespace}/${ep.metadata.name}`, readyEndpoints(ep));
    for (const obj of services) this.add(obj, readyByKey.get(`${obj.metadata.namespace}/${obj.metadata.name}`) ?? []);
  }

  private add(obj: KubeObject, ready: Endpoint[]): void {
    const spec = asService(obj).spec ?? {};
    const headless = spec.clusterIP === 'None' || (!spec.clusterIP && spec.type !== 'ExternalName');
    const svc: ZoneService = {
      name: lower(obj.metadata.name ?? ''),
      namespace: lower(obj.metadata.namespace ?? 'default'),
      ...(headless ? {} : spec.clusterIP ? { clusterIP: spec.clusterIP } : {}),
      ...(spec.type === 'ExternalName' && spec.externalName ? { externalName: lower(spec.externalName) } : {}),
      ports: (spec.ports ?? []).map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.port, protocol: p.protocol ?? 'TCP' })),
      ready,
    };
    const fqdn = `${svc.name}.${svc.namespace}.svc.${this.domain}`;
    this.services.set(fqdn, svc);
    if (svc.clusterIP) this.addReverse(svc.clusterIP, fqdn);
    if (headless) for (const ep of ready) this.addReverse(ep.ip, `${ep.hostname ?? dashed(ep.ip)}.${fqdn}`);
  }

  private addReverse(ip: string, name: string): void {
    const key = ip.split('.').reverse().join('.') + '.in-addr.arpa';
    this.reverse.set(key, [...(this.reverse.get(key) ?? []), name]);
  }

  answer(question: Question): ZoneAnswer {
    const name = lower(question.name);
    if (name.endsWith('.in-addr.arpa')) return this.answerReverse(name, question);
    if (name !== this.domain && !name.endsWith(`.${this.domain}`)) return { kind: 'forward' };
    const labels = name.slice(0, name.length - this.domain.length).replace(/\.$/, '').split('.').filter(Boolean);
    const found = this.lookup(labels, name);
    if (found === undefined) return { kind: 'nxdomain', authority: this.soa };
    const answers = found.filter((a) => a.type === question.type || (a.type === 'CNAME' && question.type !== 'SRV'));
    if (answers.length === 0) return { kind: 'nodata', authority: this.soa };
    return { kind: 'answer', answers, additionals: question.type === 'SRV' ? this.srvTargets(answers) : [] };
  }

  /** Every record of an existing name (any type), or undefined when the name does not exist. */
  private lookup(labels: string[], name: string): Answer[] | undefined {
    if (labels.length === 0) return [this.soa];
    const [first, second, third] = labels;
    if (labels.length === 3 && labels[2] === 'pod' && first && IPV4.test(first.replaceAll('-', '.'))) return [a(name, first.replaceAll('-', '.'))];
    if (labels.at(-1) !== 'svc') return undefined;
    if (labels.length === 3 && first && second) return this.serviceRecords(name, this.services.get(name));
    if (labels.length === 4 && first && second && !first.startsWith('_')) return this.endpointRecords(name, first, this.services.get(labels.slice(1).join('.') + `.${this.domain}`));
    if (labels.length === 5 && first?.startsWith('_') && second?.startsWith('_') && third) return this.srvRecords(name, first.slice(1), second.slice(1), this.services.get(labels.slice(2).join('.') + `.${this.domain}`));
    return undefined;
  }

  private serviceRecords(name: string, svc: ZoneService | undefined): Answer[] | undefined {
    if (!svc) return undefined;
    if (svc.externalName) return [{ type: 'CNAME', name, ttl: DNS_TTL_SECONDS, data: svc.externalName }];
    if (svc.clusterIP) return [a(name, svc.clusterIP)];
    return svc.ready.map((ep) => a(name, ep.ip));
  }

  private endpointRecords(name: string, host: string, svc: ZoneService | undefined): Answer[] | undefined {
    if (!svc || svc.clusterIP) return undefined;
    const matches = svc.ready.filter((ep) => (ep.hostname ?? dashed(ep.ip)) === host);
    return matches.length ? matches.map((ep) => a(name, ep.ip)) : undefined;
  }

  private srvRecords(name: string, port: string, protocol: string, svc: ZoneService | undefined): Answer[] | undefined {
    if (!svc) return undefined;
    const fqdn = `${svc.name}.${svc.namespace}.svc.${this.domain}`;
    if (svc.clusterIP) {
      const match = svc.ports.filter((p) => p.name === port && p.protocol.toLowerCase() === protocol);
      return match.length ? match.map((p) => srv(name, fqdn, p.port)) : undefined;
    }
    const answers = svc.ready.flatMap((ep) => ep.ports.filter((p) => p.name === port && p.protocol.toLowerCase() === protocol).map((p) => srv(name, `${ep.hostname ?? dashed(ep.ip)}.${fqdn}`, p.port)));
    return answers.length ? answers : undefined;
  }

  /** The A records of SRV targets, so a client needs no second query. */
  private srvTargets(answers: Answer[]): Answer[] {
    const extra: Answer[] = [];
    for (const answer of answers) {
      if (answer.type !== 'SRV') continue;
      const found = this.answer({ type: 'A', name: answer.data.target });
      if (found.kind === 'answer') extra.push(...found.answers);
    }
    return extra;
  }

  private answerReverse(name: string, question: Question): ZoneAnswer {
    const names = this.reverse.get(name);
    if (!names) return { kind: 'forward' };
    if (question.type !== 'PTR') return { kind: 'nodata', authority: this.soa };
    return { kind: 'answer', answers: names.map((data) => ({ type: 'PTR', name, ttl: DNS_TTL_SECONDS, data })), additionals: [] };
  }
}

function a(name: string, ip: string): Answer {
  return { type: 'A', name, ttl: DNS_TTL_SECONDS, data: ip };
}

function srv(name: string, target: string, port: number): Answer {
  return { type: 'SRV', name, ttl: DNS_TTL_SECONDS, data: { priority: 0, weight: 100, port, target } };
}

function readyEndpoints(obj: KubeObject): Endpoint[] {
  const out: Endpoint[] = [];
  for (const subset of asEndpoints(obj).subsets ?? []) {
    const ports = (subset.ports ?? []).map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.port, protocol: p.protocol ?? 'TCP' }));
    for (const address of (subset.addresses ?? []) as AddressWithHostname[]) {
      out.push({ ip: address.ip, ...(address.hostname ? { hostname: lower(address.hostname) } : {}), ports });
    }
  }
  return out;
}
