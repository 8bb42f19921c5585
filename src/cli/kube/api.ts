// The kube verbs' view of the API over src/client's HttpClient (the kubeconfig's CA, client
// certificate or bearer token): JSON in and out, and errors worded as kubectl words them ("Error from server
// (NotFound): pods "x" not found"; "The connection to the server ... was refused").

import { HttpClient } from '../../client/index.ts';
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
  /** The one HTTPS transport (src/client); this class only words its answers as kubectl does. */
  readonly http: HttpClient;

  constructor(readonly connection: Connection) {
    const c = connection;
    this.http = new HttpClient({
      server: c.server,
      userAgent: 'bramble-cli',
      insecureSkipTlsVerify: c.insecureSkipTlsVerify,
      ...(c.ca !== undefined ? { ca: c.ca } : {}),
      ...(c.cert !== undefined ? { cert: c.cert } : {}),
      ...(c.key !== undefined ? { key: c.key } : {}),
      ...(c.token !== undefined ? { token: c.token } : {}),
    });
  }

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
    const c = this.connection;
    let answer: { code: number; text: string };
    try {
      answer = await this.http.request(method, path, { ...options, ...(onChunk ? { onChunk } : {}) });
    } catch (error) {
      const err = error as NodeJS.ErrnoException;
      if (err.code === 'ECONNREFUSED') throw new Error(`The connection to the server ${url.host} was refused - did you specify the right host or port? (is bramble up running?)`);
      if (err.code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || err.code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || err.code === 'SELF_SIGNED_CERT_IN_CHAIN') throw new Error(`${url.host} presented a certificate not signed by the kubeconfig's CA (${c.source}): ${err.message}`);
      throw err;
    }
    const { code, text } = answer;
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
