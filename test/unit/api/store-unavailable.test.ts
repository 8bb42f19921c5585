// The answers to requests the replicated store could not serve, word for word: 503 with
// Retry-After when nothing was applied, 504 Timeout when a write's outcome is unknown.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storeFailureStatus } from '../../../src/api/store-unavailable.ts';
import { ProposalDroppedError, RequestTimeoutError } from '../../../src/store/index.ts';

const status = (code: number, reason: string, message: string, details?: object) => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code });

test('a create that found no leader: 503 ServiceUnavailable, not applied, retry after 2 s', () => {
  assert.deepEqual(
    storeFailureStatus(new RequestTimeoutError('proposal', 5000, false), { verb: 'create', resource: 'configmaps' }),
    status(503, 'ServiceUnavailable', 'create configmaps was not applied: the cluster store found no leader within 5000 ms (quorum lost, or an election in progress); nothing was proposed, so it is safe to retry', { retryAfterSeconds: 2 }),
  );
});

test("a create whose admission read found no leader is still the create that was not applied", () => {
  assert.deepEqual(
    storeFailureStatus(new RequestTimeoutError('read', 5000, false), { verb: 'create', resource: 'deployments.apps' }),
    status(503, 'ServiceUnavailable', 'create deployments.apps was not applied: the cluster store found no leader within 5000 ms (quorum lost, or an election in progress); nothing was proposed, so it is safe to retry', { retryAfterSeconds: 2 }),
  );
});

test('a get whose read a leader never confirmed: 503, it changed nothing', () => {
  assert.deepEqual(
    storeFailureStatus(new RequestTimeoutError('read', 5000), { verb: 'get', resource: 'configmaps', name: 'x' }),
    status(503, 'ServiceUnavailable', 'get configmaps "x" could not be served: the leader did not confirm a consistent read within 5000 ms (the leader is unreachable or lost quorum); it changed nothing, so it is safe to retry', { retryAfterSeconds: 2 }),
  );
});

test('a proposal the leader refused before appending it: 503, not applied', () => {
  assert.deepEqual(
    storeFailureStatus(new ProposalDroppedError('uncommittedSizeExceeded'), { verb: 'update', resource: 'pods/status', name: 'web-1' }),
    status(503, 'ServiceUnavailable', 'update pods/status "web-1" was not applied: the cluster store refused it before appending it to its log (uncommittedSizeExceeded); nothing was proposed, so it is safe to retry', { retryAfterSeconds: 2 }),
  );
});

test('a write that reached the leader and got no result: 504 Timeout, outcome unknown, no Retry-After', () => {
  assert.deepEqual(
    storeFailureStatus(new RequestTimeoutError('proposal', 5000), { verb: 'patch', resource: 'deployments.apps', name: 'web' }),
    status(504, 'Timeout', 'Timeout: request did not complete within 5000 ms - patch deployments.apps "web" reached the cluster store\'s leader but no result came back (the leader is unreachable or lost quorum); its outcome is unknown: it may still be applied, so read the object before retrying'),
  );
});

test('a deletecollection that stops midway says the deletes before stay done (it is many writes)', () => {
  assert.deepEqual(
    storeFailureStatus(new RequestTimeoutError('read', 5000, false), { verb: 'deletecollection', resource: 'configmaps' }),
    status(503, 'ServiceUnavailable', 'deletecollection configmaps did not finish: the cluster store found no leader within 5000 ms (quorum lost, or an election in progress); the objects it deleted before stay deleted, and retrying it is safe', { retryAfterSeconds: 2 }),
  );
});

test('other errors are not store failures', () => {
  assert.equal(storeFailureStatus(new Error('boom'), { verb: 'create', resource: 'configmaps' }), undefined);
  assert.equal(storeFailureStatus(new ProposalDroppedError('invalidConfChange'), { verb: 'create', resource: 'configmaps' }), undefined);
});
