// A real API server (HTTPS on a real socket, startApi over a real single-member Raft node in this
// process) and a plain https caller that returns the status, headers and decoded body: for tests
// that check the exact answer to an exact request.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { parse as parseYaml } from 'yaml';
import { type ApiOptions, type RunningApi, startApi } from '../../src/api/start.ts';
import { apiFeeds } from '../../src/client/cache/index.ts';
import { type InProcessNode, startInProcessNode } from './inprocess-node.ts';

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
  headers?: OutgoingHttpHeaders;
}

export interface TestApi {
  api: RunningApi;
  node: InProcessNode;
  dataDir: string;
  port: number;
  /** The cluster CA and the admin's client certificate (kubeconfig). */
  credentials: { ca: Buffer; cert: Buffer; key: Buffer };
  call(method: string, path: string, body?: unknown, options?: CallOptions): Promise<Answer>;
  stop(): Promise<void>;
}

export async function startTestApi(name: string, extra: Partial<ApiOptions> = {}): Promise<TestApi> {
  const node = await startInProcessNode(name);
  const dataDir = mkdtempSync(join(tmpdir(), `bramble-${name}-`));
  const api = await startApi({ dataDir, store: node.store, host: '127.0.0.1', port: 0, nodeName: name, gitVersion: 'v0.0.0-test', feeds: apiFeeds(pino({ level: 'silent' })), ...extra });
  const kubeconfig = parseYaml(readFileSync(api.kubeconfigPath, 'utf8')) as {
    clusters: { cluster: { 'certificate-authority-data': string } }[];
    users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
  };
  const b64 = (value: string | undefined) => Buffer.from(value ?? '', 'base64');
  const credentials = { ca: b64(kubeconfig.clusters[0]?.cluster['certificate-authority-data']), cert: b64(kubeconfig.users[0]?.user['client-certificate-data']), key: b64(kubeconfig.users[0]?.user['client-key-data']) };
  const port = Number(new URL(api.url).port);
  const call = (method: string, path: string, body?: unknown, options: CallOptions = {}): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const bytes = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      const headers: OutgoingHttpHeaders = { ...(bytes ? { 'content-type': 'application/json', 'content-length': bytes.length } : {}), ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...options.headers };
      const tls = options.token ? { ca: credentials.ca } : credentials;
      const outgoing = request({ ...tls, host: '127.0.0.1', port, method, path, agent: false, headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Answer['body'] = {};
          try {
            parsed = JSON.parse(text) as Answer['body'];
          } catch {
            // Not JSON (a plain-text health answer): the text says it.
          }
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: parsed, text });
        });
      });
      outgoing.on('error', reject);
      outgoing.end(bytes);
    });
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
