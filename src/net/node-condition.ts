// The board's NetworkUnavailable condition, written by the pod network pass (one writer per
// reason: the leader's pod-cidr controller writes NoCIDRAvailable/CIDRAssigned while a Node has
// no subnet; this board writes the rest once it has one). Written only when status, reason or
// message changed, on the status subresource pinned to the read resourceVersion: a concurrent
// writer (the agent, the controller) wins and the next pass tries again.
import { asNode, type Client, Kinds } from '../client/index.ts';

export const NETWORK_UNAVAILABLE = 'NetworkUnavailable';

export interface WantedCondition {
  status: 'True' | 'False';
  reason: string;
  message: string;
}

interface NodeConditionView {
  type: string;
  status?: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastHeartbeatTime?: string;
}

const stamp = (now: Date) => now.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Sets the Node's NetworkUnavailable to `wanted`; returns whether it wrote. */
export async function setNetworkCondition(client: Client, nodeName: string, wanted: WantedCondition, now = new Date()): Promise<boolean> {
  const node = await client.get(Kinds.nodes, undefined, nodeName);
  const status = asNode(node).status ?? {};
  const conditions = (status.conditions ?? []) as NodeConditionView[];
  const old = conditions.find((c) => c.type === NETWORK_UNAVAILABLE);
  if (old && old.status === wanted.status && old.reason === wanted.reason && old.message === wanted.message) return false;
  const next: NodeConditionView = {
    type: NETWORK_UNAVAILABLE,
    ...wanted,
    lastHeartbeatTime: stamp(now),
    lastTransitionTime: old?.status === wanted.status && old.lastTransitionTime ? old.lastTransitionTime : stamp(now),
  };
  const written = old ? conditions.map((c) => (c === old ? next : c)) : [...conditions, next];
  await client.update(Kinds.nodes, { ...node, status: { ...status, conditions: written } }, { subresource: 'status' });
  return true;
}
