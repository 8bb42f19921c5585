// From an HTTP request line to the RBAC request attributes, as Kubernetes' RequestInfoFactory
// does it: GET /api/v1/namespaces/ns/pods/name/log -> { verb: get, resource: pods,
// subresource: log, namespace: ns, name }. Anything not under /api/<v> or /apis/<g>/<v> is a
// non-resource path (verb = the lowercase HTTP method). The server routes on its own; this only
// says what RBAC must check, so both agree with what Kubernetes users write in their Roles.

import type { RequestAttributes } from './rbac.ts';
import type { UserInfo } from './user.ts';

const METHOD_VERBS: Readonly<Record<string, string>> = { post: 'create', get: 'get', head: 'get', put: 'update', patch: 'patch', delete: 'delete' };
// "namespaces/<ns>/status" is the Namespace's own subresource, not a resource named "status".
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);
const CONNECT_SUBRESOURCES = new Set(['exec', 'attach', 'portforward']);

function truthy(value: string | null): boolean {
  return value !== null && value !== '' && value !== '0' && value !== 'false';
}

/** `url` is the request target ("/api/v1/pods?watch=1"). */
export function requestAttributes(user: UserInfo, method: string, url: string): RequestAttributes {
  const parsed = new URL(url, 'http://bramble.invalid');
  const path = parsed.pathname;
  const segments = path.split('/').filter((p) => p !== '');
  const httpVerb = method.toLowerCase();
  const nonResource: RequestAttributes = { user, verb: httpVerb, apiGroup: '', resource: '', path, resourceRequest: false };

  let parts: string[];
  let apiGroup = '';
  if (segments[0] === 'api' && segments.length >= 3) parts = segments.slice(2);
  else if (segments[0] === 'apis' && segments.length >= 4) {
    apiGroup = segments[1] ?? '';
    parts = segments.slice(3);
  } else return nonResource; // /api, /api/v1, /apis/apps/v1 (discovery), /healthz, /version, ...

  let verb = METHOD_VERBS[httpVerb] ?? httpVerb;
  if (parts[0] === 'watch' && parts.length >= 2) {
    verb = 'watch';
    parts = parts.slice(1);
  }
  const attrs: RequestAttributes = { user, verb, apiGroup, resource: '', resourceRequest: true };
  if (parts[0] === 'namespaces' && parts.length >= 2) {
    attrs.namespace = parts[1] ?? '';
    if (parts.length >= 3 && !NAMESPACE_SUBRESOURCES.has(parts[2] ?? '')) parts = parts.slice(2);
  }
  attrs.resource = parts[0] ?? '';
  if (parts[1] !== undefined) attrs.name = parts[1];
  if (parts[2] !== undefined && verb !== 'watch') attrs.subresource = parts[2];

  // kubectl 1.32 opens exec/attach/port-forward as a WebSocket, i.e. a GET; Kubernetes authorizes
  // that upgrade as `create` (AuthorizePodWebsocketUpgradeCreatePermission), so Roles written for
  // `create pods/exec` keep working.
  if (verb === 'get' && attrs.resource === 'pods' && attrs.subresource !== undefined && CONNECT_SUBRESOURCES.has(attrs.subresource)) attrs.verb = 'create';

  if (attrs.name === undefined) {
    if (verb === 'get') attrs.verb = truthy(parsed.searchParams.get('watch')) ? 'watch' : 'list';
    else if (verb === 'delete') attrs.verb = 'deletecollection';
    // kubectl get -w pod x lists with fieldSelector=metadata.name=x: RBAC sees that one name.
    if (attrs.verb === 'list' || attrs.verb === 'watch') {
      const match = /^metadata\.name==?([^,]+)$/.exec(parsed.searchParams.get('fieldSelector') ?? '');
      if (match?.[1] !== undefined) attrs.name = match[1];
    }
  }
  return attrs;
}
