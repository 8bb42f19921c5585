// A small HTTPS client for the kube verbs: JSON in and out, the kubeconfig's CA, client
// certificate or bearer token, and errors worded as kubectl words them ("Error from server
// (NotFound): pods "x" not found"; "The connection to the server ... was refused").

import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { ResourceInfo } from '../../api/resources/catalog.ts';
import type { Status } from '../../api/resources/types.ts';
import type { Connection } from './kubeconfig.ts';

export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly status: Status | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }

  get reason(): string {
    return this.status?.reason ?? '';
  }
}

export interface RequestOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
  timeoutMs?: number;
}

export const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

function isStatus(value: unknown): value is Status {
  return value !== null && typeof value === 'object' && (value as { kind?: unknown }).kind === 'Status';
}

export class KubeApi {
  constructor(readonly connection: Connection) {}

  /**
   * A GET whose body is text streamed to `onChunk` (pod logs, with follow): resolves when the
   * server ends the answer. Errors as for request().
   */
  async stream(path: string, query: Record<string, string | undefined>, onChunk: (text: string) => void, accept = '*/*'): Promise<void> {
    await this.send('GET', path, { query, accept, timeoutMs: 0 }, onChunk);
  }

  /** The URL path of a collection or object: /api/v1/namespaces/ns/pods[/name[/sub]]. */
  static path(info: ResourceInfo, namespace: string | undefined, name?: string, subresource?: string): string {
    const root = info.group === '' ? `/api/${info.version}` : `/apis/${info.group}/${info.version}`;
    const ns = info.namespaced && namespace !== undefined && namespace !== '' ? `/namespaces/${encodeURIComponent(namespace)}` : '';
    const obj = name === undefined ? '' : `/${encodeURIComponent(name)}`;
    return `${root}${ns}/${info.resource}${obj}${subresource === undefined ? '' : `/${subresource}`}`;
  }

  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return (await this.send(method, path, options)) as T;
  }

  private async send(method: string, path: string, options: RequestOptions, onChunk?: (text: string) => void): Promise<unknown> {
    const url = new URL(path, this.connection.server);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const headers: Record<string, string> = { accept: options.accept ?? 'application/json', 'user-agent': 'bramble-cli' };
    if (payload !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
      headers['content-length'] = String(payload.length);
    }
    if (this.connection.token !== undefined) headers['authorization'] = `Bearer ${this.connection.token}`;
    const c = this.connection;
    const tls = url.protocol === 'https:';
    const send = tls ? httpsRequest : httpRequest;
    const { code, text } = await new Promise<{ code: number; text: string }>((resolve, reject) => {
      const req = send(
        url,
        {
          method,
          headers,
          // 0: no idle limit (a followed log may be quiet for long).
          ...(options.timeoutMs === 0 ? {} : { timeout: options.timeoutMs ?? 30_000 }),
          ...(tls ? { ca: c.ca, cert: c.cert, key: c.key, rejectUnauthorized: !c.insecureSkipTlsVerify } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          const streaming = onChunk !== undefined && (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300;
          res.on('data', (chunk: Buffer) => {
            if (!streaming) chunks.push(chunk);
            else {
              try {
                onChunk(chunk.toString('utf8'));
              } catch (err) {
                // A consumer that cannot handle what arrived ends the request with its error.
                req.destroy(err instanceof Error ? err : new Error(String(err)));
              }
            }
          });
          res.on('end', () => resolve({ code: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer from ${url.host} within ${(options.timeoutMs ?? 30_000) / 1000}s`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ECONNREFUSED') reject(new Error(`The connection to the server ${url.host} was refused - did you specify the right host or port? (is bramble up running?)`));
        else if (err.code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || err.code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || err.code === 'SELF_SIGNED_CERT_IN_CHAIN') reject(new Error(`${url.host} presented a certificate not signed by the kubeconfig's CA (${c.source}): ${err.message}`));
        else reject(err);
      });
      req.end(payload);
    });
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (code >= 200 && code < 300) {
      if (onChunk !== undefined) return undefined;
      if (parsed === undefined && text !== '') throw new KubeApiError(code, undefined, `the server sent a non-JSON answer to ${method} ${url.pathname}`);
      return parsed;
    }
    if (isStatus(parsed)) {
      if (code === 401) throw new KubeApiError(code, parsed, `error: You must be logged in to the server (${parsed.message ?? 'Unauthorized'})`);
      throw new KubeApiError(code, parsed, `Error from server (${parsed.reason ?? code}): ${parsed.message ?? ''}`);
    }
    throw new KubeApiError(code, undefined, `Error from server: ${method} ${url.pathname} answered HTTP ${code}${text === '' ? '' : `: ${text.slice(0, 200)}`}`);
  }
}
