// How a brand-new cluster's first members start: with a snapshot at index 1, term 1, that
// carries the initial membership and an empty state machine.
//
// Why a snapshot and not index 0: a node that joins later starts with an empty log and must
// learn the initial membership from the leader. Index 1 lies below every leader's first log
// index, so the leader can only serve it by sending this snapshot, membership included. (At
// index 0 nothing would ever be sent and the joiner would miss the initial voters.)

import { copyConfState } from './conf-change.ts';
import type { ConfState, HardState, Snapshot } from './types.ts';

export const BOOTSTRAP_INDEX = 1;
export const BOOTSTRAP_TERM = 1;

/** What an initial member's storage must hold before its first RawNode is created. */
export function bootstrapState(confState: ConfState): { snapshot: Snapshot; hardState: HardState } {
  if (confState.voters.length === 0) throw new Error('bootstrap: the initial membership needs at least one voter');
  return {
    snapshot: {
      metadata: { index: BOOTSTRAP_INDEX, term: BOOTSTRAP_TERM, confState: copyConfState(confState) },
      data: new Uint8Array(0),
    },
    hardState: { term: BOOTSTRAP_TERM, vote: null, commit: BOOTSTRAP_INDEX },
  };
}
