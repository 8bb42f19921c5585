// The connection the kube verbs use, from a kubeconfig as kubectl reads it: --kubeconfig, else
// $KUBECONFIG (first file), else ~/.kube/config; the current context (or --context) names a
// cluster (server, CA) and a user (token, token file, client certificate). File paths in the
// kubeconfig are relative to its directory, as in kubectl.

import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';

export interface Connection {
  /** "https://127.0.0.1:6443" */
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  /** The context's namespace, "default" when it names none. */
  namespace: string;
  insecureSkipTlsVerify: boolean;
  /** Where it came from, for error messages. */
  source: string;
}

export class KubeconfigError extends Error {
  override name = 'KubeconfigError';
}

export interface KubeconfigFlags {
  kubeconfig?: string;
  context?: string;
  server?: string;
  token?: string;
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function findNamed(list: unknown, name: string, field: string): Record<string, unknown> | undefined {
  if (!Array.isArray(list)) return undefined;
  const hit: unknown = list.find((item) => record(item)['name'] === name);
  return hit === undefined ? undefined : record(record(hit)[field]);
}

export function kubeconfigPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag !== undefined && flag !== '') return flag;
  const fromEnv = env['KUBECONFIG']?.split(':').find((p) => p !== '');
  return fromEnv ?? join(homedir(), '.kube', 'config');
}

/** Reads the kubeconfig and resolves the context; flags override the server and the token. */
export function loadConnection(flags: KubeconfigFlags, env: NodeJS.ProcessEnv = process.env): Connection {
  const path = kubeconfigPath(flags.kubeconfig, env);
  if (!existsSync(path)) {
    if (flags.server !== undefined) return { server: flags.server, namespace: 'default', insecureSkipTlsVerify: false, source: '--server', ...(flags.token === undefined ? {} : { token: flags.token }) };
    throw new KubeconfigError(`no kubeconfig at ${path}: write one with \`bramble kubeconfig --data-dir DIR > ${path}\`, or pass --kubeconfig FILE`);
  }
  let doc: Record<string, unknown>;
  try {
    doc = record(parseYaml(readFileSync(path, 'utf8'), { maxAliasCount: 100 }));
  } catch (err) {
    throw new KubeconfigError(`kubeconfig ${path} is not valid YAML: ${(err as Error).message.split('\n')[0] ?? ''}`);
  }
  const base = dirname(path);
  const file = (p: string): Buffer => {
    const full = isAbsolute(p) ? p : join(base, p);
    try {
      return readFileSync(full);
    } catch {
      throw new KubeconfigError(`kubeconfig ${path} refers to ${full}, which cannot be read`);
    }
  };
  const contextName = flags.context ?? str(doc['current-context']);
  if (contextName === undefined) throw new KubeconfigError(`kubeconfig ${path} has no current-context: pass --context NAME`);
  const context = findNamed(doc['contexts'], contextName, 'context');
  if (context === undefined) throw new KubeconfigError(`context "${contextName}" is not in ${path}`);
  const clusterName = str(context['cluster']) ?? '';
  const cluster = findNamed(doc['clusters'], clusterName, 'cluster');
  if (cluster === undefined) throw new KubeconfigError(`cluster "${clusterName}" of context "${contextName}" is not in ${path}`);
  const user = findNamed(doc['users'], str(context['user']) ?? '', 'user') ?? {};

  const server = flags.server ?? str(cluster['server']);
  if (server === undefined) throw new KubeconfigError(`cluster "${clusterName}" in ${path} has no server`);
  const conn: Connection = { server, namespace: str(context['namespace']) ?? 'default', insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true, source: path };
  const caData = str(cluster['certificate-authority-data']);
  const caFile = str(cluster['certificate-authority']);
  if (caData !== undefined) conn.ca = Buffer.from(caData, 'base64');
  else if (caFile !== undefined) conn.ca = file(caFile);
  // --token means "act as the token's user": the kubeconfig's client certificate would otherwise
  // authenticate first (the server tries certificates before tokens) and win.
  const certSource = flags.token === undefined ? user : {};
  const certData = str(certSource['client-certificate-data']);
  const certFile = str(certSource['client-certificate']);
  const keyData = str(certSource['client-key-data']);
  const keyFile = str(certSource['client-key']);
  if (certData !== undefined) conn.cert = Buffer.from(certData, 'base64');
  else if (certFile !== undefined) conn.cert = file(certFile);
  if (keyData !== undefined) conn.key = Buffer.from(keyData, 'base64');
  else if (keyFile !== undefined) conn.key = file(keyFile);
  if ((conn.cert === undefined) !== (conn.key === undefined)) throw new KubeconfigError(`user of context "${contextName}" in ${path} has a client certificate without its key, or a key without its certificate`);
  const token = flags.token ?? str(user['token']) ?? (str(user['tokenFile']) === undefined ? undefined : file(str(user['tokenFile']) ?? '').toString('utf8').trim());
  if (token !== undefined) conn.token = token;
  return conn;
}
