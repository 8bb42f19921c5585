// The DNS transports: UDP, and TCP with RFC 1035's two-byte length prefix (what a client uses after a
// truncated UDP answer). The server never dies of its input: a handler failure drops that query, a
// TCP frame is at most 64 KiB by construction, a connection that sends nothing for `tcpIdleMs` is
// closed, and at most `maxTcpConnections` are open at once (more are closed at accept).
import dgram from 'node:dgram';
import net from 'node:net';
import { UDP_PLAIN_LIMIT_BYTES } from './resolver.ts';

export type QueryHandler = (query: Buffer, udpLimit: number | undefined) => Promise<Buffer | undefined>;

export interface DnsServerOptions {
  host: string;
  /** 0 picks a free port (tests); the same port is used for UDP and TCP. */
  port: number;
  handle: QueryHandler;
  tcpIdleMs?: number;
  maxTcpConnections?: number;
}

export interface RunningDnsServer {
  port: number;
  stop(): Promise<void>;
}

export async function startDnsServer(o: DnsServerOptions): Promise<RunningDnsServer> {
  const udp = dgram.createSocket({ type: 'udp4', reuseAddr: false });
  udp.on('message', (message, from) => {
    o.handle(message, UDP_PLAIN_LIMIT_BYTES)
      .then((answer) => answer && udp.send(answer, from.port, from.address))
      .catch(() => undefined);
  });
  udp.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(o.port, o.host, () => resolve());
  });
  const port = udp.address().port;
  const open = new Set<net.Socket>();
  const tcp = net.createServer((socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    serveTcp(socket, o);
  });
  tcp.maxConnections = o.maxTcpConnections ?? 64;
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port, o.host, () => resolve());
  }).catch(async (error: unknown) => {
    udp.close();
    throw error;
  });
  // After listening, an accept error (EMFILE) must not be an unheard 'error' that ends the process.
  tcp.on('error', () => undefined);
  return {
    port,
    stop: async () => {
      udp.close();
      const closed = new Promise<void>((resolve) => tcp.close(() => resolve()));
      for (const socket of open) socket.destroy();
      await closed;
    },
  };
}

function serveTcp(socket: net.Socket, o: DnsServerOptions): void {
  let buffered = Buffer.alloc(0);
  socket.setTimeout(o.tcpIdleMs ?? 10_000, () => socket.destroy());
  socket.on('error', () => undefined);
  socket.on('data', (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 2) {
      const length = buffered.readUInt16BE(0);
      if (buffered.length < 2 + length) break;
      const query = buffered.subarray(2, 2 + length);
      buffered = buffered.subarray(2 + length);
      o.handle(Buffer.from(query), undefined)
        .then((answer) => {
          if (!answer || socket.destroyed) return;
          const prefix = Buffer.alloc(2);
          prefix.writeUInt16BE(answer.length);
          socket.write(Buffer.concat([prefix, answer]));
        })
        .catch(() => undefined);
    }
  });
}
