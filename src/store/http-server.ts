import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { type TlsOptions, TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { ProposalDroppedError } from '../raft/errors.ts';
import { type NodeStatus, RequestTimeoutError } from '../raftnode/node.ts';
import { CompactedError, FutureRevisionError, InvalidCommandError } from './errors.ts';
import { BodyTooLargeError, readBoundedBody, sendWhole } from './http-body.ts';
import { CborLimitError, checkCborShape } from './cbor-limits.ts';
import { answerClientError, MAX_HEADER_BYTES } from './client-error.ts';
import { type ReplicatedStore, StoreRequestError } from './replicated-store.ts';
import { cborContentType, joinPathPrefix, maxRequestBodyBytes, storePaths, type WireError, wire } from './wire.ts';

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The whole body, at most maxRequestBodyBytes; a larger one is a 413 and is drained by send(). */
async function readBody(request: IncomingMessage): Promise<Buffer> {
  try {
    return await readBoundedBody(request, maxRequestBodyBytes);
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw new HttpError(413, 'too-large', error.message);
    throw error;
  }
}

function decodeBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let value: unknown;
  try {
    checkCborShape(body);
  } catch (error) {
    if (error instanceof CborLimitError) throw new HttpError(400, 'invalid-request', error.message);
    throw error;
  }
  try {
    value = wire.decode(body);
  } catch {
    throw new HttpError(400, 'invalid-request', `the request body is not CBOR (${body.length} bytes)`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(400, 'invalid-request', 'the request body must be a CBOR map');
  return value as Record<string, unknown>;
}

/** Maps what went wrong to an HTTP status and a stable code; unexpected errors are 500s. */
function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof InvalidCommandError) return new HttpError(400, 'invalid-request', error.message);
  if (error instanceof StoreRequestError) {
    const status = error.code === 'compacted' ? 410 : 400;
    return new HttpError(status, error.code, error.message);
  }
  if (error instanceof CompactedError) return new HttpError(410, 'compacted', error.message);
  if (error instanceof FutureRevisionError) return new HttpError(400, 'future-revision', error.message);
  // 'no-leader': nothing was proposed, so retrying is safe; 'timeout': a write's outcome is unknown.
  if (error instanceof RequestTimeoutError) return new HttpError(503, error.handedOver ? 'timeout' : 'no-leader', error.message);
  if (error instanceof Error && error.name === 'NodeStoppedError') return new HttpError(503, 'stopping', error.message);
  if (error instanceof ProposalDroppedError) {
    return error.reason === 'invalidConfChange' ? new HttpError(409, 'conflict', error.message) : new HttpError(503, 'unavailable', error.message);
  }
  return new HttpError(500, 'internal', error instanceof Error ? error.message : String(error));
}

/** What `GET status` answers: the member's own Raft view, its store revision and its `describe()` fields. */
export interface MemberStatus extends NodeStatus {
  revision: number;
  name?: string;
  version?: string;
  peerAddress?: string;
  clientAddress?: string;
}

export interface StoreServerOptions {
  store: ReplicatedStore;
  logger: Logger;
  /** host:port to listen on; port 0 picks a free one. */
  host: string;
  port: number;
  /** Extra fields for the status answer (name, version). */
  describe?: () => Record<string, unknown>;
  /**
   * HTTPS with the cluster's CA (src/identity/tls.ts storeServerTls): every request except the
   * join ones must come with a client certificate of the cluster, else 401. Absent: plain HTTP.
   */
  tls?: TlsOptions;
  /** Answers requests under joinPathPrefix (the token join; src/identity/join.ts); absent: 404. */
  join?: (request: IncomingMessage, response: ServerResponse) => void;
}

/**
 * The store's client API on the client port: HTTP/1.1 with CBOR bodies, used by `bramble
 * cluster`, the benchmarks and the real-process tests (the API server uses the store in-process).
 */
export class StoreServer {
  private server: Server | undefined;

  constructor(private readonly options: StoreServerOptions) {}

