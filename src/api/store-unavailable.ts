// What a client is told when the replicated store could not serve its request: which request it
// was, and whether it changed anything. A request that never reached a leader (none known, or the
// leader refused the proposal before appending it) was not applied: 503 ServiceUnavailable with
// Retry-After, as the client can simply send it again. A write that reached a leader but got no
// result may still be applied later: 504 Timeout, as Kubernetes answers a request that did not
// complete in time, saying the outcome is unknown (no Retry-After: read before retrying).
import { ProposalDroppedError, RequestTimeoutError } from '../store/index.ts';
import { failure, type Status } from './resources/index.ts';

/** Seconds a client should wait before retrying a request that found no leader (an election takes about two election timeouts). */
export const NO_LEADER_RETRY_AFTER_SECONDS = 2;

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

export interface StoreRequest {
  /** The Kubernetes verb of the request (create, get, list, patch, ...). */
  verb: string;
  /** The resource as Kubernetes names it in messages: `configmaps`, `deployments.apps`, `pods/status`. */
  resource: string;
  name?: string;
}

function describe(request: StoreRequest): string {
  return `${request.verb} ${request.resource}${request.name ? ` ${JSON.stringify(request.name)}` : ''}`;
}

/** What the failed step means for the whole request: a deletecollection is many writes, and those before the failure stay done. */
function effect(request: StoreRequest, cause: string): string {
  if (request.verb === 'deletecollection') return `${describe(request)} did not finish: ${cause}; the objects it deleted before stay deleted, and retrying it is safe`;
  if (WRITE_VERBS.has(request.verb)) return `${describe(request)} was not applied: ${cause}; nothing was proposed, so it is safe to retry`;
  return `${describe(request)} could not be served: ${cause}; it changed nothing, so it is safe to retry`;
}

function unavailable(request: StoreRequest, cause: string): Status {
  return failure(503, 'ServiceUnavailable', effect(request, cause), { retryAfterSeconds: NO_LEADER_RETRY_AFTER_SECONDS });
}

/** The Status for a store failure of `request`, or undefined when `error` is not one (the caller answers it as before). */
export function storeFailureStatus(error: unknown, request: StoreRequest): Status | undefined {
  if (error instanceof ProposalDroppedError && error.reason !== 'invalidConfChange') {
    return unavailable(request, `the cluster store refused it before appending it to its log (${error.reason})`);
  }
  if (!(error instanceof RequestTimeoutError)) return undefined;
  if (!error.handedOver) return unavailable(request, `the cluster store found no leader within ${error.timeoutMs} ms (quorum lost, or an election in progress)`);
  // A read, even one a leader received, changes nothing: retrying it is safe.
  if (error.notApplied) return unavailable(request, `the leader did not confirm a consistent read within ${error.timeoutMs} ms (the leader is unreachable or lost quorum)`);
  return failure(
    504,
    'Timeout',
    `Timeout: request did not complete within ${error.timeoutMs} ms - ${describe(request)} reached the cluster store's leader but no result came back (the leader is unreachable or lost quorum); its outcome is unknown: it may still be applied, so read the object before retrying`,
  );
}
