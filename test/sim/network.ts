// The network between nodes: every message may be dropped, duplicated, delayed (which also
// reorders), and directed links may be cut by partitions. Cuts are kept per fault so that
// overlapping partitions heal independently.

import type { NodeId, Prng } from '../../src/raft/index.ts';

export interface NetworkConditions {
  dropRate: number;
  duplicateRate: number;
  minDelayMs: number;
  maxDelayMs: number;
  /** Share of messages that take a long detour (reordering well past later messages). */
  longDelayRate: number;
  longDelayMaxMs: number;
}

export const CALM_NETWORK: NetworkConditions = {
  dropRate: 0,
  duplicateRate: 0,
  minDelayMs: 1,
  maxDelayMs: 5,
  longDelayRate: 0,
  longDelayMaxMs: 5,
};

export type RouteOutcome =
  | { delivered: true; deliverAtMs: number[] }
  | { delivered: false; reason: 'partition' | 'loss' };

export class SimNetwork {
  #conditions: NetworkConditions;
  /** A spell overrides the base conditions until it ends. */
  #spell: { conditions: NetworkConditions; untilMs: number } | null = null;
  readonly #cuts = new Map<string, Set<string>>();
  readonly #prng: Prng;

  constructor(prng: Prng, conditions: NetworkConditions) {
    this.#prng = prng;
    this.#conditions = conditions;
  }

  conditions(nowMs: number): NetworkConditions {
    if (this.#spell !== null && nowMs < this.#spell.untilMs) return this.#spell.conditions;
    return this.#conditions;
  }

  setBaseConditions(conditions: NetworkConditions): void {
    this.#conditions = conditions;
  }

  startSpell(conditions: NetworkConditions, untilMs: number): void {
    this.#spell = { conditions, untilMs };
  }

  endSpell(): void {
    this.#spell = null;
  }

  /** Cuts the directed links `from -> to` under the name `faultId` until heal(faultId). */
  cut(faultId: string, links: readonly (readonly [NodeId, NodeId])[]): void {
    const set = this.#cuts.get(faultId) ?? new Set<string>();
    for (const [from, to] of links) if (from !== to) set.add(linkKey(from, to));
    this.#cuts.set(faultId, set);
  }

  heal(faultId: string): void {
    this.#cuts.delete(faultId);
  }

  healAll(): void {
    this.#cuts.clear();
  }

  get activeCutCount(): number {
    return this.#cuts.size;
  }

  isCut(from: NodeId, to: NodeId): boolean {
    const key = linkKey(from, to);
    for (const set of this.#cuts.values()) if (set.has(key)) return true;
    return false;
  }

  /** Decides the fate of one message sent now: delivery times (two for a duplicate) or why it is lost. */
  route(from: NodeId, to: NodeId, nowMs: number): RouteOutcome {
    if (this.isCut(from, to)) return { delivered: false, reason: 'partition' };
    const c = this.conditions(nowMs);
    const prng = this.#prng;
    if (c.dropRate > 0 && prng.nextFloat() < c.dropRate) return { delivered: false, reason: 'loss' };
    const copies = c.duplicateRate > 0 && prng.nextFloat() < c.duplicateRate ? 2 : 1;
    const deliverAtMs: number[] = [];
    for (let i = 0; i < copies; i++) {
      let delayMs = c.minDelayMs + prng.nextInt(Math.max(1, c.maxDelayMs - c.minDelayMs + 1));
      if (c.longDelayRate > 0 && prng.nextFloat() < c.longDelayRate) delayMs += prng.nextInt(Math.max(1, c.longDelayMaxMs)) + 1;
      deliverAtMs.push(nowMs + delayMs);
    }
    return { delivered: true, deliverAtMs };
  }
}

function linkKey(from: NodeId, to: NodeId): string {
  return `${from}>${to}`;
}

/** Every directed link between the two groups, both ways. */
export function linksBetween(a: readonly NodeId[], b: readonly NodeId[]): [NodeId, NodeId][] {
  const links: [NodeId, NodeId][] = [];
  for (const x of a) for (const y of b) if (x !== y) links.push([x, y], [y, x]);
  return links;
}

/** Every directed link from `sources` to `targets` (a one-way cut). */
export function linksFrom(sources: readonly NodeId[], targets: readonly NodeId[]): [NodeId, NodeId][] {
  const links: [NodeId, NodeId][] = [];
  for (const x of sources) for (const y of targets) if (x !== y) links.push([x, y]);
  return links;
}