  async start(): Promise<string> {
    const handler = (request: IncomingMessage, response: ServerResponse) => void this.handle(request, response);
    const server = this.options.tls ? createTlsServer({ ...this.options.tls, maxHeaderSize: MAX_HEADER_BYTES }, handler) : createServer({ maxHeaderSize: MAX_HEADER_BYTES }, handler);
    server.on('clientError', answerClientError);
    server.keepAliveTimeout = 30_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    return `${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      const url = new URL(request.url ?? '/', 'http://store');
      if (url.pathname.startsWith(joinPathPrefix)) {
        if (!this.options.join) throw new HttpError(404, 'not-found', 'this node takes no token joins (it has no cluster bundle)');
        this.options.join(request, response);
        return;
      }
      if (this.options.tls && !(request.socket instanceof TLSSocket && request.socket.authorized)) {
        throw new HttpError(401, 'unauthorized', 'the client port needs a client certificate of this cluster: use --data-dir of a member or --bundle DIR (bramble cluster status), or join with the token');
      }
      if (request.method === 'GET' && url.pathname === storePaths.snapshot) {
        this.sendSnapshot(request, response, url);
        return;
      }
      const result = await this.route(request, url.pathname);
      this.send(request, response, 200, result);
    } catch (caught) {
      const error = toHttpError(caught);
      if (error.status >= 500) this.options.logger.warn({ err: caught, path: request.url }, 'store request failed');
      const body: WireError = { error: { code: error.code, message: error.message } };
      this.send(request, response, error.status, body);
    }
  }

  /** Serves the Raft snapshot a follower was given a ticket for, from the requested byte on. */
  private sendSnapshot(request: IncomingMessage, response: ServerResponse, url: URL): void {
    const index = Number(url.searchParams.get('index'));
    const term = Number(url.searchParams.get('term'));
    const data = this.options.store.node.snapshotForTransfer(index, term);
    if (!data) throw new HttpError(404, 'not-found', `snapshot ${index} (term ${term}) is not this node's current snapshot`);
    const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    if (start > data.byteLength) throw new HttpError(416, 'bad-range', `snapshot ${index} has ${data.byteLength} bytes; asked from byte ${start}`);
    const slice = Buffer.from(data.buffer, data.byteOffset + start, data.byteLength - start);
    response.writeHead(range ? 206 : 200, {
      'content-type': 'application/octet-stream',
      'content-length': slice.length,
      ...(range ? { 'content-range': `bytes ${start}-${data.byteLength - 1}/${data.byteLength}` } : {}),
    });
    response.end(slice);
  }

  /** An answer given before the body was read (401, 404, 413) still reaches a client that is sending it. */
  private send(request: IncomingMessage, response: ServerResponse, status: number, body: unknown): void {
    const bytes = wire.encode(body);
    sendWhole(request, response, status, { 'content-type': cborContentType, 'content-length': bytes.length }, bytes);
  }

  private async route(request: IncomingMessage, path: string): Promise<unknown> {
    const { store } = this.options;
    if (request.method === 'GET' && path === storePaths.status) {
      const status: MemberStatus = { ...store.node.status(), revision: store.local.revision(), ...(this.options.describe?.() ?? {}) };
      return status;
    }
    if (request.method !== 'POST') throw new HttpError(405, 'method-not-allowed', `${request.method} ${path} is not supported: the store API takes POST with a CBOR body`);
    const body = decodeBody(await readBody(request));
    switch (path) {
      case storePaths.range: {
        const { serializable, ...options } = body;
        if (serializable !== undefined && typeof serializable !== 'boolean') throw new HttpError(400, 'invalid-request', 'serializable must be a boolean');
        return store.range(options as never, { serializable: serializable === true });
      }
      case storePaths.put:
        return store.put(body as never);
      case storePaths.deleteRange:
        return store.deleteRange(body as never);
      case storePaths.txn:
        return store.txn(body as never);
      case storePaths.compact:
        if (typeof body.revision !== 'number') throw new HttpError(400, 'invalid-request', 'compact needs a numeric revision');
        return store.compact(body.revision);
      case storePaths.members: {
        const { name, peerAddress } = body;
        if (typeof name !== 'string' || typeof peerAddress !== 'string') {
          throw new HttpError(400, 'invalid-request', 'joining needs { name, peerAddress } as strings');
        }
        const confState = await store.node.addLearner(name, peerAddress);
        return { confState, members: store.node.status().members };
      }
      case storePaths.removeMember: {
        const { name } = body;
        if (typeof name !== 'string' || name === '') throw new HttpError(400, 'invalid-request', 'removing a member needs { name } as a string');
        const { voters, learners } = store.node.status().confState;
        const list = (ids: string[]) => (ids.length > 0 ? ids.join(', ') : 'none');
        if (!voters.includes(name) && !learners.includes(name)) {
          throw new HttpError(404, 'not-found', `${name} is not a member of this cluster (voters: ${list(voters)}; learners: ${list(learners)})`);
        }
        if (voters.length === 1 && voters[0] === name) {
          throw new HttpError(409, 'last-voter', `${name} is the only voter: removing it would leave the cluster without anyone to agree on anything; promote a learner first (autopilot does it) or stop the cluster instead`);
        }
        const confState = await store.node.removeMember(name);
        return { confState, members: store.node.status().members };
      }
      default:
        throw new HttpError(404, 'not-found', `no store API at ${path}`);
    }
  }
}
