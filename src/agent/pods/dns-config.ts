// A pod's resolv.conf, as the kubelet derives it from spec.dnsPolicy and spec.dnsConfig:
// ClusterFirst names the board's cluster DNS server with the pod's namespace search path and
// ndots:5 (so `web` and `web.default` resolve), Default copies the board's own resolvers, None
// takes only dnsConfig. With no cluster DNS on the board (pod network off), ClusterFirst falls back
// to Default, as the kubelet does without --cluster-dns. Pure; the runtime writes the text.
import { readFile } from 'node:fs/promises';
import type { Pod } from '../../client/index.ts';

export interface ResolvConf {
  nameservers: string[];
  searches: string[];
  options: string[];
}

export interface ClusterDnsSettings {
  /** The address pods ask (the kube-dns Service's ClusterIP, answered on every board). */
  nameserver: string;
  /** cluster.local */
  domain: string;
}

// The resolver limits glibc and the kubelet apply: more is cut, as the kubelet does.
const MAX_NAMESERVERS = 3;
const MAX_SEARCHES = 32;

export function parseResolvConf(text: string): ResolvConf {
  const conf: ResolvConf = { nameservers: [], searches: [], options: [] };
  for (const line of text.split('\n')) {
    const [key, ...values] = line.replace(/[#;].*$/, '').trim().split(/\s+/);
    if (key === 'nameserver' && values[0]) conf.nameservers.push(values[0]);
    else if (key === 'search' || key === 'domain') conf.searches = values;
    else if (key === 'options') conf.options.push(...values);
  }
  return conf;
}

export function formatResolvConf(conf: ResolvConf): string {
  const lines = conf.nameservers.map((server) => `nameserver ${server}`);
  if (conf.searches.length) lines.push(`search ${conf.searches.join(' ')}`);
  if (conf.options.length) lines.push(`options ${conf.options.join(' ')}`);
  return lines.join('\n') + '\n';
}

/**
 * The board's resolvers as pods can use them: systemd-resolved's upstream list when there is one
 * (its 127.0.0.53 stub is unreachable from a pod's namespace), loopback servers left out unless
 * `keepLoopback` (the board's own DNS server forwards from the board, where they answer).
 */
export async function readHostResolvConf(paths = ['/run/systemd/resolve/resolv.conf', '/etc/resolv.conf'], { keepLoopback = false } = {}): Promise<ResolvConf> {
  for (const path of paths) {
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const conf = parseResolvConf(text);
    return keepLoopback ? conf : { ...conf, nameservers: conf.nameservers.filter((server) => !server.startsWith('127.') && server !== '::1') };
  }
  return { nameservers: [], searches: [], options: [] };
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** Options merge by name; a later value replaces an earlier one (kubelet's rule). */
function mergeOptions(base: string[], extra: string[]): string[] {
  const byName = new Map<string, string>();
  for (const option of [...base, ...extra]) byName.set(option.split(':')[0] ?? option, option);
  return [...byName.values()];
}

/**
 * Whether the pod needs a resolv.conf of Bramble's making. Without a cluster DNS, a pod with no
 * dnsConfig and a policy other than None wants the board's resolvers, which the engine's own file
 * already gives: nothing is written then, so a board whose engine's files Bramble cannot write
 * (a remote DOCKER_HOST, no root) runs such pods as before.
 */
export function needsOwnResolvConf(pod: Pod, cluster: ClusterDnsSettings | undefined): boolean {
  return cluster !== undefined || pod.spec.dnsPolicy === 'None' || pod.spec.dnsConfig !== undefined;
}

export function podResolvConf(pod: Pod, cluster: ClusterDnsSettings | undefined, host: ResolvConf): ResolvConf {
  const policy = pod.spec.dnsPolicy ?? 'ClusterFirst';
  const namespace = pod.metadata.namespace ?? 'default';
  let base: ResolvConf;
  if (policy === 'None') base = { nameservers: [], searches: [], options: [] };
  else if ((policy === 'ClusterFirst' && !pod.spec.hostNetwork) || policy === 'ClusterFirstWithHostNet') {
    base = cluster
      ? { nameservers: [cluster.nameserver], searches: [`${namespace}.svc.${cluster.domain}`, `svc.${cluster.domain}`, cluster.domain, ...host.searches], options: ['ndots:5'] }
      : host;
  } else base = host;
  const extra = pod.spec.dnsConfig;
  const options = (extra?.options ?? []).filter((o) => o.name).map((o) => (o.value === undefined ? o.name : `${o.name}:${o.value}`));
  return {
    nameservers: unique([...base.nameservers, ...(extra?.nameservers ?? [])]).slice(0, MAX_NAMESERVERS),
    searches: unique([...base.searches, ...(extra?.searches ?? [])]).slice(0, MAX_SEARCHES),
    options: mergeOptions(base.options, options),
  };
}
