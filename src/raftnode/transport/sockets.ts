// The only place that knows whether a connection is plain TCP or TLS. Everything above works on
// net.Socket, which tls.TLSSocket extends, so turning TLS on is a matter of passing options.

import { createServer as createTcpServer, connect as connectTcp, type Server, type Socket } from 'node:net';
import { type ConnectionOptions, createServer as createTlsServer, connect as connectTls, type TlsOptions } from 'node:tls';
import type { HostPort } from './address.ts';

export interface TransportTlsOptions {
  /** For the listener (key, cert, ca, requestCert, rejectUnauthorized, ...). */
  server: TlsOptions;
  /** For dialing peers (ca, key, cert, checkServerIdentity, ...); host and port are set per peer. */
  client: Omit<ConnectionOptions, 'host' | 'port' | 'socket' | 'path'>;
}

/**
 * A listener that hands over each connection once it is usable: at once for TCP, after the TLS
 * handshake for TLS. TLS handshake failures go to onTlsError; there is no socket to hand over.
 */
export function createListener(
  tls: TransportTlsOptions | undefined,
  handshakeTimeoutMs: number,
  onSocket: (socket: Socket) => void,
  onTlsError: (error: Error, remote: string) => void,
): Server {
  if (!tls) return createTcpServer(onSocket);
  // Node's default TLS handshake timeout is two minutes; a half-open handshake should not last
  // longer than our own.
  const server = createTlsServer({ handshakeTimeout: handshakeTimeoutMs, ...tls.server }, onSocket);
  server.on('tlsClientError', (error: Error, socket: Socket) => {
    onTlsError(error, `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`);
    socket.destroy();
  });
  return server;
}

/** Dials `target`; onReady runs once bytes can flow (after the TLS handshake for TLS). */
export function dial(target: HostPort, tls: TransportTlsOptions | undefined, onReady: () => void): Socket {
  if (!tls) return connectTcp({ host: target.host, port: target.port }, onReady);
  return connectTls({ ...tls.client, host: target.host, port: target.port }, onReady);
}
