// The Service environment variables the kubelet gives every container (pkg/kubelet/envvars), so a
// pod finds the Services that existed when it started: `<NAME>_SERVICE_HOST`, `_SERVICE_PORT`,
// `_SERVICE_PORT_<PORTNAME>`, and the Docker-link style `<NAME>_PORT`, `<NAME>_PORT_<port>_<PROTO>`
// with `_PROTO`, `_PORT`, `_ADDR`. The Services of the pod's namespace (unless the pod says
// `enableServiceLinks: false`) plus `kubernetes` from `default` always; only those with a cluster
// IP (not headless, not ExternalName).
import type { Pod, Service } from '../../client/index.ts';

/** Where the agent reads Services from (its list-and-watch cache); undefined until the first list arrived. */
export interface ServiceLister {
  list(): readonly Service[] | undefined;
}

/** The Services always given to every pod, whatever its namespace and enableServiceLinks (the kubelet's "master services"). */
const MASTER_SERVICES = new Set(['kubernetes']);

/** `my-svc.x` -> `MY_SVC_X`; a leading digit gets a `_` prefix, as the kubelet does. */
export function envVarName(name: string): string {
  const upper = name.replace(/[.-]/g, '_').toUpperCase();
  return /^[0-9]/.test(upper) ? `_${upper}` : upper;
}

function hasClusterIP(svc: Service): boolean {
  const ip = svc.spec?.clusterIP;
  return ip !== undefined && ip !== '' && ip !== 'None';
}

/** The Services whose variables a pod gets, by name (a same-named Service of its own namespace wins over default's). */
export function servicesForPod(pod: Pod, services: readonly Service[]): Service[] {
  const links = pod.spec.enableServiceLinks !== false;
  const byName = new Map<string, Service>();
  for (const svc of services) {
    if (!hasClusterIP(svc)) continue;
    const name = svc.metadata.name;
    if (svc.metadata.namespace === 'default' && MASTER_SERVICES.has(name)) {
      if (!byName.has(name)) byName.set(name, svc);
    } else if (svc.metadata.namespace === pod.metadata.namespace && links) {
      byName.set(name, svc);
    }
  }
  return [...byName.values()].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

/** The variables of these Services, in the kubelet's order for each Service. */
export function serviceEnvVars(services: readonly Service[]): Array<{ name: string; value: string }> {
  const out: Array<{ name: string; value: string }> = [];
  for (const svc of services) {
    const ip = svc.spec?.clusterIP ?? '';
    const ports = svc.spec?.ports ?? [];
    const first = ports[0];
    if (!first) continue;
    const prefix = envVarName(svc.metadata.name);
    out.push({ name: `${prefix}_SERVICE_HOST`, value: ip });
    out.push({ name: `${prefix}_SERVICE_PORT`, value: String(first.port) });
    for (const p of ports) if (p.name) out.push({ name: `${prefix}_SERVICE_PORT_${envVarName(p.name)}`, value: String(p.port) });
    ports.forEach((p, i) => {
      const protocol = p.protocol ?? 'TCP';
      const url = `${protocol.toLowerCase()}://${ip}:${p.port}`;
      if (i === 0) out.push({ name: `${prefix}_PORT`, value: url });
      const portPrefix = `${prefix}_PORT_${p.port}_${protocol.toUpperCase()}`;
      out.push({ name: portPrefix, value: url });
      out.push({ name: `${portPrefix}_PROTO`, value: protocol.toLowerCase() });
      out.push({ name: `${portPrefix}_PORT`, value: String(p.port) });
      out.push({ name: `${portPrefix}_ADDR`, value: ip });
    });
  }
  return out;
}
