// The Client over HTTPS to any node's API (JSON bodies, the cluster CA, a client certificate or a
// bearer token). Non-2xx answers become ClientError with the server's Status; 429 and 5xx answers that carry
// Retry-After are sent again after that wait (at most maxRetries times), as client-go does.
import { bindOneByOne } from './bind-all.ts';
import { request as httpsRequest, type RequestOptions as HttpsRequestOptions } from 'node:https';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { failure, type KubeObject, type ResourceInfo, type Status } from '../api/resources/index.ts';
import { ClientError, type Client, type ListOptions, type WatchEvent } from './client.ts';

export interface HttpClientOptions {
  /** https://host:port */
  server: string;
  /** The cluster CA; absent: the system's trust store. */
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  token?: string;
  requestTimeoutMs?: number;
  /** kubeconfig's insecure-skip-tls-verify: do not check the server's certificate. */
  insecureSkipTlsVerify?: boolean;
  userAgent?: string;
  /**
   * How many times an answer that asks to be retried (429, or 5xx with a Retry-After header) is
   * sent again after waiting the seconds it names, as client-go does. Default 10; 0: never.
   */
  maxRetries?: number;
}

/** A request the typed calls do not cover: Tables, subresources, streamed logs. */
export interface RawRequestOptions {
  query?: Record<string, string | undefined>;
  /** Sent as JSON. */
  body?: unknown;
  contentType?: string;
  accept?: string;
  /** Idle timeout; 0: none (a followed log may be quiet for long). Default 30 s. */
  timeoutMs?: number;
  /** A 2xx body goes here as it arrives instead of into `text`; throwing from it ends the request. */
  onChunk?: (text: string) => void;
}

export interface RawResponse {
  code: number;
  /** The body (empty when streamed to onChunk). */
  text: string;
  /** The Retry-After header in seconds, when the server sent one. */
  retryAfterSeconds?: number;
}

const DEFAULT_MAX_RETRIES = 10;

/** Retry-After as delta-seconds (the API server's form); an HTTP date or garbage counts as absent. */
function retryAfterOf(res: IncomingMessage): number | undefined {
  const raw = res.headers['retry-after'];
  return typeof raw === 'string' && /^\d{1,5}$/.test(raw.trim()) ? Number(raw.trim()) : undefined;
}

/** client-go's rule: a 429 or a 5xx that carries Retry-After asks to be sent again later. */
function asksForRetry(answer: RawResponse): answer is RawResponse & { retryAfterSeconds: number } {
  return answer.retryAfterSeconds !== undefined && (answer.code === 429 || answer.code >= 500);
}

const PATCH_TYPES = { json: 'application/json-patch+json', merge: 'application/merge-patch+json', strategic: 'application/strategic-merge-patch+json' } as const;

