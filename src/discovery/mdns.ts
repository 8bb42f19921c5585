import type { RemoteInfo } from 'node:dgram';
import type { Answer, Question } from 'dns-packet';
import makeMdns from 'multicast-dns';
import type { Logger } from 'pino';
import { type Announcement, announcementRecords, hostTarget, instanceName, type Peer, peersInPacket, serviceType } from './records.ts';

export const defaultMdnsPort = 5353;
export const mdnsGroup = '224.0.0.251';

export interface MdnsOptions {
  /** This node's current announcement; read at every send, so state changes go out with the next one. */
  self: () => Announcement;
  logger: Logger;
  /** UDP port (5353 on a real LAN). */
  port?: number;
  /** IPv4 address of the interface to use; default: every interface. */
  interfaceAddress?: string;
  /** Unsolicited announcements while forming; members announce four times less often. */
  announceIntervalMs: number;
  /** Hosts (from --join) that may not hear our multicast: they also get our packets by unicast. */
  unicastHosts?: string[];
  /** Called when the set of peers or one of their announcements changes. */
  onChange?: () => void;
  /**
   * While true the node only browses: it announces nothing, answers no query and asks for the
   * service at every tick (a board looking for a member to join with its token must not look
   * like a forming board to the others).
   */
  quiet?: () => boolean;
}

interface Known {
  peer: Peer;
  heardAtMs: number;
  fingerprint: string;
}

export interface MdnsCounters {
  packets: number;
  /** Packets multicast-dns could not decode, and handler failures: counted, never fatal. */
  garbage: number;
  announcementsSent: number;
}

const memberIntervalFactor = 4;
/** A peer is forgotten after missing this many of its announcements. */
const missedAnnouncements = 3.5;

/**
 * DNS-SD over multicast DNS (RFC 6762/6763) with multicast-dns: announces this node as
 * `<name>-<id>._bramble._tcp.local` (PTR, SRV, TXT, A), answers queries for it, and browses
 * continuously, keeping a table of the peers heard recently. Packets it cannot decode, and
 * records it cannot use, are counted and ignored.
 */
export class MdnsDiscovery {
  private mdns: makeMdns.MulticastDNS | undefined;
  private readonly known = new Map<string, Known>();
  private timer: NodeJS.Timeout | undefined;
  private sinceAnnounce = 0;
  readonly counters: MdnsCounters = { packets: 0, garbage: 0, announcementsSent: 0 };
  private readonly port: number;

  constructor(private readonly o: MdnsOptions) {
    this.port = o.port ?? defaultMdnsPort;
  }

  async start(): Promise<void> {
    const mdns = makeMdns({ port: this.port, ip: mdnsGroup, ...(this.o.interfaceAddress ? { interface: this.o.interfaceAddress } : {}) });
    this.mdns = mdns;
    await new Promise<void>((resolve, reject) => {
      mdns.once('ready', () => resolve());
      mdns.once('error', (error: Error) => reject(new Error(`mDNS could not listen on UDP port ${this.port}: ${error.message}`)));
    });
    mdns.on('error', (error: Error) => this.o.logger.warn({ err: error.message }, 'mDNS socket error'));
    mdns.on('warning', (error: Error) => {
      this.counters.garbage++;
      this.o.logger.debug({ err: error.message }, 'ignored an mDNS packet that does not decode');
    });
    mdns.on('query', (query, rinfo) => this.guard(() => this.onQuery(query.questions, rinfo)));
    mdns.on('response', (response, rinfo) => this.guard(() => this.onResponse(response, rinfo)));
    mdns.on('packet', () => this.counters.packets++);
    this.query();
    this.announce();
    // Ticks at the forming interval; members send every fourth tick.
    this.timer = setInterval(() => this.tick(), this.o.announceIntervalMs);
  }

  /** Sends this node's records now (after a state change, or on a timer). */
  announce(): void {
    this.sinceAnnounce = 0;
    if (this.o.quiet?.()) return;
    const records = announcementRecords(this.o.self());
    this.send({ answers: records }, this.unicastTargets());
    this.counters.announcementsSent++;
  }

  /** Peers heard recently (any cluster id), without this node. */
  peers(): Peer[] {
    this.expire(Date.now());
    return [...this.known.values()].map((known) => known.peer);
  }

