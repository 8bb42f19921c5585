// The paging and revision parameters of a list request (limit, continue, resourceVersion,
// resourceVersionMatch), checked as Kubernetes checks them: the ListOptions validation of
// apimachinery (422) and the etcd3 store's rules (400), before anything is read.
import { ApiError, type ListQuery } from './registry.ts';
import { badRequest, forbidden, notSupported, type FieldError, type Status } from './resources/index.ts';

type Paging = Pick<ListQuery, 'limit' | 'continue' | 'revision' | 'local'>;

const MAX_UINT64 = 18446744073709551615n;
const INT64 = { min: -9223372036854775808n, max: 9223372036854775807n };

/**
 * The paging of a list: `limit` (0 or negative: none, as Kubernetes reads it); `continue` as given; `revision` for an
 * exact read (resourceVersionMatch=Exact, or Kubernetes' legacy rule: a limited list with a
 * resourceVersion other than 0); `local` for resourceVersion=0.
 */
export function listPaging(url: URL): Paging {
  const limit = parseLimit(url.searchParams.get('limit') ?? '');
  const token = url.searchParams.get('continue') ?? '';
  const rv = url.searchParams.get('resourceVersion') ?? '';
  const match = url.searchParams.get('resourceVersionMatch') ?? '';
  const errors = matchErrors(match, rv, token);
  if (errors.length > 0) throw new ApiError(listOptionsInvalid(errors));
  const paging: Paging = { ...(limit !== undefined && limit > 0 ? { limit } : {}), ...(rv === '0' ? { local: true } : {}) };
  if (token !== '') {
    if (rv !== '' && rv !== '0') throw new ApiError(badRequest('specifying resource version is not allowed when using continue'));
    return { ...paging, continue: token };
  }
  const exact = match === 'Exact' || (match === '' && paging.limit !== undefined && rv !== '' && rv !== '0');
  if (exact) return { ...paging, revision: parseRevision(rv) };
  return paging;
}

/** apimachinery's ValidateListOptions for resourceVersionMatch, in its order. */
function matchErrors(match: string, rv: string, token: string): FieldError[] {
  if (match === '') return [];
  const errors: FieldError[] = [];
  if (rv === '') errors.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided'));
  if (token !== '') errors.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'));
  if (match !== 'Exact' && match !== 'NotOlderThan') errors.push(notSupported('resourceVersionMatch', match, ['Exact', 'NotOlderThan', '']));
  if (match === 'Exact' && rv === '0') errors.push(forbidden('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'));
  return errors;
}

/** The 422 Kubernetes' list handler answers for invalid ListOptions (kind ListOptions of meta.k8s.io, no name). */
function listOptionsInvalid(errors: readonly FieldError[]): Status {
  const list = errors.map((e) => `${e.field}: ${e.message}`);
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `ListOptions.meta.k8s.io "" is invalid: ${list.length === 1 ? list[0] : `[${list.join(', ')}]`}`,
    reason: 'Invalid',
    details: { group: 'meta.k8s.io', kind: 'ListOptions', causes: errors.map((e) => ({ reason: e.type, message: e.message, field: e.field })) },
    code: 422,
  };
}

/** The limit as apimachinery's query conversion reads it (strconv.ParseInt, its words in the 400); absent or empty: none. */
function parseLimit(raw: string): number | undefined {
  if (raw === '') return undefined;
  const syntax = /^[+-]?[0-9]+$/.test(raw);
  if (!syntax || BigInt(raw) < INT64.min || BigInt(raw) > INT64.max) {
    throw new ApiError(badRequest(`strconv.ParseInt: parsing ${JSON.stringify(raw)}: ${syntax ? 'value out of range' : 'invalid syntax'}`));
  }
  // Past any store's size, so a limit beyond 2^53 is as good as none.
  return Math.min(Number(raw), Number.MAX_SAFE_INTEGER);
}

/** The etcd3 store's parse of a resourceVersion to read at (Go's strconv.ParseUint wording in the 400). */
function parseRevision(rv: string): number {
  const problem = !/^[0-9]+$/.test(rv) ? 'invalid syntax' : BigInt(rv) > MAX_UINT64 ? 'value out of range' : undefined;
  if (problem !== undefined) {
    throw new ApiError(badRequest(`invalid resource version: resourceVersion: Invalid value: ${JSON.stringify(rv)}: strconv.ParseUint: parsing ${JSON.stringify(rv)}: ${problem}`));
  }
  return Number(rv);
}
