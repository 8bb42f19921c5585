// metrics.k8s.io/v1beta1 NodeMetrics and PodMetrics, as metrics-server serves them, but from the
// nodes' memory: every agent keeps its latest samples (MetricsSource); the node that receives a
// request answers with its own and asks each other node for theirs (NodeForwarder), so nothing
// is stored and nothing goes through Raft. A forwarded request is answered with local data only.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FORWARDED_HEADER, type NodeForwarder } from './node-forward.ts';
import { ApiError, type Registry } from './registry.ts';
import { findResource, notFound, parseLabelSelector, matchesLabels, type ResourceInfo } from './resources/index.ts';

export const METRICS_GROUP = 'metrics.k8s.io';
const API_VERSION = 'metrics.k8s.io/v1beta1';

export interface Usage {
  cpu: string;
  memory: string;
}

export interface NodeMetrics {
  kind: 'NodeMetrics';
  apiVersion: typeof API_VERSION;
  metadata: { name: string; creationTimestamp: string; labels?: Record<string, string> };
  timestamp: string;
  window: string;
  usage: Usage;
}

export interface PodMetrics {
  kind: 'PodMetrics';
  apiVersion: typeof API_VERSION;
  metadata: { name: string; namespace: string; creationTimestamp: string; labels?: Record<string, string> };
  timestamp: string;
  window: string;
  containers: Array<{ name: string; usage: Usage }>;
}

/** This node's latest samples (the agent); null before the first one. */
export interface MetricsSource {
  node(): NodeMetrics | null;
  pods(): PodMetrics[];
}

export interface MetricsRouterOptions {
  registry: Registry;
  nodeName: string;
  forwarder: NodeForwarder | null;
}

function core(plural: string): ResourceInfo {
  const info = findResource('', 'v1', plural);
  if (!info) throw new Error(`core/v1 ${plural} missing from the catalog`);
  return info;
}

function send(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export class MetricsRouter {
  private source: MetricsSource | null = null;

  constructor(private readonly options: MetricsRouterOptions) {}

  setLocal(source: MetricsSource | null): void {
    this.source = source;
  }

  /** Every node's answer to the same path: this one's, and (unless forwarded) the others' by asking them. */
  private async gather<T>(req: IncomingMessage, local: () => T[], path: string): Promise<T[]> {
    const mine = local();
    if (req.headers[FORWARDED_HEADER] !== undefined || !this.options.forwarder) return mine;
    const forwarder = this.options.forwarder;
    const nodes = await this.options.registry.list(core('nodes'), { local: true });
    const others = nodes.items.map((n) => n.metadata.name ?? '').filter((name) => name !== '' && name !== this.options.nodeName);
    const answers = await Promise.all(
      others.map((name) => forwarder.fetchJson(name, path).then((body) => ((body as { items?: T[] }).items ?? []), () => [] as T[])),
    );
    return [...mine, ...answers.flat()];
  }

  async serve(req: IncomingMessage, res: ServerResponse, url: URL, info: ResourceInfo, namespace: string | undefined, name: string | undefined): Promise<void> {
    const labelSelector = url.searchParams.get('labelSelector') ?? '';
    if (info.kind === 'NodeMetrics') {
      const all = await this.gather(req, () => {
        const node = this.source?.node();
        return node ? [node] : [];
      }, '/apis/metrics.k8s.io/v1beta1/nodes');
      if (name !== undefined) {
        const found = all.find((m) => m.metadata.name === name);
        if (!found) throw new ApiError(notFound(info, name));
        return send(res, found);
      }
      const selector = labelSelector ? parseLabelSelector(labelSelector) : null;
      return send(res, { kind: 'NodeMetricsList', apiVersion: API_VERSION, metadata: {}, items: all.filter((m) => !selector || matchesLabels(selector, m.metadata.labels)) });
    }
    const all = await this.gather(req, () => this.source?.pods() ?? [], '/apis/metrics.k8s.io/v1beta1/pods');
    let items = all.filter((m) => namespace === undefined || m.metadata.namespace === namespace);
    if (name !== undefined) {
      const found = items.find((m) => m.metadata.name === name);
      if (!found) throw new ApiError(notFound(info, name));
      return send(res, found);
    }
    if (labelSelector) {
      // Labels are the pods': PodMetrics carry them as metrics-server does.
      const selector = parseLabelSelector(labelSelector);
      items = items.filter((m) => matchesLabels(selector, m.metadata.labels));
    }
    return send(res, { kind: 'PodMetricsList', apiVersion: API_VERSION, metadata: {}, items });
  }
}
