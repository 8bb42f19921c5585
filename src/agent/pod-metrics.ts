import type { ContainerStats, Runtime } from './runtime/runtime.ts';

/** metrics.k8s.io/v1beta1 PodMetrics' per-container usage, as numbers. */
export interface PodMetricsSample {
  podUid: string;
  namespace: string;
  name: string;
  timestamp: Date;
  /** The span the CPU rate was computed over. */
  windowMs: number;
  containers: Array<{ name: string; cpuUsageNanocores: number; memoryWorkingSetBytes: number }>;
}

/**
 * Per-pod usage from the engine. The engine reports cumulative CPU time, so a rate needs two
 * readings: each sample is taken against the previous one kept in memory (metrics are soft
 * state; nothing is stored). The first call for a container has no rate yet and reports none.
 */
export class PodMetricsSampler {
  private readonly previous = new Map<string, ContainerStats>();

  constructor(private readonly runtime: Runtime) {}

  async sample(): Promise<PodMetricsSample[]> {
    const running = (await this.runtime.listContainers()).filter((c) => c.state.kind === 'running');
    const seen = new Set<string>();
    const byPod = new Map<string, PodMetricsSample>();
    await Promise.all(
      running.map(async (container) => {
        const stats = await this.runtime.containerStats(container.id).catch(() => null);
        if (!stats) return; // stopped between the list and the stats call
        seen.add(container.id);
        const before = this.previous.get(container.id);
        this.previous.set(container.id, stats);
        if (!before) return;
        const windowMs = stats.timestamp.getTime() - before.timestamp.getTime();
        if (windowMs <= 0) return;
        const cpuUsageNanocores = Math.max(0, Math.round(((stats.cpuUsageNanoseconds - before.cpuUsageNanoseconds) / windowMs) * 1000));
        const pod = byPod.get(container.pod.uid) ?? { podUid: container.pod.uid, namespace: container.pod.namespace, name: container.pod.name, timestamp: stats.timestamp, windowMs, containers: [] };
        pod.containers.push({ name: container.name, cpuUsageNanocores, memoryWorkingSetBytes: stats.memoryWorkingSetBytes });
        byPod.set(container.pod.uid, pod);
      }),
    );
    for (const id of this.previous.keys()) if (!seen.has(id)) this.previous.delete(id);
    for (const pod of byPod.values()) pod.containers.sort((a, b) => (a.name < b.name ? -1 : 1));
    return [...byPod.values()];
  }
}
