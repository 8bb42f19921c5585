import type { Pod, PodStatus } from '../../src/client/index.ts';
import type { PodApi, PodEvent } from '../../src/agent/pods/reconciler.ts';

/**
 * The API side of the agent's pod loop in memory (watch, status, final delete): serves the pods
 * it was given and the events a test emits, and records every status written and every deletion
 * finished.
 */
export class RecordingPodApi implements PodApi {
  readonly statusWrites: Array<{ name: string; status: PodStatus }> = [];
  readonly finished: string[] = [];
  private listener: ((event: PodEvent) => void) | null = null;

  constructor(private readonly initial: Pod[]) {}

  async watchPods(_nodeName: string, onEvent: (event: PodEvent) => void) {
    this.listener = onEvent;
    return { initial: this.initial, stop: () => (this.listener = null) };
  }

  async writeStatus(pod: Pod, status: PodStatus): Promise<void> {
    this.statusWrites.push({ name: pod.metadata.name, status });
  }

  async finishDeletion(pod: Pod): Promise<void> {
    this.finished.push(pod.metadata.name);
  }

  /** The last status written for the pod of that name. */
  latest(name: string): PodStatus | undefined {
    return this.statusWrites.findLast((w) => w.name === name)?.status;
  }

  emit(event: PodEvent): void {
    this.listener?.(event);
  }
}
