// What an HTTP server answers a request it could not parse (Node's 'clientError'): the status
// Node itself would send without a listener, and Go's net/http (the Kubernetes API server) sends:
// 431 when the request headers exceed the limit, 408 when they did not arrive in time, 400 for
// anything else, each with its reason as a short text body and `Connection: close`. A listener
// that only destroys the socket gives the client an empty reply, which says nothing.
//
// The client may still be sending headers when the answer goes out; closing at once would reset
// the connection and lose the answer, so what it still sends is read and dropped for a bounded
// time (a lingering close, as src/store/http-body.ts does for refused bodies).

import type { Duplex } from 'node:stream';

/** Node's own default (16 KiB), stated here so both servers and the README agree on it. */
export const MAX_HEADER_BYTES = 16 * 1024;

const LINGER_MS = 5_000;

const answered = new WeakSet<Duplex>();

function statusLine(code: string | undefined): string {
  if (code === 'HPE_HEADER_OVERFLOW') return '431 Request Header Fields Too Large';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return '408 Request Timeout';
  return '400 Bad Request';
}

/** The 'clientError' listener of the API server and the store's client port. */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  // The parser may report again for bytes that arrive during the linger: one answer per socket.
  if (answered.has(socket)) return;
  answered.add(socket);
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = statusLine(error.code);
  socket.on('error', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(status)}\r\nConnection: close\r\n\r\n${status}`);
  // Whatever else comes is dropped; the client's close (or the bound) ends the connection.
  socket.on('data', () => {});
  socket.resume();
  const linger = setTimeout(() => socket.destroy(), LINGER_MS);
  socket.once('close', () => clearTimeout(linger));
}
