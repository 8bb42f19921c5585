import { type ConfigSource, PodConfigError } from './config-sources.ts';
import type { Container, Pod } from '../../client/index.ts';

/** Values only the node knows when the container is created (downward API fields). */
export interface FieldContext {
  podIP: string | null;
  hostIP: string;
  nodeName: string;
}

function fieldValue(pod: Pod, fieldPath: string, context: FieldContext): string {
  const mapKey = /^metadata\.(labels|annotations)\['([^']+)'\]$/.exec(fieldPath);
  if (mapKey) return (mapKey[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations)?.[mapKey[2] ?? ''] ?? '';
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata.name;
    case 'metadata.namespace':
      return pod.metadata.namespace;
    case 'metadata.uid':
      return pod.metadata.uid;
    case 'spec.nodeName':
      return pod.spec.nodeName ?? context.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? 'default';
    case 'status.podIP':
      return context.podIP ?? '';
    case 'status.hostIP':
      return context.hostIP;
    default:
      throw new PodConfigError('CreateContainerConfigError', `unsupported fieldRef "${fieldPath}": use metadata.name, metadata.namespace, metadata.uid, metadata.labels['key'], metadata.annotations['key'], spec.nodeName, spec.serviceAccountName, status.podIP or status.hostIP`);
  }
}

/**
 * The container's environment as Kubernetes builds it: envFrom first (later sources win), then
 * env in order, where $(NAME) refers to a variable defined before it or to a Service variable;
 * then the Service variables (`serviceEnv`, service-env.ts) the container does not define itself.
 * A missing ConfigMap, Secret or key that is not optional is a CreateContainerConfigError naming the object.
 */
export async function resolveEnv(pod: Pod, container: Container, source: ConfigSource, context: FieldContext, serviceEnv: ReadonlyArray<{ name: string; value: string }> = []): Promise<Array<{ name: string; value: string }>> {
  const services = new Map(serviceEnv.map((e) => [e.name, e.value]));
  const namespace = pod.metadata.namespace;
  const values = new Map<string, string>();
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef) {
      const data = await source.configMap(namespace, from.configMapRef.name);
      if (!data && !from.configMapRef.optional) throw new PodConfigError('CreateContainerConfigError', `configmap "${from.configMapRef.name}" not found in namespace ${namespace}: create it or mark the reference optional`);
      for (const [key, value] of Object.entries(data ?? {})) values.set(prefix + key, value);
    }
    if (from.secretRef) {
      const data = await source.secret(namespace, from.secretRef.name);
      if (!data && !from.secretRef.optional) throw new PodConfigError('CreateContainerConfigError', `secret "${from.secretRef.name}" not found in namespace ${namespace}: create it or mark the reference optional`);
      for (const [key, value] of Object.entries(data ?? {})) values.set(prefix + key, Buffer.from(value).toString('utf8'));
    }
  }
  for (const variable of container.env ?? []) {
    const from = variable.valueFrom;
    if (from?.configMapKeyRef) {
      const ref = from.configMapKeyRef;
      const data = await source.configMap(namespace, ref.name);
      const value = data?.[ref.key];
      if (value === undefined) {
        if (ref.optional) continue;
        throw new PodConfigError('CreateContainerConfigError', data ? `key "${ref.key}" not found in configmap "${ref.name}" (env ${variable.name})` : `configmap "${ref.name}" not found in namespace ${namespace} (env ${variable.name}): create it or mark the reference optional`);
      }
      values.set(variable.name, value);
    } else if (from?.secretKeyRef) {
      const ref = from.secretKeyRef;
      const data = await source.secret(namespace, ref.name);
      const value = data?.[ref.key];
      if (value === undefined) {
        if (ref.optional) continue;
        throw new PodConfigError('CreateContainerConfigError', data ? `key "${ref.key}" not found in secret "${ref.name}" (env ${variable.name})` : `secret "${ref.name}" not found in namespace ${namespace} (env ${variable.name}): create it or mark the reference optional`);
      }
      values.set(variable.name, Buffer.from(value).toString('utf8'));
    } else if (from?.fieldRef) {
      values.set(variable.name, fieldValue(pod, from.fieldRef.fieldPath, context));
    } else {
      // $(VAR) expands to a variable defined earlier; $$(VAR) is a literal $(VAR); unknown stays as written.
      const expanded = (variable.value ?? '').replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole: string, name: string | undefined) =>
        whole === '$$' ? '$' : (values.get(name ?? '') ?? services.get(name ?? '') ?? whole),
      );
      values.set(variable.name, expanded);
    }
  }
  for (const [name, value] of services) if (!values.has(name)) values.set(name, value);
  return [...values].map(([name, value]) => ({ name, value }));
}
