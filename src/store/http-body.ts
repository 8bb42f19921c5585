// Request bodies with a size limit, and answers that reach a client that is still sending.
//
// A server that refuses a body and closes the connection at once resets a client still writing
// it: the client sees EPIPE or ECONNRESET instead of the 413 (Node's http client reports the
// write error, not the answer). So a refused body is not cut off: the answer goes out at once
// with `Connection: close`, the rest of the body is read and thrown away up to a bound (nginx's
// "lingering close"), and only then does the connection close, cleanly.

import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** How much of a refused body is still read (and discarded) before the connection is cut. */
export interface DrainBounds {
  maxBytes: number;
  maxMs: number;
}

export const defaultDrainBounds: DrainBounds = { maxBytes: 64 * 1024 * 1024, maxMs: 10_000 };

/** The body is larger than the limit; `declared` is its Content-Length when that was the tell. */
export class BodyTooLargeError extends Error {
  constructor(
    readonly limit: number,
    readonly declared: number | null,
  ) {
    super(declared === null ? `the request body exceeds the limit of ${limit} bytes` : `the request body is ${declared} bytes; the limit is ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/**
 * Reads a whole body of at most `limit` bytes. A larger one (by its Content-Length or as it
 * streams) is refused with BodyTooLargeError and its rest left unread, for sendWhole to drain.
 */
export function readBoundedBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const header = request.headers['content-length'];
  const declared = header === undefined ? null : Number(header);
  if (declared !== null && declared > limit) return Promise.reject(new BodyTooLargeError(limit, declared));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const cleanup = () => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) {
        cleanup();
        request.pause();
        reject(new BodyTooLargeError(limit, null));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, total));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
  });
}

/** Whether the client may still be sending body bytes that nobody has read. */
function bodyPending(request: IncomingMessage): boolean {
  if (request.complete || request.readableEnded) return false;
  const length = request.headers['content-length'];
  return (length !== undefined && Number(length) > 0) || request.headers['transfer-encoding'] !== undefined;
}

/** Reads and discards the rest of the body; true if it ended within the bounds. */
function drain(request: IncomingMessage, bounds: DrainBounds): Promise<boolean> {
  return new Promise((resolve) => {
    let seen = 0;
    const finish = (whole: boolean) => {
      clearTimeout(timer);
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('close', onClose);
      resolve(whole);
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > bounds.maxBytes) finish(false);
    };
    const onEnd = () => finish(true);
    const onClose = () => finish(request.complete);
    const timer = setTimeout(() => finish(false), bounds.maxMs);
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('close', onClose);
    request.resume();
  });
}

/**
 * Sends a whole answer. If the client is still sending a body nobody read (a refused one, or an
 * early error), the answer is written at once but the response ends only after the rest of the
 * body was drained (within `bounds`), so the client finishes its write and then reads the answer.
 */
export function sendWhole(request: IncomingMessage, response: ServerResponse, status: number, headers: OutgoingHttpHeaders, bytes: Uint8Array, bounds: DrainBounds = defaultDrainBounds): void {
  if (!bodyPending(request)) {
    response.writeHead(status, headers);
    response.end(bytes);
    return;
  }
  response.writeHead(status, { ...headers, connection: 'close' });
  response.write(bytes);
  // Beyond the bounds the response ends anyway and Node closes the connection: a client still
  // writing then sees a reset, but it has had the answer for a while.
  void drain(request, bounds).then(() => response.end());
}
