// Admission: the last gate before a write, after authentication and authorization. Each plugin
// sees the request (operation, object, old object, user) and may change the object (mutating,
// e.g. the ServiceAccount default) or refuse the request with an AdmissionError that the server
// turns into a Kubernetes Status. Plugins run in order; the first refusal stops the chain.

import type { ResourceInfo } from '../resources/catalog.ts';
import type { KubeObject, Status, StatusDetails, StatusReason } from '../resources/types.ts';
import { asNamespace } from '../resources/views.ts';
import type { UserInfo } from '../auth/user.ts';

export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionAttributes {
  operation: AdmissionOperation;
  info: ResourceInfo;
  /** 'status', 'scale', 'binding', 'log', 'exec', or undefined for the main resource. */
  subresource?: string;
  /** '' for cluster-scoped resources. */
  namespace: string;
  name: string;
  /** The incoming object (CREATE/UPDATE), already defaulted; mutating plugins change it in place. */
  object?: KubeObject;
  /** The stored object (UPDATE/DELETE). */
  oldObject?: KubeObject;
  user: UserInfo;
  /** Server-side dry run: plugins must not cause side effects beyond the object itself. */
  dryRun: boolean;
  /** The Namespace object, or undefined when it does not exist. */
  lookupNamespace(name: string): Promise<KubeObject | undefined>;
}

export class AdmissionError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'AdmissionError';
  }

  toStatus(): Status {
    const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, code: this.code };
    if (this.details !== undefined) status.details = this.details;
    return status;
  }
}

export interface AdmissionPlugin {
  readonly name: string;
  admit(attrs: AdmissionAttributes): Promise<void>;
}

export interface AdmissionChain {
  readonly plugins: readonly AdmissionPlugin[];
  admit(attrs: AdmissionAttributes): Promise<void>;
}

export function createAdmissionChain(plugins: readonly AdmissionPlugin[]): AdmissionChain {
  return {
    plugins,
    async admit(attrs) {
      for (const plugin of plugins) await plugin.admit(attrs);
    },
  };
}

/** `pods`, `deployments.apps`: how Kubernetes names a resource in error messages. */
export function qualifiedResource(info: ResourceInfo): string {
  return info.group === '' ? info.resource : `${info.resource}.${info.group}`;
}

function forbidden(info: ResourceInfo, name: string, detail: string): AdmissionError {
  const subject = name === '' ? qualifiedResource(info) : `${qualifiedResource(info)} "${name}"`;
  return new AdmissionError(403, 'Forbidden', `${subject} is forbidden: ${detail}`, { name, group: info.group, kind: info.resource });
}

// --- NamespaceLifecycle --------------------------------------------------------------------------

/** Namespaces that always exist: Kubernetes refuses to delete them, and so does Bramble. */
export const IMMORTAL_NAMESPACES: readonly string[] = ['default', 'kube-system', 'kube-public'];

function isTerminating(ns: KubeObject): boolean {
  const phase = asNamespace(ns).status?.phase;
  return phase === 'Terminating' || ns.metadata.deletionTimestamp !== undefined;
}

/**
 * No new objects in a namespace that does not exist (404, as Kubernetes) or is being deleted
 * (403); the built-in namespaces cannot be deleted.
 */
export function namespaceLifecycle(): AdmissionPlugin {
  return {
    name: 'NamespaceLifecycle',
    async admit(attrs) {
      const { info } = attrs;
      if (attrs.operation === 'DELETE' && info.group === '' && info.resource === 'namespaces' && attrs.subresource === undefined) {
        if (IMMORTAL_NAMESPACES.includes(attrs.name)) throw forbidden(info, attrs.name, 'this namespace may not be deleted');
        return;
      }
      if (attrs.operation !== 'CREATE' || !info.namespaced || attrs.namespace === '') return;
      const ns = await attrs.lookupNamespace(attrs.namespace);
      if (ns === undefined) {
        throw new AdmissionError(404, 'NotFound', `namespaces "${attrs.namespace}" not found`, { name: attrs.namespace, kind: 'namespaces' });
      }
      if (isTerminating(ns)) {
        throw forbidden(info, attrs.name, `unable to create new content in namespace ${attrs.namespace} because it is being terminated`);
      }
    },
  };
}

// --- ServiceAccount ------------------------------------------------------------------------------

/** Pods without a service account run as the namespace's `default` one, as in Kubernetes. */
export function serviceAccountDefault(): AdmissionPlugin {
  return {
    name: 'ServiceAccount',
    admit(attrs) {
      const { info, object } = attrs;
      if (attrs.operation !== 'CREATE' || attrs.subresource !== undefined || info.group !== '' || info.resource !== 'pods' || object === undefined) return Promise.resolve();
      const spec = object['spec'];
      if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) return Promise.resolve(); // validation reports the missing spec
      const podSpec = spec as Record<string, unknown>;
      const name = typeof podSpec['serviceAccountName'] === 'string' && podSpec['serviceAccountName'] !== '' ? podSpec['serviceAccountName'] : typeof podSpec['serviceAccount'] === 'string' && podSpec['serviceAccount'] !== '' ? podSpec['serviceAccount'] : 'default';
      podSpec['serviceAccountName'] = name;
      // The deprecated field mirrors the new one, as the Kubernetes API server returns it.
      podSpec['serviceAccount'] = name;
      return Promise.resolve();
    },
  };
}

/** The plugins `bramble up` runs, in order. */
export function defaultAdmissionPlugins(): AdmissionPlugin[] {
  return [namespaceLifecycle(), serviceAccountDefault()];
}
