/**
 * Where the agent reads ConfigMaps and Secrets from (the API client later; a map in tests).
 * `null` means the object does not exist.
 */
export interface ConfigSource {
  configMap(namespace: string, name: string): Promise<Record<string, string> | null>;
  /** Values decoded from base64 (Secret.data). */
  secret(namespace: string, name: string): Promise<Record<string, Uint8Array> | null>;
}

/**
 * A container cannot be configured yet; `reason` is its waiting reason, as in Kubernetes
 * (CreateContainerConfigError for a missing ConfigMap/Secret or key).
 */
export class PodConfigError extends Error {
  constructor(
    readonly reason: 'CreateContainerConfigError' | 'InvalidVolume',
    message: string,
  ) {
    super(message);
    this.name = 'PodConfigError';
  }
}

/** A ConfigSource over fixed maps, for tests and for pods whose objects are already at hand. */
export function staticConfigSource(objects: {
  configMaps?: Record<string, Record<string, string>>;
  secrets?: Record<string, Record<string, Uint8Array>>;
}): ConfigSource {
  return {
    configMap: async (namespace, name) => objects.configMaps?.[`${namespace}/${name}`] ?? null,
    secret: async (namespace, name) => objects.secrets?.[`${namespace}/${name}`] ?? null,
  };
}
