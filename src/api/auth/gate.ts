// The security front of every API request in one call: authenticate, then authorize with RBAC,
// answering exactly what the Kubernetes API server answers (401 Unauthorized / 403 Forbidden
// Status bodies) so kubectl prints its usual messages. Admission comes later, per write, once the
// server has decoded the body.

import type { IncomingMessage } from 'node:http';
import type { Status } from '../resources/types.ts';
import { ANONYMOUS_USER, presentsCredentials, type Authenticator } from './authn.ts';
import { forbiddenStatus, unauthorizedStatus } from './rbac.ts';
import type { Authorizer, RequestAttributes } from './rbac.ts';
import { requestAttributes } from './request-info.ts';
import type { UserInfo } from './user.ts';
import { withAuthenticatedGroup } from './user.ts';

function headerValues(req: IncomingMessage, name: string): string[] {
  const raw = req.headers[name];
  if (raw === undefined) return [];
  return (Array.isArray(raw) ? raw : raw.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

/**
 * `kubectl --as USER [--as-group G]` (Impersonate-User / Impersonate-Group headers), as Kubernetes
 * does it: the caller needs `impersonate` on users (or serviceaccounts) and groups, then the
 * request runs as the impersonated user. Extra and uid impersonation are refused, not ignored.
 */
async function impersonate(user: UserInfo, req: IncomingMessage, authz: Authorizer): Promise<{ user: UserInfo } | { status: Status }> {
  const name = headerValues(req, 'impersonate-user')[0];
  const groups = headerValues(req, 'impersonate-group');
  const unsupported = Object.keys(req.headers).find((h) => h.startsWith('impersonate-extra-') || h === 'impersonate-uid');
  if (name === undefined && groups.length === 0 && unsupported === undefined) return { user };
  if (unsupported !== undefined) return { status: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `the ${unsupported} header is not supported by this server; impersonate with Impersonate-User and Impersonate-Group only`, reason: 'BadRequest', code: 400 } };
  if (name === undefined) return { status: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'requested impersonation of groups without a user (kubectl --as-group needs --as)', reason: 'BadRequest', code: 400 } };
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(name);
  const checks: RequestAttributes[] = [
    sa ? { user, verb: 'impersonate', apiGroup: '', resource: 'serviceaccounts', namespace: sa[1] ?? '', name: sa[2] ?? '', resourceRequest: true } : { user, verb: 'impersonate', apiGroup: '', resource: 'users', name, resourceRequest: true },
    ...groups.map((g): RequestAttributes => ({ user, verb: 'impersonate', apiGroup: '', resource: 'groups', name: g, resourceRequest: true })),
  ];
  for (const attrs of checks) {
    const decision = await authz.authorize(attrs);
    if (!decision.allowed) return { status: forbiddenStatus(attrs, decision.reason) };
  }
  const saGroups = sa ? ['system:serviceaccounts', `system:serviceaccounts:${sa[1] ?? ''}`] : [];
  return { user: withAuthenticatedGroup({ username: name, groups: [...saGroups, ...groups] }) };
}

export type GateResult = { ok: true; user: UserInfo; attrs: RequestAttributes; reason: string } | { ok: false; status: Status };

export interface RequestGate {
  check(req: IncomingMessage): Promise<GateResult>;
}

export interface GateOptions {
  /**
   * Paths (and everything under them) where a request without any credentials is the anonymous
   * user and RBAC decides, like Kubernetes' anonymous authentication restricted to the health
   * endpoints: anywhere else no credentials is a 401.
   */
  anonymousPaths?: readonly string[];
}

function pathOf(url: string): string {
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

function anonymousAllowed(req: IncomingMessage, paths: readonly string[]): boolean {
  if (paths.length === 0) return false;
  const path = pathOf(req.url ?? '/');
  return paths.some((p) => path === p || path.startsWith(`${p}/`)) && !presentsCredentials(req);
}

export function createRequestGate(authn: Authenticator, authz: Authorizer, options: GateOptions = {}): RequestGate {
  const anonymousPaths = options.anonymousPaths ?? [];
  return {
    async check(req) {
      const authenticated = (await authn.authenticate(req)) ?? (anonymousAllowed(req, anonymousPaths) ? ANONYMOUS_USER : null);
      if (authenticated === null) return { ok: false, status: unauthorizedStatus() };
      const impersonated = await impersonate(authenticated, req, authz);
      if ('status' in impersonated) return { ok: false, status: impersonated.status };
      const user = impersonated.user;
      const attrs = requestAttributes(user, req.method ?? 'GET', req.url ?? '/');
      const decision = await authz.authorize(attrs);
      if (!decision.allowed) return { ok: false, status: forbiddenStatus(attrs, decision.reason) };
      return { ok: true, user, attrs, reason: decision.reason };
    },
  };
}
