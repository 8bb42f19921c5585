// The security front of every API request in one call: authenticate, then authorize with RBAC,
// answering exactly what the Kubernetes API server answers (401 Unauthorized / 403 Forbidden
// Status bodies) so kubectl prints its usual messages. Admission comes later, per write, once the
// server has decoded the body.

import type { IncomingMessage } from 'node:http';
import type { Status } from '../resources/types.ts';
import type { Authenticator } from './authn.ts';
import { forbiddenStatus, unauthorizedStatus } from './rbac.ts';
import type { Authorizer, RequestAttributes } from './rbac.ts';
import { requestAttributes } from './request-info.ts';
import type { UserInfo } from './user.ts';

export type GateResult = { ok: true; user: UserInfo; attrs: RequestAttributes; reason: string } | { ok: false; status: Status };

export interface RequestGate {
  check(req: IncomingMessage): Promise<GateResult>;
}

export function createRequestGate(authn: Authenticator, authz: Authorizer): RequestGate {
  return {
    async check(req) {
      const user = await authn.authenticate(req);
      if (user === null) return { ok: false, status: unauthorizedStatus() };
      const attrs = requestAttributes(user, req.method ?? 'GET', req.url ?? '/');
      const decision = await authz.authorize(attrs);
      if (!decision.allowed) return { ok: false, status: forbiddenStatus(attrs, decision.reason) };
      return { ok: true, user, attrs, reason: decision.reason };
    },
  };
}
