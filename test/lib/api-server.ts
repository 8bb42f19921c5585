// A real API server (HTTPS on a real socket, startApi over a real single-member Raft node in this
// process) and a plain https caller that returns the status, headers and decoded body: for tests
// that check the exact answer to an exact request.
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { type ApiOptions, type RunningApi, startApi } from '../../src/api/start.ts';
import { apiFeeds } from '../../src/client/cache/index.ts';
import { type InProcessNode, startInProcessNode } from './inprocess-node.ts';
import { kubeconfigCredentials, rawRequest, type KubeconfigCredentials } from './raw-https.ts';

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The JSON body, or the text when it is not JSON. */
  body: { kind?: string; code?: number; reason?: string; message?: string; status?: string; apiVersion?: string; metadata?: { name?: string } } & Record<string, unknown>;
  text: string;
}

export interface CallOptions {
  /** A bearer token instead of the admin's client certificate. */
  token?: string;
  /** No credentials at all (no client certificate, no token unless `token` is given). */
  anonymous?: boolean;
  headers?: OutgoingHttpHeaders;
}

export interface TestApi {
  api: RunningApi;
  node: InProcessNode;
  dataDir: string;
  port: number;
  /** The server, the cluster CA and the admin's client certificate (kubeconfig). */
  credentials: KubeconfigCredentials;
  call(method: string, path: string, body?: unknown, options?: CallOptions): Promise<Answer>;
  stop(): Promise<void>;
}

/** `extra` options of startApi, or a function of the node that makes them (health checks over its Raft node). */
export async function startTestApi(name: string, extra: Partial<ApiOptions> | ((node: InProcessNode) => Partial<ApiOptions>) = {}): Promise<TestApi> {
  const node = await startInProcessNode(name);
  const dataDir = mkdtempSync(join(tmpdir(), `bramble-${name}-`));
  const more = typeof extra === 'function' ? extra(node) : extra;
  const api = await startApi({ dataDir, store: node.store, host: '127.0.0.1', port: 0, nodeName: name, gitVersion: 'v0.0.0-test', feeds: apiFeeds(pino({ level: 'silent' })), ...more });
  const credentials = kubeconfigCredentials(dataDir, api.kubeconfigPath);
  const port = Number(new URL(api.url).port);
  const call = async (method: string, path: string, body?: unknown, options: CallOptions = {}): Promise<Answer> => {
    const bytes = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const answer = await rawRequest(credentials, path, { method, ...(bytes ? { body: bytes } : {}), ...options });
    let parsed: Answer['body'] = {};
    try {
      parsed = JSON.parse(answer.body) as Answer['body'];
    } catch {
      // Not JSON (a plain-text health answer): the text says it.
    }
    return { status: answer.status, headers: answer.headers, body: parsed, text: answer.body };
  };
  return {
    api,
    node,
    dataDir,
    port,
    credentials,
    call,
    stop: async () => {
      await api.stop();
      await node.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
