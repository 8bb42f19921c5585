// Names outside the cluster go to the board's own resolvers (the nameservers of its resolv.conf,
// read by node/net.ts with the agent's parser), one after the other, each over a connected UDP socket: on an offline site a
// missing route or a closed port fails at once (ENETUNREACH, ECONNREFUSED from the ICMP answer),
// so the pod gets SERVFAIL in milliseconds instead of waiting out its resolver's 5 s timeout.
import dgram from 'node:dgram';

export interface UpstreamOptions {
  /** "ip" (port 53) or "ip:port". */
  servers: readonly string[];
  /** Per server; the whole forward takes at most servers × this. */
  timeoutMs?: number;
}

/** The upstream's answer to `query` (same id), or undefined when none answered. */
export async function forwardQuery(query: Buffer, o: UpstreamOptions): Promise<Buffer | undefined> {
  for (const server of o.servers) {
    const answer = await askOne(query, server, o.timeoutMs ?? 1_500).catch(() => undefined);
    if (answer) return answer;
  }
  return undefined;
}

function askOne(query: Buffer, server: string, timeoutMs: number): Promise<Buffer | undefined> {
  const [host = server, port = '53'] = server.split(':');
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    let finished = false;
    // Once only: a second close() (the timer, then a late send error) throws outside any handler.
    const done = (error: Error | undefined, answer?: Buffer): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.close();
      if (error) reject(error);
      else resolve(answer);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.on('error', (error) => done(error));
    socket.on('message', (message) => {
      if (message.length >= 2 && message.readUInt16BE(0) === query.readUInt16BE(0)) done(undefined, message);
    });
    // A connect that fails (ENETUNREACH: a board with no route to its resolver, as on an offline
    // site) calls back with the error and leaves the socket unconnected: a send then throws
    // outside any handler and ended the whole `bramble up`. Node's typing omits that argument.
    const connected = (error?: Error): void => {
      if (error) done(error);
      else socket.send(query, (sendError) => sendError && done(sendError));
    };
    socket.connect(Number(port), host, connected as () => void);
  });
}

/**
 * At most `max` calls of `fn` at once; beyond it `undefined` at once (the query gets SERVFAIL). Each
 * forward holds a socket for up to its timeout: a pod looping on outside names with a slow resolver
 * must not exhaust the board's file descriptors.
 */
export function limitInFlight<A, R>(fn: (arg: A) => Promise<R | undefined>, max: number): (arg: A) => Promise<R | undefined> {
  let inFlight = 0;
  return async (arg) => {
    if (inFlight >= max) return undefined;
    inFlight++;
    try {
      return await fn(arg);
    } finally {
      inFlight--;
    }
  };
}
