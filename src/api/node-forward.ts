// Logs and exec of a pod on another node are forwarded to that node's API. Every node publishes
// the CA its API serves with in the replicated store under /bramble/nodes/<name>/ca.crt (a key
// outside /registry, so no API user can write it: only cluster members), trusts client
// certificates signed by its peers' CAs, and forwards with its own admin client certificate to the
// peer, verifying the peer by its published CA. With a cluster bundle (every node started with
// --bundle or --token, or alone on an empty data dir) all of them publish the one cluster CA;
// distinct CAs remain only for data dirs made before bundles, each with a CA of its own.
import { request as httpsRequest } from 'node:https';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Status } from './resources/index.ts';
import { failure, findResource } from './resources/index.ts';
import type { ApiFeeds, Feed } from './feeds.ts';
import { isLoopback, isWildcard } from './host-address.ts';
import type { Registry, RegistryStore } from './registry.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const PREFIX = '/bramble/nodes/';
const caKey = (nodeName: string) => `${PREFIX}${nodeName}/ca.crt`;
/** Where a node's API listens, as `bramble up --api-addr` says (JSON {host, port}). */
const apiKey = (nodeName: string) => `${PREFIX}${nodeName}/api`;

export interface ListenAddress {
  host: string;
  port: number;
}

/**
 * Pure: where to reach a node's API. Its published listen address when it has one: a concrete
 * host as it is, a wildcard at the Node's InternalIP (it listens on every address); a loopback
 * API on a board with a LAN address is refused with what to do (dialling 127.0.0.1 here would
 * reach this machine). A node that published nothing (an older version): InternalIP and the
 * daemonEndpoints port, as before.
 */
export function forwardTarget(nodeName: string, published: ListenAddress | undefined, internalIP: string | undefined, daemonPort: number | undefined): ListenAddress | Status {
  const notYet = failure(503, 'ServiceUnavailable', `node ${nodeName} has not published its address yet (its agent has not registered): try again once it shows Ready`);
  if (!published) return internalIP && daemonPort ? { host: internalIP, port: daemonPort } : notYet;
  if (isWildcard(published.host)) return internalIP ? { host: internalIP, port: published.port } : notYet;
  if (isLoopback(published.host) && internalIP && !isLoopback(internalIP)) {
    return failure(503, 'ServiceUnavailable', `node ${nodeName}'s API listens on ${published.host}:${published.port} only, so no other board reaches it for logs, exec or metrics: restart it with --api-addr 0.0.0.0:${published.port} or --api-addr ${internalIP}:${published.port}`);
  }
  return published;
}

function parseListen(text: string): ListenAddress | undefined {
  try {
    const value = JSON.parse(text) as Partial<ListenAddress>;
    return typeof value.host === 'string' && typeof value.port === 'number' ? { host: value.host, port: value.port } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The peer's serving certificate must name the address dialled (the default check) or the
 * node's name (every node's API certificate lists it, pki.ts): an API on all addresses, or a
 * board whose address moved, is still the node meant.
 */
function identityOf(nodeName: string) {
  return (host: string, cert: PeerCertificate): Error | undefined => {
    const byHost = checkServerIdentity(host, cert);
    return byHost && checkServerIdentity(nodeName, cert) ? byHost : undefined;
  };
}

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
  node: string;
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
  private readonly peerApis = new Map<string, ListenAddress>();
  private feed: Feed | null = null;
  private stopped = false;

  constructor(private readonly options: NodeForwarderOptions) {}

  /** Publishes this node's CA and where its API listens (a write only when one changed) and follows the others'. */
  async start(listen: ListenAddress): Promise<void> {
    await this.publish(caKey(this.options.nodeName), this.options.caCertPem);
    await this.publish(apiKey(this.options.nodeName), JSON.stringify({ host: listen.host, port: listen.port }));
    const feed = await this.options.follow(this.options.store, PREFIX, (entries) => {
      this.peerCas.clear();
      this.peerApis.clear();
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

  private async publish(keyText: string, value: string): Promise<void> {
    const key = enc.encode(keyText);
    const current = await this.options.store.range({ key });
    if (current.kvs[0] !== undefined && dec.decode(current.kvs[0].value) === value) return;
    await this.options.store.txn({ compare: [], success: [{ op: 'put', key, value: enc.encode(value) }], failure: [] });
  }

  private record(key: string, value: string): void {
    const match = /^\/bramble\/nodes\/([^/]+)\/(ca\.crt|api)$/.exec(key);
    if (match?.[1] === undefined) return;
    if (match[2] === 'ca.crt') this.peerCas.set(match[1], value);
    const listen = match[2] === 'api' ? parseListen(value) : undefined;
    if (listen) this.peerApis.set(match[1], listen);
  }

  private publishTrust(): void {
    this.options.onPeerCas([...this.peerCas].filter(([name]) => name !== this.options.nodeName).map(([, pem]) => pem));
  }

  /** Where the node's API listens (forwardTarget) and its CA. */
  private async endpoint(nodeName: string): Promise<Endpoint> {
    const nodes = findResource('', 'v1', 'nodes');
    if (!nodes) throw new Error('core/v1 nodes missing from the catalog');
    const node = (await this.options.registry.get(nodes, undefined, nodeName).catch(() => null)) as {
      status?: { addresses?: Array<{ type: string; address: string }>; daemonEndpoints?: { kubeletEndpoint?: { Port?: number } } };
    } | null;
    const internalIP = node?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    const target = forwardTarget(nodeName, this.peerApis.get(nodeName), internalIP, node?.status?.daemonEndpoints?.kubeletEndpoint?.Port);
    if (!('host' in target)) throw new ForwardError(target);
    const ca = this.peerCas.get(nodeName);
    if (!ca) throw new ForwardError(failure(503, 'ServiceUnavailable', `node ${nodeName} has not published its CA certificate: it must run this Bramble version to serve logs and exec`));
    return { node: nodeName, host: target.host, port: target.port, ca };
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
      checkServerIdentity: identityOf(endpoint.node),
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
        checkServerIdentity: identityOf(nodeName),
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
