// Where a pods/log or pods/exec request is served: here when the pod is bound to this node (the
// agent's PodStreams), on the pod's node otherwise (NodeForwarder), with Kubernetes' answers
// when it cannot be: not found, not scheduled, completed, no agent, node unreachable.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ForwardError, FORWARDED_HEADER, type NodeForwarder } from './node-forward.ts';
import { chooseExecProtocol, parseExecOptions, parseLogOptions, PodStreamError, rejectUpgrade, sendLog, serveExec, type PodStreams } from './pod-streams.ts';
import { ApiError, type Registry } from './registry.ts';
import { asPod, badRequest, failure, findResource, type KubeObject, type Status } from './resources/index.ts';

export interface PodStreamRouterOptions {
  registry: Registry;
  nodeName: string;
  forwarder: NodeForwarder | null;
}

type Placement = { local: true; pod: KubeObject } | { local: false; pod: KubeObject; nodeName: string };

function statusOf(error: unknown): Status | null {
  if (error instanceof PodStreamError || error instanceof ForwardError || error instanceof ApiError) return error.status;
  return null;
}

export class PodStreamRouter {
  private streams: PodStreams | null = null;

  constructor(private readonly options: PodStreamRouterOptions) {}

  /** The agent of this node, once it runs (null: this node serves no pod streams). */
  setLocal(streams: PodStreams | null): void {
    this.streams = streams;
  }

  private async place(req: IncomingMessage, namespace: string, name: string): Promise<Placement> {
    const pods = findResource('', 'v1', 'pods');
    if (!pods) throw new Error('core/v1 pods missing from the catalog');
    const pod = await this.options.registry.get(pods, namespace, name);
    const { nodeName } = asPod(pod).spec;
    if (!nodeName) throw new PodStreamError(badRequest(`pod ${name} does not have a host assigned`));
    if (nodeName === this.options.nodeName) return { local: true, pod };
    if (req.headers[FORWARDED_HEADER] !== undefined || !this.options.forwarder) {
      throw new PodStreamError(failure(503, 'ServiceUnavailable', `pod ${name} runs on node ${nodeName}, which this node cannot forward to`));
    }
    return { local: false, pod, nodeName };
  }

  private local(): PodStreams {
    if (!this.streams) {
      throw new PodStreamError(failure(503, 'ServiceUnavailable', `node ${this.options.nodeName} runs no pods (started with --runtime none, or its Docker engine is unreachable): see its log`));
    }
    return this.streams;
  }

  async serveLog(req: IncomingMessage, res: ServerResponse, url: URL, namespace: string, name: string): Promise<void> {
    try {
      const options = parseLogOptions(url);
      const placement = await this.place(req, namespace, name);
      if (!placement.local) return await this.options.forwarder?.forwardHttp(placement.nodeName, req, res);
      sendLog(res, await this.local().logs(placement.pod, options));
    } catch (error) {
      const status = statusOf(error);
      if (status) throw new ApiError(status);
      throw error;
    }
  }

  async serveExec(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL, namespace: string, name: string): Promise<void> {
    try {
      const options = parseExecOptions(url);
      const placement = await this.place(req, namespace, name);
      if (!placement.local) return await this.options.forwarder?.forwardUpgrade(placement.nodeName, req, socket, head);
      const phase = asPod(placement.pod).status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') throw new PodStreamError(badRequest(`cannot exec into a container in a completed pod; current phase is ${phase}`));
      const streams = this.local();
      // Checked before the protocol, so kubectl's SPDY retry after a refused WebSocket gets the same 400.
      await streams.checkExec(placement.pod, options);
      if (req.headers.upgrade?.toLowerCase() !== 'websocket') {
        throw new PodStreamError(badRequest('exec is served over WebSocket (subprotocol v5.channel.k8s.io or v4.channel.k8s.io), as kubectl 1.30+ sends it; SPDY is not supported'));
      }
      if (!chooseExecProtocol(req)) throw new PodStreamError(badRequest('none of the offered WebSocket subprotocols is supported: use v5.channel.k8s.io or v4.channel.k8s.io'));
      // The process starts once the WebSocket is open; its failures then end on the error channel.
      serveExec(req, socket, head, (initialSize) => streams.exec(placement.pod, { ...options, ...(initialSize ? { initialSize } : {}) }), { tty: options.tty });
    } catch (error) {
      const status = statusOf(error);
      rejectUpgrade(socket, status ?? failure(500, 'InternalError', `Internal error occurred: ${(error as Error).message}`));
    }
  }
}
