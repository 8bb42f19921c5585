// The Client over HTTPS to any node's API (JSON bodies, the cluster CA, a client certificate or a
// bearer token). Non-2xx answers become ClientError with the server's Status.
import { request } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { KubeObject, ResourceInfo, Status } from '../api/resources/index.ts';
import { ClientError, type Client, type ListOptions, type WatchEvent } from './client.ts';

export interface HttpClientOptions {
  /** https://host:port */
  server: string;
  ca: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  token?: string;
  requestTimeoutMs?: number;
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

  private open(method: string, path: string, body: unknown, contentType: string, onResponse: (res: IncomingMessage) => void, onError: (error: Error) => void): void {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.token !== undefined) headers['authorization'] = `Bearer ${this.options.token}`;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) headers['content-type'] = contentType;
    const req = request(
      {
        host: this.url.hostname.replace(/^\[|\]$/g, ''),
        port: this.url.port === '' ? 443 : Number(this.url.port),
        method,
        path,
        headers,
        ca: this.options.ca,
        ...(this.options.cert !== undefined ? { cert: this.options.cert } : {}),
        ...(this.options.key !== undefined ? { key: this.options.key } : {}),
      },
      onResponse,
    );
    req.on('error', onError);
    req.end(payload);
  }

  private call<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    return new Promise((resolve, reject) => {
      this.open(
        method,
        path,
        body,
        contentType,
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const code = res.statusCode ?? 0;
            if (code < 200 || code >= 300) return reject(new ClientError(statusOf(code, text)));
            try {
              resolve(JSON.parse(text) as T);
            } catch (error) {
              reject(error as Error);
            }
          });
        },
        reject,
      );
    });
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
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buffered += chunk;
            let nl: number;
            while ((nl = buffered.indexOf('\n')) >= 0) {
              const line = buffered.slice(0, nl);
              buffered = buffered.slice(nl + 1);
              if (line.trim() === '') continue;
              const event = JSON.parse(line) as { type: string; object: unknown };
              if (event.type === 'ERROR') onError(event.object as Status);
              else if (event.type !== 'BOOKMARK') onEvent(event as WatchEvent);
            }
          });
          resolve({ stop: () => res.destroy() });
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
}
