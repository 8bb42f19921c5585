// Membership changes: their encoding inside log entries and their effect on a ConfState.

import type { ConfChange, ConfChangeType, ConfState, NodeId } from './types.ts';

const TYPE_CODES: Record<ConfChangeType, number> = { addVoter: 1, addLearner: 2, removeNode: 3 };
const TYPES_BY_CODE = new Map<number, ConfChangeType>(
  Object.entries(TYPE_CODES).map(([type, code]) => [code, type as ConfChangeType]),
);

// Layout: version(1) type(1) idLength(u32 BE) id(utf8) contextLength(u32 BE) context.
// Hand-rolled so the core needs no codec dependency and the bytes are stable across versions.
const FORMAT_VERSION = 1;

export function encodeConfChange(change: ConfChange): Uint8Array {
  const id = new TextEncoder().encode(change.nodeId);
  const context = change.context ?? new Uint8Array(0);
  const out = new Uint8Array(2 + 4 + id.length + 4 + context.length);
  const view = new DataView(out.buffer);
  out[0] = FORMAT_VERSION;
  out[1] = TYPE_CODES[change.type];
  view.setUint32(2, id.length);
  out.set(id, 6);
  view.setUint32(6 + id.length, context.length);
  out.set(context, 10 + id.length);
  return out;
}

export function decodeConfChange(bytes: Uint8Array): ConfChange {
  if (bytes.length < 10 || bytes[0] !== FORMAT_VERSION) throw new Error('conf change: bad encoding');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = TYPES_BY_CODE.get(bytes[1] ?? 0);
  if (type === undefined) throw new Error(`conf change: unknown type code ${bytes[1]}`);
  const idLength = view.getUint32(2);
  if (10 + idLength > bytes.length) throw new Error('conf change: truncated node id');
  const nodeId = new TextDecoder().decode(bytes.subarray(6, 6 + idLength));
  const contextLength = view.getUint32(6 + idLength);
  if (10 + idLength + contextLength !== bytes.length) throw new Error('conf change: bad context length');
  const change: ConfChange = { type, nodeId };
  if (contextLength > 0) change.context = bytes.slice(10 + idLength);
  return change;
}

/** The membership that results from applying `change` to `conf`. Pure; `conf` is not modified. */
export function applyChangeToConfState(conf: ConfState, change: ConfChange): ConfState {
  const voters = conf.voters.filter((id) => id !== change.nodeId);
  const learners = conf.learners.filter((id) => id !== change.nodeId);
  if (change.type === 'addVoter') voters.push(change.nodeId);
  if (change.type === 'addLearner') learners.push(change.nodeId);
  return { voters: voters.sort(), learners: learners.sort() };
}

/** Why `change` may not be applied to `conf`, or null if it may. */
export function confChangeProblem(conf: ConfState, change: ConfChange): string | null {
  if (change.nodeId === '') return 'empty node id';
  const next = applyChangeToConfState(conf, change);
  if (next.voters.length === 0) return 'the change would leave no voter';
  return null;
}

export function isVoter(conf: ConfState, id: NodeId): boolean {
  return conf.voters.includes(id);
}

export function isMember(conf: ConfState, id: NodeId): boolean {
  return conf.voters.includes(id) || conf.learners.includes(id);
}

export function copyConfState(conf: ConfState): ConfState {
  return { voters: [...conf.voters], learners: [...conf.learners] };
}
