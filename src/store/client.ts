import { Agent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type {
  Compare,
  CompactResponse,
  DeleteRangeResponse,
  KeySelector,
  PutResponse,
  RangeOptions,
  RangeResponse,
  RequestOp,
  TxnResponse,
} from './types.ts';
import { cborContentType, type StoreClientTls, storePaths, type WireError, wire } from './wire.ts';

/** The server answered with an error (status and stable code as in WireError). */
export class StoreClientError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly endpoint: string,
  ) {
    super(message);
    this.name = 'StoreClientError';
  }
}

/** No endpoint could be reached. */
export class StoreUnreachableError extends Error {
  constructor(endpoints: string[], cause: string) {
    super(`no Bramble node answered at ${endpoints.join(', ')} (${cause}); is \`bramble up\` running there?`);
    this.name = 'StoreUnreachableError';
  }
}

export interface StoreClientOptions {
  /** Client addresses (host:port) of one or more members. */
  endpoints: string[];
  /** Per request. Default 10 s. */
  timeoutMs?: number;
  /** Keep-alive connections per endpoint. Default 64. */
  maxSockets?: number;
  /** The cluster's CA and a client certificate (src/identity/tls.ts storeClientTls); absent: plain HTTP. */
  tls?: StoreClientTls;
}

const retriableConnectErrors = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE']);

/**
 * The store's client over the network (HTTP/1.1 keep-alive, CBOR). A request whose connection
 * fails before an answer moves on to the next endpoint; an answered error is thrown as is.
 */
export class StoreClient {
  private readonly agent: Agent | HttpsAgent;
  private current = 0;
  private readonly timeoutMs: number;

  constructor(private readonly options: StoreClientOptions) {
    if (options.endpoints.length === 0) throw new Error('StoreClient needs at least one endpoint');
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 64 };
    this.agent = options.tls ? new HttpsAgent({ ...agentOptions, ...options.tls }) : new Agent(agentOptions);
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  close(): void {
    this.agent.destroy();
  }

  range(options: RangeOptions & { serializable?: boolean }): Promise<RangeResponse> {
    return this.call(storePaths.range, options);
  }

  async get(key: Uint8Array, options: { serializable?: boolean; revision?: number } = {}): Promise<Uint8Array | null> {
    const response = await this.range({ key, ...options });
    return response.kvs[0]?.value ?? null;
  }

  put(key: Uint8Array, value: Uint8Array, options: { prevKv?: boolean } = {}): Promise<PutResponse> {
    return this.call(storePaths.put, { key, value, ...options });
  }

  deleteRange(selector: KeySelector & { prevKv?: boolean }): Promise<DeleteRangeResponse> {
    return this.call(storePaths.deleteRange, selector);
  }

  txn(request: { compare: Compare[]; success: RequestOp[]; failure: RequestOp[] }): Promise<TxnResponse> {
    return this.call(storePaths.txn, request);
  }

  compact(revision: number): Promise<CompactResponse> {
    return this.call(storePaths.compact, { revision });
  }

  status<T = Record<string, unknown>>(endpoint?: string): Promise<T> {
    return this.call(storePaths.status, undefined, endpoint);
  }

  join<T = Record<string, unknown>>(name: string, peerAddress: string): Promise<T> {
    return this.call(storePaths.members, { name, peerAddress });
  }

  /** Removes a member (voter or learner) from the Raft configuration, through any member. */
  removeMember<T = Record<string, unknown>>(name: string): Promise<T> {
    return this.call(storePaths.removeMember, { name });
  }

  private async call<T>(path: string, body: unknown, onlyEndpoint?: string): Promise<T> {
    const endpoints = onlyEndpoint ? [onlyEndpoint] : this.options.endpoints;
    let lastCause = 'no attempt';
    for (let attempt = 0; attempt < endpoints.length; attempt++) {
      const endpoint = onlyEndpoint ?? endpoints[(this.current + attempt) % endpoints.length]!;
      try {
        const result = await this.send<T>(endpoint, path, body);
        if (!onlyEndpoint) this.current = (this.current + attempt) % endpoints.length;
        return result;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (error instanceof StoreClientError || !code || !retriableConnectErrors.has(code)) throw error;
        lastCause = `${endpoint}: ${code}`;
      }
    }
    throw new StoreUnreachableError(endpoints, lastCause);
  }

  private send<T>(endpoint: string, path: string, body: unknown): Promise<T> {
    const separator = endpoint.lastIndexOf(':');
    const host = endpoint.slice(0, separator).replace(/^\[|\]$/g, '');
    const port = Number(endpoint.slice(separator + 1));
    const payload = body === undefined ? undefined : wire.encode(body);
    return new Promise<T>((resolve, reject) => {
      // Set once the server's answer has begun: a server may answer (413, 401) and close while
      // this request is still writing its body, and then its answer, not our write error, counts.
      let answered = false;
      const req = (this.options.tls ? httpsRequest : httpRequest)(
        {
          host,
          port,
          path,
          method: payload ? 'POST' : 'GET',
          agent: this.agent,
          timeout: this.timeoutMs,
          headers: payload ? { 'content-type': cborContentType, 'content-length': payload.length } : {},
        },
        (response) => {
          answered = true;
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            let decoded: unknown;
            try {
              decoded = wire.decode(Buffer.concat(chunks));
            } catch {
              reject(new StoreClientError(response.statusCode ?? 0, 'bad-response', `${endpoint} answered ${response.statusCode} with a body that is not CBOR`, endpoint));
              return;
            }
            if (response.statusCode === 200) resolve(decoded as T);
            else {
              const { error } = decoded as WireError;
              reject(new StoreClientError(response.statusCode ?? 0, error?.code ?? 'unknown', error?.message ?? 'no message', endpoint));
            }
          });
          response.on('error', reject);
          response.on('close', () => {
            if (!response.complete) reject(new Error(`${endpoint} closed the connection in the middle of its answer (${response.statusCode})`));
          });
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error(`${endpoint} did not answer within ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', (error) => {
        if (!answered) reject(error);
      });
      req.end(payload);
    });
  }
}
