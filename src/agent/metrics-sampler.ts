// The node's metrics.k8s.io answers, kept in memory (metrics are soft state: never stored): the
// node's usage and each running pod's, sampled every interval without spawning processes.
import type { MetricsSource, NodeMetrics, PodMetrics } from '../api/metrics.ts';
import { sampleNodeMetrics, toMetricsUsage } from './node-metrics.ts';
import { PodMetricsSampler } from './pod-metrics.ts';
import type { Runtime } from './runtime/runtime.ts';

export interface MetricsSamplerOptions {
  nodeName: string;
  dataDir: string;
  hostRoot: string;
  runtime: () => Runtime | null;
  /** The node's labels (NodeMetrics carry them, as metrics-server's do). */
  nodeLabels: () => Record<string, string>;
  podLabels: (uid: string) => Record<string, string> | undefined;
  intervalMs: number;
  onError?: (error: Error) => void;
}

function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function seconds(ms: number): string {
  return `${Math.max(1, Math.round(ms / 1000))}s`;
}

export class MetricsSampler implements MetricsSource {
  private latestNode: NodeMetrics | null = null;
  private latestPods: PodMetrics[] = [];
  private podSampler: PodMetricsSampler | null = null;
  private samplerRuntime: Runtime | null = null;
  private previousNodeAt: Date | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly options: MetricsSamplerOptions) {}

  node(): NodeMetrics | null {
    return this.latestNode;
  }

  pods(): PodMetrics[] {
    return this.latestPods;
  }

  start(): void {
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private async loop(): Promise<void> {
    try {
      await this.sample();
    } catch (error) {
      this.options.onError?.(error as Error);
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.loop(), this.options.intervalMs);
    this.timer.unref();
  }

  async sample(): Promise<void> {
    const node = await sampleNodeMetrics({ dataDir: this.options.dataDir, hostRoot: this.options.hostRoot });
    const windowMs = this.previousNodeAt ? node.timestamp.getTime() - this.previousNodeAt.getTime() : this.options.intervalMs;
    this.previousNodeAt = node.timestamp;
    this.latestNode = {
      kind: 'NodeMetrics',
      apiVersion: 'metrics.k8s.io/v1beta1',
      metadata: { name: this.options.nodeName, creationTimestamp: iso(new Date()), labels: this.options.nodeLabels() },
      timestamp: iso(node.timestamp),
      window: seconds(windowMs),
      usage: toMetricsUsage(node),
    };
    const runtime = this.options.runtime();
    if (!runtime) {
      this.latestPods = [];
      return;
    }
    if (runtime !== this.samplerRuntime) {
      this.samplerRuntime = runtime;
      this.podSampler = new PodMetricsSampler(runtime);
    }
    const samples = await (this.podSampler as PodMetricsSampler).sample();
    this.latestPods = samples.map((pod) => {
      const labels = this.options.podLabels(pod.podUid);
      return {
        kind: 'PodMetrics',
        apiVersion: 'metrics.k8s.io/v1beta1',
        metadata: { name: pod.name, namespace: pod.namespace, creationTimestamp: iso(new Date()), ...(labels ? { labels } : {}) },
        timestamp: iso(pod.timestamp),
        window: seconds(pod.windowMs),
        containers: pod.containers.map((c) => ({ name: c.name, usage: { cpu: `${c.cpuUsageNanocores}n`, memory: `${Math.floor(c.memoryWorkingSetBytes / 1024)}Ki` } })),
      };
    });
  }
}
