// Logs and exec of a pod on another node are forwarded to that node's API. Every node publishes
// the CA its API serves with in the replicated store under /bramble/nodes/<name>/ca.crt (a key
// outside /registry, so no API user can write it: only cluster members), trusts client
// certificates signed by its peers' CAs, and forwards with its own admin client certificate to the
// peer, verifying the peer by its published CA. With a cluster bundle (every node started with
// --bundle or --token, or alone on an empty data dir) all of them publish the one cluster CA;
// distinct CAs remain only for data dirs made before bundles, each with a CA of its own.
import { request as httpsRequest } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Status } from './resources/index.ts';
import { failure, findResource } from './resources/index.ts';
import type { ApiFeeds, Feed } from './feeds.ts';
import type { Registry, RegistryStore } from './registry.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const PREFIX = '/bramble/nodes/';
const caKey = (nodeName: string) => `${PREFIX}${nodeName}/ca.crt`;

/** Set on forwarded requests: a node never forwards a request it received forwarded (no loops). */
export const FORWARDED_HEADER = 'x-bramble-forwarded-by';

export interface NodeForwarderOptions {
  store: RegistryStore;
  registry: Registry;
  /** Follows the published CAs (the node's one informer: relists with backoff after any failure). */
  follow: ApiFeeds['storePrefix'];
  nodeName: string;
  /** This node's CA (published) and the client certificate it forwards with. */
  caCertPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  /** Called with the CAs of the other nodes whenever they change (the server trusts their client certificates). */
  onPeerCas: (caPems: string[]) => void;
}

interface Endpoint {
  host: string;
  port: number;
  ca: string;
}

export class ForwardError extends Error {
  constructor(readonly status: Status) {
    super(status.message ?? 'forward failed');
    this.name = 'ForwardError';
  }
}

export class NodeForwarder {
  private readonly peerCas = new Map<string, string>();
  private feed: Feed | null = null;
  private stopped = false;

  constructor(private readonly options: NodeForwarderOptions) {}

  /** Publishes this node's CA (a write only when it changed) and follows the others'. */
  async start(): Promise<void> {
    const key = enc.encode(caKey(this.options.nodeName));
    const current = await this.options.store.range({ key });
    if (current.kvs[0] === undefined || dec.decode(current.kvs[0].value) !== this.options.caCertPem) {
      await this.options.store.txn({ compare: [], success: [{ op: 'put', key, value: enc.encode(this.options.caCertPem) }], failure: [] });
    }
    const feed = await this.options.follow(this.options.store, PREFIX, (entries) => {
      this.peerCas.clear();
      for (const [name, pem] of entries) this.record(name, pem);
      this.publishTrust();
    });
    if (this.stopped) feed.stop();
    else this.feed = feed;
  }

  stop(): void {
    this.stopped = true;
    this.feed?.stop();
  }

  private record(key: string, value: string): void {
    const match = /^\/bramble\/nodes\/([^/]+)\/ca\.crt$/.exec(key);
    if (match?.[1] !== undefined) this.peerCas.set(match[1], value);
  }

  private publishTrust(): void {
    this.options.onPeerCas([...this.peerCas].filter(([name]) => name !== this.options.nodeName).map(([, pem]) => pem));
  }

  /** Where the node's API listens (its Node's InternalIP and daemonEndpoints port) and its CA. */
  private async endpoint(nodeName: string): Promise<Endpoint> {
    const nodes = findResource('', 'v1', 'nodes');
    if (!nodes) throw new Error('core/v1 nodes missing from the catalog');
    const node = (await this.options.registry.get(nodes, undefined, nodeName).catch(() => null)) as {
      status?: { addresses?: Array<{ type: string; address: string }>; daemonEndpoints?: { kubeletEndpoint?: { Port?: number } } };
    } | null;
    const host = node?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    const port = node?.status?.daemonEndpoints?.kubeletEndpoint?.Port;
    if (!host || !port) throw new ForwardError(failure(503, 'ServiceUnavailable', `node ${nodeName} has not published its address yet (its agent has not registered): try again once it shows Ready`));
    const ca = this.peerCas.get(nodeName);
    if (!ca) throw new ForwardError(failure(503, 'ServiceUnavailable', `node ${nodeName} has not published its CA certificate: it must run this Bramble version to serve logs and exec`));
    return { host, port, ca };
  }

