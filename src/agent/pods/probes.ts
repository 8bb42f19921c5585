import { connect } from 'node:net';
import { text } from 'node:stream/consumers';
import type { Runtime } from '../runtime/runtime.ts';
import { PodConfigError } from './config-sources.ts';
import type { Container, Probe } from '../../client/index.ts';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';

export interface ProbeOutcome {
  success: boolean;
  message: string;
}

/** Kubernetes' probe defaults. */
export function probeTimings(probe: Probe) {
  return {
    initialDelayMs: (probe.initialDelaySeconds ?? 0) * 1000,
    periodMs: (probe.periodSeconds ?? 10) * 1000,
    timeoutMs: (probe.timeoutSeconds ?? 1) * 1000,
    successThreshold: probe.successThreshold ?? 1,
    failureThreshold: probe.failureThreshold ?? 3,
  };
}

/** The API validates probes too; the agent refuses what it cannot run rather than guessing. */
export function validateProbes(container: Container): void {
  for (const [kind, probe] of [['livenessProbe', container.livenessProbe], ['readinessProbe', container.readinessProbe], ['startupProbe', container.startupProbe]] as const) {
    if (!probe) continue;
    const handlers = [probe.exec, probe.httpGet, probe.tcpSocket].filter(Boolean).length;
    if (handlers !== 1) throw new PodConfigError('CreateContainerConfigError', `${kind} of container "${container.name}" must have exactly one of exec, httpGet or tcpSocket (it has ${handlers})`);
    const timings = probeTimings(probe);
    if (timings.periodMs < 1000 || timings.timeoutMs < 1000 || timings.failureThreshold < 1 || timings.successThreshold < 1 || timings.initialDelayMs < 0) {
      throw new PodConfigError('CreateContainerConfigError', `${kind} of container "${container.name}": periodSeconds, timeoutSeconds, successThreshold and failureThreshold must be at least 1, initialDelaySeconds at least 0`);
    }
    if (kind !== 'readinessProbe' && timings.successThreshold !== 1) {
      throw new PodConfigError('CreateContainerConfigError', `${kind} of container "${container.name}": successThreshold must be 1`);
    }
  }
}

function resolvePort(port: number | string, container: Container): number {
  if (typeof port === 'number') return port;
  const named = container.ports?.find((p) => p.name === port);
  if (named) return named.containerPort;
  const numeric = Number(port);
  if (Number.isInteger(numeric)) return numeric;
  throw new Error(`port "${port}" is not a port name of container "${container.name}"`);
}

export interface ProbeTarget {
  runtime: Runtime;
  containerId: string;
  container: Container;
  /** Where httpGet and tcpSocket probes connect, as the kubelet does: the pod's IP. */
  podIP: string | null;
}

/** Runs one probe once. */
export async function runProbe(probe: Probe, target: ProbeTarget): Promise<ProbeOutcome> {
  const { timeoutMs } = probeTimings(probe);
  try {
    if (probe.exec) {
      const session = await target.runtime.exec(target.containerId, { command: probe.exec.command, stdin: false, tty: false });
      const output = Promise.all([text(session.stdout), session.stderr ? text(session.stderr) : Promise.resolve('')]);
      const exitCode = await Promise.race([
        session.exitCode(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs).unref()),
      ]);
      const [stdout, stderr] = await output;
      return exitCode === 0 ? { success: true, message: '' } : { success: false, message: `exec ${probe.exec.command.join(' ')} exited ${exitCode}: ${(stdout + stderr).trim().slice(0, 200)}` };
    }
    const host = probe.httpGet?.host ?? probe.tcpSocket?.host ?? target.podIP;
    if (!host) return { success: false, message: 'the pod has no IP yet' };
    if (probe.httpGet) {
      const port = resolvePort(probe.httpGet.port, target.container);
      const url = `${(probe.httpGet.scheme ?? 'HTTP').toLowerCase()}://${host}:${port}${probe.httpGet.path ?? '/'}`;
      const headers = Object.fromEntries((probe.httpGet.httpHeaders ?? []).map((h) => [h.name, h.value]));
      const response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
      await response.arrayBuffer().catch(() => undefined);
      return response.status >= 200 && response.status < 400 ? { success: true, message: '' } : { success: false, message: `HTTP probe failed with statuscode: ${response.status}` };
    }
    if (probe.tcpSocket) {
      const port = resolvePort(probe.tcpSocket.port, target.container);
      await new Promise<void>((resolve, reject) => {
        const socket = connect({ host, port, timeout: timeoutMs });
        socket.once('connect', () => {
          socket.destroy();
          resolve();
        });
        socket.once('timeout', () => {
          socket.destroy();
          reject(new Error(`dial tcp ${host}:${port}: i/o timeout`));
        });
        socket.once('error', reject);
      });
      return { success: true, message: '' };
    }
    return { success: false, message: 'probe has no handler' };
  } catch (error) {
    return { success: false, message: (error as Error).message };
  }
}

interface ProbeState {
  successes: number;
  failures: number;
  lastRunMs: number | null;
  /** The result kubelet reports: readiness false and startup false until they first succeed. */
  passing: boolean;
}

/**
 * Probe results per container id and kind, advanced when the worker syncs (a probe runs when its
 * period has passed). Thresholds count consecutive results, as in Kubernetes.
 */
export class ProbeTracker {
  private readonly states = new Map<string, ProbeState>();

  constructor(private readonly now: () => number) {}

  private state(containerId: string, kind: ProbeKind): ProbeState {
    const key = `${containerId}/${kind}`;
    let state = this.states.get(key);
    if (!state) {
      // Liveness counts as passing until it fails; readiness and startup until they succeed do not.
      state = { successes: 0, failures: 0, lastRunMs: null, passing: kind === 'liveness' };
      this.states.set(key, state);
    }
    return state;
  }

  passing(containerId: string, kind: ProbeKind): boolean {
    return this.state(containerId, kind).passing;
  }

  /** Runs the probe if due; returns the outcome when it ran. */
  async advance(kind: ProbeKind, probe: Probe, startedAtMs: number, target: ProbeTarget): Promise<ProbeOutcome | null> {
    const timings = probeTimings(probe);
    const state = this.state(target.containerId, kind);
    const nowMs = this.now();
    if (nowMs < startedAtMs + timings.initialDelayMs) return null;
    if (state.lastRunMs !== null && nowMs < state.lastRunMs + timings.periodMs) return null;
    state.lastRunMs = nowMs;
    const outcome = await runProbe(probe, target);
    if (outcome.success) {
      state.successes += 1;
      state.failures = 0;
      if (state.successes >= timings.successThreshold) state.passing = true;
    } else {
      state.failures += 1;
      state.successes = 0;
      if (state.failures >= timings.failureThreshold) state.passing = false;
    }
    return outcome;
  }

  /** When the probe is next due (epoch ms): after its initial delay, then one period after its last run. */
  nextDueMs(kind: ProbeKind, probe: Probe, startedAtMs: number, containerId: string): number {
    const timings = probeTimings(probe);
    const lastRunMs = this.states.get(`${containerId}/${kind}`)?.lastRunMs ?? null;
    return Math.max(startedAtMs + timings.initialDelayMs, lastRunMs === null ? 0 : lastRunMs + timings.periodMs);
  }

  failures(containerId: string, kind: ProbeKind): number {
    return this.state(containerId, kind).failures;
  }

  forget(containerId: string): void {
    for (const kind of ['liveness', 'readiness', 'startup'] as const) this.states.delete(`${containerId}/${kind}`);
  }
}
