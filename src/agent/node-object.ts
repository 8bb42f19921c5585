import { NodeAnnotations, type KubeObject } from '../client/index.ts';
import type { NodeCondition, NodeFacts } from './node-info.ts';

/** The core/v1 Node fields the agent owns, as it builds them (no uid yet: the API sets it); a KubeObject, so it is written without a cast. */
export interface NodeObject extends KubeObject {
  apiVersion: 'v1';
  kind: 'Node';
  metadata: { name: string; labels: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, never>;
  status: {
    capacity: NodeFacts['capacity'];
    allocatable: NodeFacts['allocatable'];
    conditions: Array<NodeCondition & { lastHeartbeatTime: string; lastTransitionTime: string }>;
    addresses: Array<{ type: 'InternalIP' | 'Hostname'; address: string }>;
    nodeInfo: NodeFacts['nodeInfo'];
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The Node the agent registers and updates. Condition times are carried over from the previous
 * object while a condition keeps its status, so the object only changes when a fact does;
 * liveness is not renewed here (it is soft state, kept by the leader in memory).
 */
export function buildNodeObject(input: {
  nodeName: string;
  facts: NodeFacts;
  conditions: NodeCondition[];
  internalIP: string;
  nowMs: number;
  previous?: NodeObject | null;
}): NodeObject {
  const now = iso(input.nowMs);
  const before = new Map((input.previous?.status.conditions ?? []).map((c) => [c.type, c]));
  const conditions = input.conditions.map((condition) => {
    const old = before.get(condition.type);
    const unchanged = old && old.status === condition.status && old.reason === condition.reason && old.message === condition.message;
    return {
      ...condition,
      lastHeartbeatTime: unchanged ? old.lastHeartbeatTime : now,
      lastTransitionTime: old && old.status === condition.status ? old.lastTransitionTime : now,
    };
  });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: input.nodeName,
      labels: { ...input.facts.labels },
      ...(input.facts.boardModel ? { annotations: { [NodeAnnotations.boardModel]: input.facts.boardModel } } : {}),
    },
    spec: {},
    status: {
      capacity: input.facts.capacity,
      allocatable: input.facts.allocatable,
      conditions,
      addresses: [
        { type: 'InternalIP', address: input.internalIP },
        { type: 'Hostname', address: input.nodeName },
      ],
      nodeInfo: input.facts.nodeInfo,
    },
  };
}

/** Whether the new object differs from the last one written (what the agent sends through Raft). */
export function nodeObjectChanged(previous: NodeObject | null, next: NodeObject): boolean {
  return previous === null || JSON.stringify(previous) !== JSON.stringify(next);
}
