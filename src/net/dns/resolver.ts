// One DNS query in, one answer out (or nothing, for what must be dropped). Cluster names are
// answered from the zone (authoritative); everything else is forwarded upstream, and SERVFAIL when
// no upstream answers. Malformed packets, responses sent to us, names over 253 characters or labels
// over 63 are dropped and counted: a resolver does not argue with garbage.
import dnsPacket, { type DecodedPacket, type Packet, type Question } from 'dns-packet';
import type { ClusterZone } from './zone.ts';

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
/** What a UDP answer may hold without EDNS (RFC 1035); more sets TC and the client retries over TCP. */
export const UDP_PLAIN_LIMIT_BYTES = 512;
const MAX_NAME_CHARS = 253;
const MAX_LABEL_CHARS = 63;

export interface ResolverCounters {
  dropped: number;
  answered: number;
  forwarded: number;
  failed: number;
}

export interface ResolverDeps {
  zone(): ClusterZone;
  forward(query: Buffer): Promise<Buffer | undefined>;
  counters: ResolverCounters;
}

function decodeQuery(raw: Buffer): DecodedPacket | undefined {
  try {
    const packet = dnsPacket.decode(raw);
    return packet.type === 'query' ? packet : undefined;
  } catch {
    return undefined;
  }
}

function sane(question: Question): boolean {
  return question.name.length <= MAX_NAME_CHARS && question.name.split('.').every((label) => label.length <= MAX_LABEL_CHARS);
}

/** The opcode (bits 11-14 of the flags); only QUERY (0) is served. */
function opcodeOf(packet: DecodedPacket): number {
  return ((packet.flags ?? 0) >> 11) & 0xf;
}

function reply(query: DecodedPacket, rcode: number, body: Omit<Packet, 'type' | 'id' | 'flags' | 'questions'> = {}, authoritative = false): Packet {
  const recursionDesired = (query.flags ?? 0) & dnsPacket.RECURSION_DESIRED;
  const flags = dnsPacket.RECURSION_AVAILABLE | recursionDesired | (authoritative ? dnsPacket.AUTHORITATIVE_ANSWER : 0) | rcode;
  return { type: 'response', id: query.id ?? 0, flags, questions: query.questions ?? [], ...body };
}

/** The answer bytes for one query, or undefined to drop it. `udpLimit` truncates for UDP. */
export async function answerQuery(raw: Buffer, deps: ResolverDeps, udpLimit?: number): Promise<Buffer | undefined> {
  const query = decodeQuery(raw);
  const question = query?.questions?.length === 1 ? query.questions[0] : undefined;
  if (!query || !question || !sane(question)) {
    deps.counters.dropped++;
    return undefined;
  }
  if (opcodeOf(query) !== 0) return encode(reply(query, RCODE.NOTIMP), udpLimit);
  const found = deps.zone().answer(question);
  if (found.kind === 'forward') return forward(raw, query, deps, udpLimit);
  deps.counters.answered++;
  if (found.kind === 'answer') return encode(reply(query, RCODE.NOERROR, { answers: found.answers, additionals: found.additionals }, true), udpLimit);
  return encode(reply(query, found.kind === 'nxdomain' ? RCODE.NXDOMAIN : RCODE.NOERROR, { authorities: [found.authority] }, true), udpLimit);
}

async function forward(raw: Buffer, query: DecodedPacket, deps: ResolverDeps, udpLimit: number | undefined): Promise<Buffer> {
  const answer = await deps.forward(raw);
  if (answer) {
    deps.counters.forwarded++;
    return answer;
  }
  deps.counters.failed++;
  return encode(reply(query, RCODE.SERVFAIL), udpLimit);
}

/** Over UDP an answer too big for the limit goes out without records and with TC set. */
function encode(packet: Packet, udpLimit: number | undefined): Buffer {
  const bytes = dnsPacket.encode(packet);
  if (udpLimit === undefined || bytes.length <= udpLimit) return bytes;
  return dnsPacket.encode({ ...packet, flags: (packet.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE, answers: [], additionals: [], authorities: [] });
}
