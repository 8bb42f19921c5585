import { Encoder } from 'cbor-x';
import type { ConnectionOptions } from 'node:tls';

/**
 * TLS for a client of the client port (the CLI, a joining node, snapshot fetches): the cluster CA
 * and a client certificate it issued. Absent: plain HTTP (a data dir from before bundles).
 */
export type StoreClientTls = Pick<ConnectionOptions, 'ca' | 'cert' | 'key' | 'minVersion' | 'checkServerIdentity'>;

/** Requests under this prefix need no client certificate: the token join (src/identity/join.ts). */
export const joinPathPrefix = '/v1/join/';

/** Content type of every request and response body of the store's client API. */
export const cborContentType = 'application/cbor';
/** Largest request body the client API accepts (a value is at most a little under this). */
export const maxRequestBodyBytes = 4 * 1024 * 1024;

export const wire = new Encoder({ useRecords: false, mapsAsObjects: true });

/** Why a client API request failed, as the server says it (HTTP status + this body). */
export interface WireError {
  error: {
    /**
     * Stable machine-readable reason, e.g. 'invalid-request', 'compacted', 'no-leader' (503: no
     * leader took the request, nothing changed), 'timeout' (503: a leader took it, a write's
     * outcome is unknown).
     */
    code: string;
    message: string;
  };
}

export const storePaths = {
  range: '/v1/kv/range',
  put: '/v1/kv/put',
  deleteRange: '/v1/kv/deleterange',
  txn: '/v1/kv/txn',
  compact: '/v1/kv/compact',
  status: '/v1/cluster/status',
  members: '/v1/cluster/members',
  /** POST { name }: removes a member (voter or learner) from the configuration. */
  removeMember: '/v1/cluster/members/remove',
  /** GET ?index=&term= with an optional Range header: the current Raft snapshot's bytes. */
  snapshot: '/v1/raft/snapshot',
} as const;
