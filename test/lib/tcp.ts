import { connect } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';

/** Connects, reads until the server closes, and resolves with what it sent. */
export function readGreeting(host: string, port: number, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let received = '';
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`)));
    socket.on('data', (chunk: string) => {
      received += chunk;
    });
    socket.on('end', () => resolve(received));
    socket.on('error', reject);
  });
}

/**
 * Dials (TLS when options are given), writes `payload` (if any) once connected, and resolves with
 * all the server sent until it closed: for answers a parsing client would hide (a raw status line,
 * a refused handshake).
 */
export function exchange(port: number, tls: ConnectionOptions | null, payload: Buffer | string | null, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const send = () => void (payload === null || socket.write(payload));
    const socket = tls ? connectTls({ host: '127.0.0.1', port, ...tls }, send) : connect({ host: '127.0.0.1', port }, send);
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no close from 127.0.0.1:${port} within ${timeoutMs} ms`)));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', (error: Error & { code?: string }) => {
      // A reset after the answer arrived still leaves the answer to check.
      if (chunks.length === 0 || error.code !== 'ECONNRESET') reject(error);
    });
  });
}
