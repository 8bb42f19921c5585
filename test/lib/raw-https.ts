// A plain Node https request to a Bramble API, for tests that check exact status codes, headers
// and bodies (what an HttpClient would turn into an error): as the admin of a data dir's
// kubeconfig, with a bearer token, or with no credentials at all.
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { request } from 'node:https';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

export interface KubeconfigCredentials {
  server: string;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

/** The server and admin credentials `bramble up` (or startApi) wrote to `<dataDir>/kubeconfig`, or to `path`. */
export function kubeconfigCredentials(dataDir: string, path = join(dataDir, 'kubeconfig')): KubeconfigCredentials {
  const kubeconfig = parseYaml(readFileSync(path, 'utf8')) as {
    clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
    users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
  };
  const b64 = (value: string | undefined) => Buffer.from(value ?? '', 'base64');
  const cluster = kubeconfig.clusters[0]?.cluster;
  const user = kubeconfig.users[0]?.user;
  return { server: cluster?.server ?? '', ca: b64(cluster?.['certificate-authority-data']), cert: b64(user?.['client-certificate-data']), key: b64(user?.['client-key-data']) };
}

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface RawRequest {
  method?: string;
  /** Send no client certificate (and no token unless `token` is given). */
  anonymous?: boolean;
  token?: string;
  body?: string | Buffer;
  /** Of the body; default application/json. */
  contentType?: string;
  /** More headers (they win over the ones set from the options above). */
  headers?: OutgoingHttpHeaders;
  /** The server to call instead of the kubeconfig's (a port chosen by the test). */
  server?: string;
}

/** One request on a fresh connection; rejects only when there is no answer at all (refused, reset). */
export function rawRequest(credentials: KubeconfigCredentials, path: string, options: RawRequest = {}): Promise<RawAnswer> {
  const url = new URL(options.server ?? credentials.server);
  const tls = options.anonymous || options.token !== undefined ? { ca: credentials.ca } : { ca: credentials.ca, cert: credentials.cert, key: credentials.key };
  const headers: OutgoingHttpHeaders = {};
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
  if (options.body !== undefined) {
    headers['content-type'] = options.contentType ?? 'application/json';
    headers['content-length'] = Buffer.byteLength(options.body);
  }
  Object.assign(headers, options.headers);
  return new Promise((resolve, reject) => {
    const outgoing = request({ ...tls, host: url.hostname, port: Number(url.port), method: options.method ?? 'GET', path, agent: false, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}