  private requestTo(endpoint: Endpoint, req: IncomingMessage) {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || name === 'authorization' || name === 'host') continue;
      headers[name] = value;
    }
    // The bearer token in a WebSocket subprotocol is this node's to check, not the peer's.
    const protocols = req.headers['sec-websocket-protocol'];
    if (typeof protocols === 'string') headers['sec-websocket-protocol'] = protocols.split(',').map((p) => p.trim()).filter((p) => !p.startsWith('base64url.bearer.authorization.k8s.io.')).join(', ');
    headers[FORWARDED_HEADER] = this.options.nodeName;
    return httpsRequest({
      host: endpoint.host,
      port: endpoint.port,
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers,
      ca: endpoint.ca,
      cert: this.options.clientCertPem,
      key: this.options.clientKeyPem,
      timeout: 10_000,
    });
  }

  private unreachable(nodeName: string, endpoint: Endpoint, error: Error): Status {
    return failure(503, 'ServiceUnavailable', `node ${nodeName} (${endpoint.host}:${endpoint.port}) does not answer: ${error.message}; check that its bramble up runs and is reachable from this node`);
  }

  /** GET of a JSON document on the peer, as this node (metrics fan-out); rejects on any failure. */
  async fetchJson(nodeName: string, path: string, timeoutMs = 3000): Promise<unknown> {
    const endpoint = await this.endpoint(nodeName);
    return new Promise((resolve, reject) => {
      const upstream = httpsRequest({
        host: endpoint.host,
        port: endpoint.port,
        method: 'GET',
        path,
        headers: { accept: 'application/json', [FORWARDED_HEADER]: this.options.nodeName },
        ca: endpoint.ca,
        cert: this.options.clientCertPem,
        key: this.options.clientKeyPem,
        timeout: timeoutMs,
      });
      upstream.on('response', (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          if (answer.statusCode !== 200) return reject(new Error(`node ${nodeName} answered ${answer.statusCode ?? '?'}`));
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch (error) {
            reject(error as Error);
          }
        });
        answer.on('error', reject);
      });
      upstream.on('timeout', () => upstream.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      upstream.on('error', reject);
      upstream.end();
    });
  }

  /** A plain request (logs): the peer's answer streamed back as it comes. */
  async forwardHttp(nodeName: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const endpoint = await this.endpoint(nodeName);
    await new Promise<void>((resolve, reject) => {
      const upstream = this.requestTo(endpoint, req);
      upstream.on('response', (answer) => {
        const headers = { ...answer.headers };
        delete headers['connection'];
        res.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(res);
        res.on('close', () => answer.destroy());
        answer.on('end', resolve);
        answer.on('error', () => resolve());
      });
      upstream.on('timeout', () => upstream.destroy(new Error('no answer within 10 s')));
      upstream.on('error', (error) => (res.headersSent ? resolve() : reject(new ForwardError(this.unreachable(nodeName, endpoint, error)))));
      upstream.end();
    });
  }

  /** An upgrade (exec over WebSocket): once the peer switches protocols, bytes flow both ways untouched. */
  async forwardUpgrade(nodeName: string, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const endpoint = await this.endpoint(nodeName);
    await new Promise<void>((resolve, reject) => {
      const upstream = this.requestTo(endpoint, req);
      upstream.on('upgrade', (answer, peer, peerHead) => {
        upstream.setTimeout(0);
        const lines = [`HTTP/1.1 101 Switching Protocols`];
        for (let i = 0; i < answer.rawHeaders.length; i += 2) lines.push(`${answer.rawHeaders[i]}: ${answer.rawHeaders[i + 1]}`);
        socket.write(`${lines.join('\r\n')}\r\n\r\n`);
        if (peerHead.length > 0) socket.write(peerHead);
        if (head.length > 0) peer.write(head);
        peer.pipe(socket);
        socket.pipe(peer);
        const close = () => {
          peer.destroy();
          socket.destroy();
        };
        peer.on('close', close);
        socket.on('close', close);
        peer.on('error', close);
        socket.on('error', close);
        resolve();
      });
      upstream.on('response', (answer) => {
        // The peer refused the upgrade (bad container, 403...): its Status goes back as it is.
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const body = Buffer.concat(chunks);
          socket.end(`HTTP/1.1 ${answer.statusCode ?? 502} ${answer.statusMessage ?? ''}\r\ncontent-type: ${answer.headers['content-type'] ?? 'application/json'}\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body.toString('utf8')}`);
          resolve();
        });
      });
      upstream.on('timeout', () => upstream.destroy(new Error('no answer within 10 s')));
      upstream.on('error', (error) => reject(new ForwardError(this.unreachable(nodeName, endpoint, error))));
      upstream.end();
    });
  }
}