  /** Says goodbye (TTL 0), so browsers drop this node at once, and closes the socket. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    const mdns = this.mdns;
    if (!mdns) return;
    this.mdns = undefined;
    if (!this.o.quiet?.()) await new Promise<void>((resolve) => {
      mdns.respond({ answers: announcementRecords(this.o.self(), 0) }, () => resolve());
      setTimeout(resolve, 200).unref();
    });
    await new Promise<void>((resolve) => mdns.destroy(() => resolve()));
  }

  private tick(): void {
    this.sinceAnnounce++;
    const factor = this.o.self().state === 'member' ? memberIntervalFactor : 1;
    if (this.sinceAnnounce >= factor) this.announce();
    if (this.o.quiet?.()) this.query(this.o.unicastHosts ?? []);
    else if (this.o.unicastHosts?.length) this.query(this.o.unicastHosts);
    const before = this.known.size;
    this.expire(Date.now());
    if (this.known.size !== before) this.o.onChange?.();
  }

  private query(unicast: string[] = []): void {
    const questions: Question[] = [{ name: serviceType, type: 'PTR' }];
    this.send({ questions }, unicast);
  }

  private send(packet: { questions: Question[] } | { answers: Answer[] }, unicast: string[]): void {
    const mdns = this.mdns;
    if (!mdns) return;
    const report = (error: Error | null) => {
      if (error) this.o.logger.debug({ err: error.message }, 'mDNS send failed');
    };
    for (const target of [undefined, ...unicast.map((host) => ({ port: this.port, address: host }))]) {
      if ('questions' in packet) mdns.query(packet, target, report);
      else mdns.respond(packet, target, report);
    }
  }

  private unicastTargets(): string[] {
    const hosts = new Set(this.o.unicastHosts ?? []);
    for (const { peer } of this.known.values()) if (peer.unicast) hosts.add(peer.addresses[0] ?? peer.sourceAddress);
    return [...hosts];
  }

  private onQuery(questions: Question[], rinfo: RemoteInfo): void {
    if (!Array.isArray(questions) || this.o.quiet?.()) return;
    const self = this.o.self();
    const ours = new Set([serviceType, '_services._dns-sd._udp.local', instanceName(self).toLowerCase(), hostTarget(self).toLowerCase()]);
    const asked = questions.some((question) => typeof question?.name === 'string' && ours.has(question.name.toLowerCase()));
    if (!asked) return;
    const records = announcementRecords(self);
    // A query from a port other than 5353 is a legacy unicast query (RFC 6762 §6.7): answer the sender directly.
    if (rinfo.port !== this.port) {
      this.mdns?.respond({ answers: records }, { port: rinfo.port, address: rinfo.address }, () => undefined);
      return;
    }
    const direct = this.unicastTargets().includes(rinfo.address) ? [rinfo.address] : [];
    this.send({ answers: records }, direct);
  }

  private onResponse(response: { answers?: Answer[]; additionals?: Answer[] }, rinfo: RemoteInfo): void {
    const selfId = this.o.self().nodeId;
    const { peers, departed } = peersInPacket(response, rinfo.address);
    let changed = false;
    for (const id of departed) changed = this.known.delete(id) || changed;
    const now = Date.now();
    for (const peer of peers) {
      if (peer.nodeId === selfId) continue;
      const fingerprint = JSON.stringify(peer);
      const previous = this.known.get(peer.nodeId);
      this.known.set(peer.nodeId, { peer, heardAtMs: now, fingerprint });
      if (previous?.fingerprint !== fingerprint) changed = true;
    }
    if (changed) this.o.onChange?.();
  }

  private expire(nowMs: number): void {
    for (const [id, known] of this.known) {
      const factor = known.peer.state === 'member' ? memberIntervalFactor : 1;
      if (nowMs - known.heardAtMs > this.o.announceIntervalMs * factor * missedAnnouncements) this.known.delete(id);
    }
  }

  private guard(handler: () => void): void {
    try {
      handler();
    } catch (error) {
      this.counters.garbage++;
      this.o.logger.debug({ err: (error as Error).message }, 'ignored an mDNS packet the browser could not use');
    }
  }
}
