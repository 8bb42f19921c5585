import { Coalescer } from '../coalescer.ts';
import type { ContainerSummary, Runtime } from '../runtime/runtime.ts';

export interface PodLifecycleEventsOptions {
  runtime: Runtime;
  /** A pod whose containers changed: sync it. */
  onPodChanged: (podUid: string) => void;
  /** How often the node's containers are listed (one engine call) to catch an event the stream lost. */
  relistPeriodMs: number;
  onError: (error: unknown) => void;
}

/**
 * When a pod needs a sync because its containers changed, in the manner of the kubelet's PLEG:
 * the engine's exit events wake the pod at once; one cheap list of the node's containers every
 * `relistPeriodMs` (and whenever the event stream (re)opens) wakes the pods whose containers
 * changed in a way no event told. (A sync a pod asks for itself, a probe falling due or a back-off
 * running out, is the work queue's `addAfter`.) An idle pod costs the engine one list call per
 * period for the whole node, instead of a list and inspects per pod every second.
 */
export class PodLifecycleEvents {
  private fingerprints = new Map<string, string>();
  private readonly relisting: Coalescer;
  private stopEvents: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly options: PodLifecycleEventsOptions) {
    this.relisting = new Coalescer(() => this.compare(), options.onError);
  }

  start(): void {
    this.stopEvents = this.options.runtime.watchContainerExits((uid) => (uid === null ? void this.relist() : this.changed(uid)));
    this.timer = setInterval(() => void this.relist(), this.options.relistPeriodMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopEvents?.();
    if (this.timer) clearInterval(this.timer);
    await this.relisting.stop();
  }

  private changed(podUid: string): void {
    if (!this.stopped) this.options.onPodChanged(podUid);
  }

  /** Lists the node's containers now (one list at a time) and wakes the pods whose containers changed. */
  relist(): Promise<void> {
    return this.relisting.run();
  }

  /** Wakes each pod whose set of containers or their states differ from the last list. */
  private async compare(): Promise<void> {
    const next = fingerprints(await this.options.runtime.listContainerStates());
    const previous = this.fingerprints;
    this.fingerprints = next;
    for (const uid of new Set([...previous.keys(), ...next.keys()])) {
      if (previous.get(uid) !== next.get(uid)) this.changed(uid);
    }
  }
}

function fingerprints(containers: ContainerSummary[]): Map<string, string> {
  const byPod = new Map<string, string[]>();
  for (const c of containers) {
    const entries = byPod.get(c.podUid) ?? [];
    entries.push(`${c.id}:${c.state}`);
    byPod.set(c.podUid, entries);
  }
  return new Map([...byPod].map(([uid, entries]) => [uid, entries.sort().join(',')]));
}
