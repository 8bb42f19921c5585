// The apiVersion and kind of a create or replace body, checked as the Kubernetes API server's
// decoder checks them (apiserver endpoints/handlers create.go and update.go): an empty field takes
// the endpoint's value, a group/version/kind its scheme does not register is "cannot be handled",
// and one it registers but this endpoint does not serve (an older version of the same kind) "does
// not match the expected API version". Bramble stores what the body says it is, so a body that
// names another version must be refused, never silently stored as the endpoint's version.
import { ApiError } from './registry.ts';
import { badRequest, findByKind, type KubeObject, type ResourceInfo } from './resources/index.ts';

/** The name Kubernetes' own scheme has in these messages (kubectl users search for this text). */
const SCHEME = 'pkg/api/legacyscheme/scheme.go:30';

/**
 * Versions Kubernetes 1.32 still registers in its scheme for the kinds Bramble serves, although
 * no endpoint serves them: a body of one of these decodes, then fails the endpoint's version check.
 */
const REGISTERED_ELSEWHERE: Readonly<Record<string, readonly string[]>> = {
  Deployment: ['apps/v1beta1', 'apps/v1beta2', 'extensions/v1beta1'],
  DaemonSet: ['apps/v1beta2', 'extensions/v1beta1'],
  ReplicaSet: ['apps/v1beta2', 'extensions/v1beta1'],
  Role: ['rbac.authorization.k8s.io/v1alpha1', 'rbac.authorization.k8s.io/v1beta1'],
  ClusterRole: ['rbac.authorization.k8s.io/v1alpha1', 'rbac.authorization.k8s.io/v1beta1'],
  RoleBinding: ['rbac.authorization.k8s.io/v1alpha1', 'rbac.authorization.k8s.io/v1beta1'],
  ClusterRoleBinding: ['rbac.authorization.k8s.io/v1alpha1', 'rbac.authorization.k8s.io/v1beta1'],
  Event: ['events.k8s.io/v1', 'events.k8s.io/v1beta1'],
};

interface GroupVersion {
  group: string;
  version: string;
}

/** schema.ParseGroupVersion: "" and "/" are empty, "v1" the core group, "g/v" a group; more slashes are an error. */
function parseGroupVersion(apiVersion: string): GroupVersion | undefined {
  if (apiVersion === '' || apiVersion === '/') return { group: '', version: '' };
  const parts = apiVersion.split('/');
  if (parts.length === 1) return { group: '', version: apiVersion };
  if (parts.length === 2) return { group: parts[0] ?? '', version: parts[1] ?? '' };
  return undefined;
}

function formatGroupVersion(gv: GroupVersion): string {
  return gv.group === '' ? gv.version : `${gv.group}/${gv.version}`;
}

/** The JSON type name Go's encoding/json puts in "cannot unmarshal <type> into ...". */
function jsonTypeName(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'object' : typeof value;
}

/** Kubernetes' summarizeData(body, 30): the start of the body, for "unrecognized" errors. */
function summarize(obj: KubeObject): string {
  const json = JSON.stringify(obj);
  return json.length > 30 ? `${json.slice(0, 30)} ...` : json;
}

function refused(message: string): ApiError {
  return new ApiError(badRequest(message));
}

function unrecognized(info: ResourceInfo, obj: KubeObject, cause: string): ApiError {
  return refused(`the object provided is unrecognized (must be of type ${info.kind}): ${cause} (${summarize(obj)})`);
}

/**
 * Checks and defaults the body's apiVersion and kind for an endpoint of `info`; afterwards both
 * are the endpoint's. A body of another kind of this version keeps Bramble's own message (Kubernetes
 * would fail converting it); every other refusal is Kubernetes' exact text.
 */
export function checkTypeMeta(obj: KubeObject, info: ResourceInfo): void {
  const raw = obj as Record<string, unknown>;
  for (const field of ['apiVersion', 'kind'] as const) {
    const value = raw[field];
    // JSON null unmarshals to the empty string in Go; a number or object does not.
    if (value !== undefined && value !== null && typeof value !== 'string') {
      throw unrecognized(info, obj, `couldn't get version/kind; json parse error: json: cannot unmarshal ${jsonTypeName(value)} into Go struct field .${field} of type string`);
    }
  }
  const apiVersion = typeof raw['apiVersion'] === 'string' ? raw['apiVersion'] : '';
  const parsed = parseGroupVersion(apiVersion);
  if (parsed === undefined) throw unrecognized(info, obj, `unexpected GroupVersion string: ${apiVersion}`);
  const expected: GroupVersion = { group: info.group, version: info.version };
  // gvkWithDefaults: an empty group and version take the endpoint's; an empty version alone only in the endpoint's group.
  const gv = parsed.group === '' && parsed.version === '' ? expected : parsed.version === '' && parsed.group === expected.group ? { ...parsed, version: expected.version } : parsed;
  const kind = typeof raw['kind'] === 'string' && raw['kind'] !== '' ? raw['kind'] : info.kind;
  const dataVersion = formatGroupVersion(gv);
  if (gv.version === '') throw refused(`${kind} in version "" cannot be handled as a ${info.kind}: Object 'apiVersion' is missing in '${JSON.stringify(obj)}'`);
  const registered = findByKind(dataVersion, kind) !== undefined || (REGISTERED_ELSEWHERE[kind] ?? []).includes(dataVersion);
  if (!registered) {
    throw refused(`${kind} in version "${gv.version}" cannot be handled as a ${info.kind}: no kind "${kind}" is registered for version "${dataVersion}" in scheme "${SCHEME}"`);
  }
  if (kind !== info.kind) throw refused(`the kind "${kind}" of the body does not match the resource ${info.resource} (kind ${info.kind})`);
  if (dataVersion !== info.apiVersion) {
    throw refused(`the API version in the data (${dataVersion}) does not match the expected API version (${info.apiVersion})`);
  }
  obj.apiVersion = info.apiVersion;
  obj.kind = info.kind;
}
