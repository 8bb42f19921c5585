// Keeps this board's Node object true: created at the agent's first start, updated only when a
// fact or a condition's status/reason changes. A condition whose status and reason stay keep its
// stored message and times, so readings that move all the time ("812 MiB available", "41.2 °C")
// do not turn into a Raft write per check: an idle node writes nothing. The health annotations
// (load, temperature: scheduler scores, not facts) move with the board's load; on their own they
// are rewritten at most every healthMinIntervalMs, so a board whose load wanders costs a few
// writes an hour instead of one per check (each Node write is 12-16 KB on every member's card).
import { findResource, type KubeObject } from '../api/resources/index.ts';
import { ClientError, type Client } from '../client/index.ts';
import { HEALTH_ANNOTATION_KEYS, healthAnnotations } from './node-health.ts';
import type { NodeCondition, NodeFacts, NodeHealthReading } from './node-info.ts';
import { buildNodeObject, type NodeObject } from './node-object.ts';

const nodesInfo = (() => {
  const info = findResource('', 'v1', 'nodes');
  if (!info) throw new Error('core/v1 nodes missing from the catalog');
  return info;
})();

type StoredCondition = NodeObject['status']['conditions'][number];

interface StoredNode extends KubeObject {
  metadata: KubeObject['metadata'] & { labels?: Record<string, string>; annotations?: Record<string, string> };
  status?: Partial<NodeObject['status']> & Record<string, unknown>;
}

export interface NodeReading {
  facts: NodeFacts;
  conditions: NodeCondition[];
  /** Temperature and load for the scheduler, published as bucketed annotations (node-health.ts); absent: left as stored. */
  health?: NodeHealthReading;
  /**
   * Annotations the agent owns beyond the facts' (the image platforms): each key of `owned` is set
   * to its value in `values`, or removed when `values` has none. Absent: the stored ones are kept
   * (the engine is unreachable, so what it last said still stands).
   */
  annotations?: { owned: readonly string[]; values: Record<string, string> };
  /** The board's address now, when it is derived at each check (DHCP); absent: the options' one. */
  internalIP?: string;
}

export interface NodeRegistrationOptions {
  client: Client;
  nodeName: string;
  /** Where other nodes reach this one (InternalIP), and the API port they forward logs/exec to. */
  internalIP: string;
  apiPort: number;
  /**
   * A change of the health annotations alone is written at most this often (default 5 min, the
   * span of the load average they publish); any other change writes them fresh at once.
   */
  healthMinIntervalMs?: number;
  now?: () => number;
}

export const DEFAULT_HEALTH_MIN_INTERVAL_MS = 300_000;

/** What the registration writes, per sync: "created", "updated" or "unchanged". */
export type RegistrationResult = 'created' | 'updated' | 'unchanged';

export class NodeRegistration {
  private readonly now: () => number;
  /** How many writes this agent made to its Node (tests and logs: an idle node stays put). */
  writes = 0;
  /** When this agent last wrote its Node (in memory: after a restart the first change writes at once). */
  private lastWriteMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: NodeRegistrationOptions) {
    this.now = options.now ?? Date.now;
  }

  async sync(reading: NodeReading): Promise<RegistrationResult> {
    let stored: StoredNode | null;
    try {
      stored = (await this.options.client.get(nodesInfo, undefined, this.options.nodeName)) as StoredNode;
    } catch (error) {
      if (!(error instanceof ClientError && error.code === 404)) throw error;
      stored = null;
    }
    const storedConditions = (stored?.status?.conditions ?? []) as StoredCondition[];
    const built = buildNodeObject({
      nodeName: this.options.nodeName,
      facts: reading.facts,
      conditions: reading.conditions,
      internalIP: reading.internalIP ?? this.options.internalIP,
      nowMs: this.now(),
      previous: { status: { conditions: storedConditions } } as NodeObject,
    });
    const byType = new Map(storedConditions.map((c) => [c.type, c]));
    const conditions = built.status.conditions.map((c) => {
      const old = byType.get(c.type);
      return old && old.status === c.status && old.reason === c.reason ? old : c;
    });
    const owned = new Set(conditions.map((c) => c.type));
    const status = {
      ...built.status,
      conditions: [...conditions, ...storedConditions.filter((c) => !owned.has(c.type))],
      daemonEndpoints: { kubeletEndpoint: { Port: this.options.apiPort } },
    };
    const nowMs = this.now();
    const health = reading.health ? healthAnnotations(reading.health, stored?.metadata.annotations) : {};
    if (!stored) {
      const ownAnnotations = { ...(built.metadata.annotations ?? {}), ...health };
      const annotations = { ...ownAnnotations, ...(reading.annotations?.values ?? {}) };
      const metadata = { ...built.metadata, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) };
      await this.options.client.create(nodesInfo, { ...built, metadata, status });
      this.writes++;
      this.lastWriteMs = nowMs;
      return 'created';
    }
    const storedNode = stored;
    const labels = { ...(stored.metadata.labels ?? {}), ...built.metadata.labels };
    const nextWith = (healthShown: Record<string, string>): StoredNode => {
      const kept = Object.entries(storedNode.metadata.annotations ?? {}).filter(
        ([key]) => !(reading.health && HEALTH_ANNOTATION_KEYS.includes(key) && !(key in healthShown)) && !reading.annotations?.owned.includes(key),
      );
      const annotations = { ...Object.fromEntries(kept), ...(built.metadata.annotations ?? {}), ...healthShown, ...(reading.annotations?.values ?? {}) };
      return { ...storedNode, metadata: { ...storedNode.metadata, labels, annotations }, status: { ...(storedNode.status ?? {}), ...status } };
    };
    // Annotations compared in key order: re-setting an owned one moves it to the end of the object.
    const view = (node: StoredNode) => JSON.stringify([node.metadata.labels ?? {}, sortedEntries(node.metadata.annotations), ownedStatus(node.status)]);
    const next = nextWith(health);
    if (view(next) === view(stored)) return 'unchanged';
    // Only the health readings moved: wait for the interval (the stored values still stand).
    // A health annotation that is new or whose reading disappeared is written at once.
    if (nowMs - this.lastWriteMs < (this.options.healthMinIntervalMs ?? DEFAULT_HEALTH_MIN_INTERVAL_MS)) {
      const storedHealth = Object.fromEntries(Object.entries(stored.metadata.annotations ?? {}).filter(([key]) => HEALTH_ANNOTATION_KEYS.includes(key) && key in health));
      const sameKeys = Object.keys(storedHealth).length === Object.keys(health).length;
      if (sameKeys && view(nextWith(storedHealth)) === view(stored)) return 'unchanged';
    }
    await this.options.client.update(nodesInfo, next);
    this.writes++;
    this.lastWriteMs = nowMs;
    return 'updated';
  }
}

function sortedEntries(record: Record<string, string> | undefined): [string, string][] {
  return Object.entries(record ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function ownedStatus(status: StoredNode['status']): unknown[] {
  return [status?.capacity, status?.allocatable, status?.conditions, status?.addresses, status?.nodeInfo, status?.daemonEndpoints];
}
