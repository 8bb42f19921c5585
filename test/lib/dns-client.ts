// A minimal DNS client for tests: one query over UDP or TCP to a server on loopback or in a test
// namespace, the decoded answer back (or undefined when nothing came within the wait).
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket, { type Answer, type DecodedPacket, type RecordType } from 'dns-packet';

export interface DnsTarget {
  host: string;
  port: number;
}

let nextId = 1;

export function dnsQuery(name: string, type: RecordType = 'A'): Buffer {
  nextId = (nextId % 65_000) + 1;
  return dnsPacket.encode({ type: 'query', id: nextId, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] });
}

/** Sends raw bytes over UDP; the first datagram back, decoded, or undefined after `waitMs`. */
export function udpExchange(target: DnsTarget, bytes: Buffer, waitMs = 5_000): Promise<DecodedPacket | undefined> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    const timer = setTimeout(() => finish(undefined), waitMs);
    const finish = (answer: DecodedPacket | undefined): void => {
      clearTimeout(timer);
      socket.close();
      resolve(answer);
    };
    socket.on('message', (message) => finish(dnsPacket.decode(message)));
    socket.on('error', () => finish(undefined));
    socket.send(bytes, target.port, target.host);
  });
}

/** Sends a length-prefixed query over TCP and reads one length-prefixed answer. */
export function tcpExchange(target: DnsTarget, bytes: Buffer, waitMs = 5_000): Promise<DecodedPacket | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(target.port, target.host);
    let buffered = Buffer.alloc(0);
    const timer = setTimeout(() => finish(undefined), waitMs);
    const finish = (answer: DecodedPacket | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    socket.on('error', () => finish(undefined));
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) finish(dnsPacket.decode(buffered.subarray(2, 2 + buffered.readUInt16BE(0))));
    });
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16BE(bytes.length);
    socket.write(Buffer.concat([prefix, bytes]));
  });
}

/** The response code (the low 4 bits of the flags): compare with RCODE of src/net/dns/resolver.ts. */
export function rcodeOf(packet: DecodedPacket): number {
  return (packet.flags ?? 0) & 0xf;
}

/** The data of a record (an OPT pseudo-record has none). */
export function answerData(answer: Answer): unknown {
  return 'data' in answer ? answer.data : undefined;
}
