// Which pods back a Service, and on which ports: what the Endpoints and EndpointSlice controllers
// both publish, computed once here (selector matching, targetPort resolution by number or by the
// container port's name, readiness), so the two views never disagree.
import { asPod, asService, type KubeObject, type ServicePort } from '../../client/index.ts';
import type { ObjectInformer } from '../../client/cache/index.ts';
import { isReady, statusOf } from './pods.ts';

/** A port of a backend: the Service port's name and protocol with the pod's resolved number. */
export interface BackendPort {
  name?: string;
  port: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
}

export interface Backend {
  pod: KubeObject;
  ip: string;
  nodeName?: string;
  /**
   * The pod's spec.hostname when its spec.subdomain names this Service (same namespace): its DNS
   * name is then <hostname>.<service>.<ns>.svc.<domain>, as StatefulSet pods are found.
   */
  hostname?: string;
  /** Passes its readiness check (Ready=True). */
  serving: boolean;
  /** Being deleted: Endpoints leave it out, EndpointSlices list it with terminating=true. */
  terminating: boolean;
  ports: BackendPort[];
}

function targetPortOf(pod: KubeObject, sp: ServicePort): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  for (const c of asPod(pod).spec.containers) {
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? 'TCP') === (sp.protocol ?? 'TCP')) return p.containerPort;
  }
  return undefined;
}

/** The Service's selector, or undefined when it has none (its endpoints are not managed from pods). */
export function selectorOf(service: KubeObject): Record<string, string> | undefined {
  const selector = asService(service).spec?.selector;
  return selector && Object.keys(selector).length > 0 ? selector : undefined;
}

export function selects(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/**
 * Pure: the backends of a Service among `pods` (already those its selector matches), by pod IP:
 * pods with an IP that have not finished and whose every target port resolves.
 */
export function serviceBackends(service: KubeObject, pods: readonly KubeObject[]): Backend[] {
  const ports = asService(service).spec?.ports ?? [];
  const out: Backend[] = [];
  for (const pod of [...pods].sort((a, b) => (statusOf(a).podIP ?? '').localeCompare(statusOf(b).podIP ?? ''))) {
    const ip = statusOf(pod).podIP;
    const phase = statusOf(pod).phase;
    if (!ip || phase === 'Succeeded' || phase === 'Failed') continue;
    const resolved = ports.map((sp) => ({ sp, port: targetPortOf(pod, sp) }));
    if (resolved.some((r) => r.port === undefined)) continue;
    const { nodeName, hostname, subdomain } = asPod(pod).spec;
    out.push({
      pod,
      ip,
      ...(nodeName ? { nodeName } : {}),
      ...(hostname && subdomain === service.metadata.name ? { hostname } : {}),
      serving: isReady(pod),
      terminating: pod.metadata.deletionTimestamp !== undefined,
      ports: resolved.map(({ sp, port }) => ({ ...(sp.name ? { name: sp.name } : {}), port: port!, protocol: sp.protocol ?? 'TCP' })),
    });
  }
  return out;
}

/** The pods of `service`'s namespace its selector matches (none without a selector). */
export function selectedPods(service: KubeObject, pods: ObjectInformer): KubeObject[] {
  const selector = selectorOf(service);
  return selector ? pods.list(service.metadata.namespace).filter((p) => selects(selector, p.metadata.labels)) : [];
}

/** Calls `add` with each Service that selects the pod (before or after a change). */
export function servicesOfPod(services: ObjectInformer, pod: KubeObject, old: KubeObject | undefined, add: (service: KubeObject) => void): void {
  for (const p of old && old !== pod ? [pod, old] : [pod]) {
    for (const svc of services.list(p.metadata.namespace)) {
      const selector = selectorOf(svc);
      if (selector && selects(selector, p.metadata.labels)) add(svc);
    }
  }
}