function resourcePath(info: ResourceInfo, namespace: string | undefined, name?: string): string {
  const base = info.group === '' ? `/api/${info.version}` : `/apis/${info.group}/${info.version}`;
  const ns = info.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${info.resource}${name !== undefined ? `/${encodeURIComponent(name)}` : ''}`;
}

function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

function statusOf(code: number, text: string): Status {
  try {
    const parsed = JSON.parse(text) as Status;
    if (parsed.kind === 'Status') return parsed;
  } catch {
    // not JSON: fall through to a Status that quotes the answer
  }
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code, message: `HTTP ${code}: ${text.slice(0, 200)}` };
}

export class HttpClient implements Client {
  private readonly url: URL;

  constructor(private readonly options: HttpClientOptions) {
    this.url = new URL(options.server);
  }

  /** The server's origin, "https://host:port". */
  get server(): string {
    return this.url.origin;
  }

  /** TLS material and credentials, shared by every request and by WebSockets. */
  private connectOptions(headers: Record<string, string>): HttpsRequestOptions {
    const o = this.options;
    const all = { 'user-agent': o.userAgent ?? 'bramble', ...headers, ...(o.token !== undefined ? { authorization: `Bearer ${o.token}` } : {}) };
    return {
      headers: all,
      ...(o.ca !== undefined ? { ca: o.ca } : {}),
      ...(o.cert !== undefined ? { cert: o.cert } : {}),
      ...(o.key !== undefined ? { key: o.key } : {}),
      ...(o.insecureSkipTlsVerify ? { rejectUnauthorized: false } : {}),
    };
  }

  private send(method: string, path: string, headers: Record<string, string>, onResponse: (res: IncomingMessage) => void): ClientRequest {
    const url = new URL(path, this.url);
    const options = { ...this.connectOptions(headers), method };
    return url.protocol === 'http:' ? httpRequest(url, options, onResponse) : httpsRequest(url, options, onResponse);
  }

  private open(method: string, path: string, body: unknown, contentType: string, onResponse: (res: IncomingMessage) => void, onError: (error: Error) => void): void {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = this.send(method, path, { accept: 'application/json', ...(payload !== undefined ? { 'content-type': contentType } : {}) }, onResponse);
    req.on('error', onError);
    req.end(payload);
  }

  /**
   * Any request: answers with the status code and body whatever the code (the caller words the
   * errors). Transport failures reject with Node's error (its `code`: ECONNREFUSED, cert errors...).
   * An answer that asks to be retried (see maxRetries) is, after the wait it names: a throttled
   * student or a cluster between leaders gets served instead of an error.
   */
  async request(method: string, path: string, options: RawRequestOptions = {}): Promise<RawResponse> {
    const maxRetries = this.options.maxRetries ?? DEFAULT_MAX_RETRIES;
    for (let retry = 0; ; retry++) {
      const answer = await this.requestOnce(method, path, options);
      if (retry >= maxRetries || !asksForRetry(answer)) return answer;
      await new Promise((resolve) => setTimeout(resolve, answer.retryAfterSeconds * 1000));
    }
  }

  private requestOnce(method: string, path: string, options: RawRequestOptions): Promise<RawResponse> {
    const url = new URL(path, this.url);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const headers: Record<string, string> = { accept: options.accept ?? 'application/json' };
    if (payload !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
      headers['content-length'] = String(payload.length);
    }
    const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const req = this.send(method, url.pathname + url.search, headers, (res) => {
        const chunks: Buffer[] = [];
        const code = res.statusCode ?? 0;
        const streaming = options.onChunk !== undefined && code >= 200 && code < 300;
        res.on('data', (chunk: Buffer) => {
          if (!streaming) return void chunks.push(chunk);
          try {
            options.onChunk?.(chunk.toString('utf8'));
          } catch (err) {
            req.destroy(err instanceof Error ? err : new Error(String(err)));
          }
        });
        const retryAfterSeconds = retryAfterOf(res);
        res.on('end', () => resolve({ code, text: Buffer.concat(chunks).toString('utf8'), ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) }));
        res.on('error', reject);
      });
      if (timeoutMs > 0) req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer from ${url.host} within ${timeoutMs / 1000}s`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** A WebSocket to an API path (pods/exec), with this client's TLS and credentials. */
  webSocket(path: string, protocols: string[]): WebSocket {
    const url = new URL(path, this.url);
    url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
    return new WebSocket(url, protocols, this.connectOptions({}));
  }

  private async call<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const answer = await this.request(method, path, { body, contentType });
    if (answer.code < 200 || answer.code >= 300) throw new ClientError(statusOf(answer.code, answer.text));
    return JSON.parse(answer.text) as T;
  }

  get: Client['get'] = (info, namespace, name) => this.call('GET', resourcePath(info, namespace, name));

  list: Client['list'] = async (info, options: ListOptions = {}) => {
    const list = await this.call<{ items: KubeObject[]; metadata: { resourceVersion: string } }>('GET', resourcePath(info, options.namespace) + query({ labelSelector: options.labelSelector, fieldSelector: options.fieldSelector }));
    return { items: list.items, resourceVersion: list.metadata.resourceVersion };
  };

  watch: Client['watch'] = (info, options, onEvent, onError) =>
    new Promise((resolve, reject) => {
      const path = resourcePath(info, options.namespace) + query({ watch: '1', resourceVersion: options.resourceVersion, labelSelector: options.labelSelector, fieldSelector: options.fieldSelector });
      this.open(
        'GET',
        path,
        undefined,
        'application/json',
        (res) => {
          if ((res.statusCode ?? 0) !== 200) {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => reject(new ClientError(statusOf(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')))));
            return;
          }
          let buffered = '';
          // The watch ends once: an ERROR event, or the stream closing under it (the server
          // stopped, the connection broke, a garbled line). A cache that is not told would freeze.
          let ended = false;
          const end = (status: Status): void => {
            if (ended) return;
            ended = true;
            res.destroy();
            onError(status);
          };
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buffered += chunk;
            let nl: number;
            while (!ended && (nl = buffered.indexOf('\n')) >= 0) {
              const line = buffered.slice(0, nl);
              buffered = buffered.slice(nl + 1);
              if (line.trim() === '') continue;
              let event: { type: string; object: unknown };
              try {
                event = JSON.parse(line) as { type: string; object: unknown };
              } catch {
                return end(streamEnded(`a watch line that is not JSON: ${line.slice(0, 80)}`));
              }
              if (event.type === 'ERROR') end(event.object as Status);
              else if (event.type !== 'BOOKMARK') onEvent(event as WatchEvent);
            }
          });
          res.on('error', (error: Error) => end(streamEnded(error.message)));
          res.on('close', () => end(streamEnded('the server closed the stream')));
          resolve({
            stop: () => {
              ended = true;
              res.destroy();
            },
          });
        },
        reject,
      );
    });

  create: Client['create'] = (info, object, options = {}) => this.call('POST', resourcePath(info, object.metadata.namespace) + query({ dryRun: options.dryRun ? 'All' : undefined }), object);

  update: Client['update'] = (info, object, options = {}) => this.call('PUT', resourcePath(info, object.metadata.namespace, object.metadata.name) + (options.subresource ? `/${options.subresource}` : ''), object);

  patch: Client['patch'] = (info, namespace, name, type, patch) => this.call('PATCH', resourcePath(info, namespace, name), patch, PATCH_TYPES[type]);

  delete: Client['delete'] = (info, namespace, name, options = {}) =>
    this.call('DELETE', resourcePath(info, namespace, name) + query({ gracePeriodSeconds: options.gracePeriodSeconds?.toString(), propagationPolicy: options.propagationPolicy }));

  bind: Client['bind'] = async (namespace, podName, nodeName) => {
    const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name: podName, namespace }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } };
    await this.call('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(podName)}/binding`, binding);
  };

  bindAll: Client['bindAll'] = (bindings) => bindOneByOne(this, bindings);
}

/** The Status of a watch stream that ended without an ERROR event. */
function streamEnded(why: string): Status {
  return failure(503, 'ServiceUnavailable', `watch ended: ${why}`);
}
