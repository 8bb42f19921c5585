// Kubernetes' Status bodies for the common failures, with the wording kubectl users know
// (`pods "web" not found`, `Operation cannot be fulfilled on ...`). The server picks the case;
// these only build the body.
import type { ResourceInfo } from './catalog.ts';
import type { Status, StatusReason } from './types.ts';

/** `pods`, or `deployments.apps`: how Kubernetes names a resource in messages. */
export function qualifiedResource(info: ResourceInfo): string {
  return info.group === '' ? info.resource : `${info.resource}.${info.group}`;
}

export function failure(code: number, reason: StatusReason, message: string, details?: Status['details']): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

function resourceDetails(info: ResourceInfo, name: string): NonNullable<Status['details']> {
  return { name, ...(info.group === '' ? {} : { group: info.group }), kind: info.resource };
}

export function notFound(info: ResourceInfo, name: string): Status {
  return failure(404, 'NotFound', `${qualifiedResource(info)} ${JSON.stringify(name)} not found`, resourceDetails(info, name));
}

export function alreadyExists(info: ResourceInfo, name: string): Status {
  return failure(409, 'AlreadyExists', `${qualifiedResource(info)} ${JSON.stringify(name)} already exists`, resourceDetails(info, name));
}

/** Optimistic concurrency lost: the resourceVersion sent is not the stored one. */
export function conflict(info: ResourceInfo, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again'): Status {
  return failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(info)} ${JSON.stringify(name)}: ${why}`, resourceDetails(info, name));
}

/** A write through a fence whose term is no longer the cluster's (409, reason `Fenced`). */
export function fenced(message: string): Status {
  return failure(409, 'Fenced', `fenced: ${message}`);
}

/** The one test for a fence refusal: by reason, never by message. */
export function isFencedStatus(status: Status | undefined): boolean {
  return status?.reason === 'Fenced';
}

export function badRequest(message: string): Status {
  return failure(400, 'BadRequest', message);
}

export function methodNotAllowed(info: ResourceInfo, verb: string): Status {
  return failure(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`, { kind: info.resource, ...(info.group === '' ? {} : { group: info.group }), causes: [{ message: `${verb} is not supported on ${qualifiedResource(info)}` }] });
}

/** A watch or list from a compacted resourceVersion. */
export function gone(message: string): Status {
  return failure(410, 'Expired', message);
}

export function success(details?: Status['details']): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', ...(details ? { details } : {}), code: 200 };
}
