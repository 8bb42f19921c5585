import { ImageError, type ContainerStatus, type Runtime, type PortMapping, type PodSandboxStatus } from '../runtime/runtime.ts';
import { RestartBackoff } from './backoff.ts';
import { type ConfigSource, PodConfigError } from './config-sources.ts';
import { collectPodGarbage } from './container-gc.ts';
import { type ClusterDnsSettings, formatResolvConf, needsOwnResolvConf, podResolvConf, type ResolvConf } from './dns-config.ts';
import { resolveEnv } from './env.ts';
import { serviceEnvVars, servicesForPod, type ServiceLister } from './service-env.ts';
import type { Container, ContainerState as ContainerStateK8s, ContainerStatus as ContainerStatusK8s, Pod, PodCondition, PodStatus } from '../../client/index.ts';
import { ProbeTracker, validateProbes } from './probes.ts';
import { cpuMillicores, memoryBytes } from './quantities.ts';
import { mountsFor, prepareVolumes, removePodData } from './volumes.ts';

/** The status the agent reports: every field it owns is set (the API's PodStatus leaves them optional, as a read may find them absent). */
export type ReportedPodStatus = PodStatus & Required<Pick<PodStatus, 'phase' | 'conditions' | 'containerStatuses' | 'initContainerStatuses'>>;

export interface PodDnsSource {
  /** The board's cluster DNS, once it answers (with the pod network). */
  cluster(): ClusterDnsSettings | undefined;
  /** The board's own resolvers, read at each sandbox start (DHCP may change them). */
  host(): Promise<ResolvConf>;
}

export interface PodWorkerOptions {
  runtime: Runtime;
  /** The node's address as other nodes reach it (status.hostIP); a function when it can move (DHCP). */
  hostIP: string | (() => string);
  /** Where pod volumes live on the node (<dataDir>/pods/<uid>). */
  dataDir: string;
  configSource: ConfigSource;
  /** The cluster's Services, for the containers' Service variables (none when absent). */
  services?: ServiceLister;
  /** Where pods' resolv.conf comes from; unset: the engine's own file. */
  dns?: PodDnsSource;
  backoff?: RestartBackoff;
  now?: () => number;
  /** A pod not yet running (creating, waiting on config or an image) is synced again this soon. */
  pendingRetryMs?: number;
  /**
   * A pod with configMap or secret volumes is synced at least this often, so updated objects reach
   * its files (the kubelet's --sync-frequency, 1 min).
   */
  volumeSyncPeriodMs?: number;
}

interface Failure {
  reason: string;
  message: string;
}

function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function k8sState(status: ContainerStatus): ContainerStateK8s {
  const state = status.state;
  if (state.kind === 'waiting') return { waiting: { reason: state.reason, ...(state.message ? { message: state.message } : {}) } };
  if (state.kind === 'running') return { running: { startedAt: iso(state.startedAt) } };
  return {
    terminated: {
      exitCode: state.exitCode,
      reason: state.reason,
      ...(state.message ? { message: state.message } : {}),
      ...(state.startedAt ? { startedAt: iso(state.startedAt) } : {}),
      finishedAt: iso(state.finishedAt),
      containerID: `${status.id.startsWith('sim') ? 'sim' : 'docker'}://${status.id}`,
    },
  };
}

function shouldRestart(policy: 'Always' | 'OnFailure' | 'Never', exitCode: number): boolean {
  return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
}

/**
 * Brings one pod's containers on this node to what its spec asks, one step per call (the
 * kubelet's syncPod): sandbox, volumes, init containers in order, app containers with restart
 * policy and back-off; then reports the pod status. Everything it knows comes from the runtime's
 * labels, so a new worker after an agent restart continues where the old one stopped.
 */
export class PodWorker {
  readonly runtime: Runtime;
  private readonly backoff: RestartBackoff;
  private readonly now: () => number;
  /** Why a container could not be created (image, config), by "<uid>/<container>". */
  private readonly startFailures = new Map<string, Failure>();
  private readonly probes: ProbeTracker;
  /** Failed pulls back off like crashes, so a missing image does not mean a pull attempt per sync. */
  private readonly pullBackoff = new RestartBackoff();
  private readonly pullFailedAtMs = new Map<string, { atMs: number; message: string }>();

  constructor(private readonly options: PodWorkerOptions) {
    this.runtime = options.runtime;
    this.backoff = options.backoff ?? new RestartBackoff();
    this.now = options.now ?? Date.now;
    this.probes = new ProbeTracker(this.now);
  }

  private hostIP(): string {
    const { hostIP } = this.options;
    return typeof hostIP === 'string' ? hostIP : hostIP();
  }

  /**
   * One step towards the spec, then the status. `signal` cancels it between steps and during an
   * image pull (the pod was deleted meanwhile): it then rejects with the signal's reason.
   */
  async sync(pod: Pod, signal?: AbortSignal): Promise<ReportedPodStatus> {
    const status = await this.syncOnce(pod, signal);
    if (status.phase === 'Succeeded' || status.phase === 'Failed') {
      // A finished pod keeps its containers (for logs) but not its sandbox.
      for (const sandbox of await this.runtime.listPodSandboxes({ podUid: pod.metadata.uid })) {
        if (sandbox.state === 'ready') await this.runtime.stopPodSandbox(sandbox.id, 0);
      }
    }
    return status;
  }

  /** Written only when it names a resolver: an empty file would leave the pod with none at all. */
  private async resolvConfOf(pod: Pod): Promise<{ resolvConf?: string }> {
    if (!this.options.dns) return {};
    const cluster = this.options.dns.cluster();
    if (!needsOwnResolvConf(pod, cluster)) return {};
    const conf = podResolvConf(pod, cluster, await this.options.dns.host());
    return conf.nameservers.length ? { resolvConf: formatResolvConf(conf) } : {};
  }

  private async syncOnce(pod: Pod, signal: AbortSignal | undefined): Promise<ReportedPodStatus> {
    const uid = pod.metadata.uid;
    const policy = pod.spec.restartPolicy ?? 'Always';
    // Earlier attempts and dead sandboxes go first, so a crash loop does not grow the engine.
    const listed = await collectPodGarbage(this.runtime, await this.runtime.listContainers({ podUid: uid }), await this.runtime.listPodSandboxes({ podUid: uid }));
    let containers = listed.containers;
    const sandboxes = listed.sandboxes;
    const terminal = this.terminalPhase(pod, containers);
    if (terminal) return this.status(pod, containers, sandboxes, null);
    let sandbox = sandboxes.find((s) => s.state === 'ready') ?? null;
    if (!sandbox) {
      signal?.throwIfAborted();
      // A dead sandbox took the pod's network with it: its containers go too, and start again.
      for (const old of sandboxes) await this.runtime.stopPodSandbox(old.id, 0);
      try {
        const id = await this.runtime.runPodSandbox({
          pod: { uid, namespace: pod.metadata.namespace, name: pod.metadata.name },
          hostname: pod.spec.hostname ?? pod.metadata.name,
          ports: this.portsOf(pod),
          attempt: Math.max(-1, ...sandboxes.map((s) => s.attempt)) + 1,
          ...(await this.resolvConfOf(pod)),
        });
        sandbox = (await this.runtime.listPodSandboxes({ podUid: uid })).find((s) => s.id === id) ?? null;
      } catch (error) {
        return this.status(pod, containers, sandboxes, { reason: 'CreatePodSandboxError', message: (error as Error).message });
      }
      // The containers just stopped are dead now: all but the newest attempt of each go at once.
      containers = (await collectPodGarbage(this.runtime, await this.runtime.listContainers({ podUid: uid }), [...sandboxes, ...(sandbox ? [sandbox] : [])])).containers;
    }
    if (!sandbox) return this.status(pod, containers, sandboxes, { reason: 'CreatePodSandboxError', message: 'the sandbox vanished right after it was created' });

    let volumePaths: Map<string, string>;
    try {
      volumePaths = await prepareVolumes(pod, this.options.dataDir, this.options.configSource);
    } catch (error) {
      if (error instanceof PodConfigError) return this.status(pod, containers, [sandbox], { reason: error.reason, message: error.message });
      throw error;
    }

    const current = (name: string) => latest(containers.filter((c) => c.sandboxId === sandbox.id && c.name === name));
    // Attempts count across sandboxes: a container restarted in a new sandbox still gets a new name.
    const nextAttempt = (name: string) => (latest(containers.filter((c) => c.name === name))?.attempt ?? -1) + 1;
    for (const init of pod.spec.initContainers ?? []) {
      const last = current(init.name);
      if (last?.state.kind === 'terminated' && last.state.exitCode === 0) continue;
      // Init containers restart on failure unless the pod's policy is Never.
      const acted = await this.step(pod, sandbox, init, last, nextAttempt(init.name), policy === 'Never' ? 'Never' : 'OnFailure', volumePaths, signal);
      return this.status(pod, acted ? await this.runtime.listContainers({ podUid: uid }) : containers, [sandbox], null);
    }
    let acted = false;
    for (const container of pod.spec.containers) {
      acted = (await this.step(pod, sandbox, container, current(container.name), nextAttempt(container.name), policy, volumePaths, signal)) || acted;
    }
    // Re-read the engine only when something was started or stopped: a steady pod costs two list calls per sync.
    if (acted) containers = await this.runtime.listContainers({ podUid: uid });
    let killed = false;
    for (const container of pod.spec.containers) {
      const last = current(container.name);
      if (last?.state.kind === 'running') killed = (await this.probe(pod, sandbox, container, last.id, last.state.startedAt.getTime())) || killed;
    }
    return this.status(pod, killed ? await this.runtime.listContainers({ podUid: uid }) : containers, [sandbox], null);
  }

  /**
   * Runs the container's due probes. Until a startup probe passes, the others wait; a startup or
   * liveness probe past its failure threshold stops the container (grace period, then SIGKILL) and
   * the restart policy takes it from there.
   */
  private async probe(pod: Pod, sandbox: PodSandboxStatus, spec: Container, containerId: string, startedAtMs: number): Promise<boolean> {
    const target = { runtime: this.runtime, containerId, container: spec, podIP: sandbox.podIP };
    const kill = async () => {
      this.probes.forget(containerId);
      await this.runtime.stopContainer(containerId, pod.spec.terminationGracePeriodSeconds ?? 30);
    };
    if (spec.startupProbe && !this.probes.passing(containerId, 'startup')) {
      const outcome = await this.probes.advance('startup', spec.startupProbe, startedAtMs, target);
      if (outcome && !outcome.success && this.failedOut(containerId, 'startup', spec.startupProbe.failureThreshold)) {
        await kill();
        return true;
      }
      return false;
    }
    if (spec.livenessProbe) {
      await this.probes.advance('liveness', spec.livenessProbe, startedAtMs, target);
      if (!this.probes.passing(containerId, 'liveness')) {
        await kill();
        return true;
      }
    }
    if (spec.readinessProbe) await this.probes.advance('readiness', spec.readinessProbe, startedAtMs, target);
    return false;
  }

  private failedOut(containerId: string, kind: 'startup', failureThreshold: number | undefined): boolean {
    return this.probes.failures(containerId, kind) >= (failureThreshold ?? 3);
  }

  /**
   * When this pod needs a sync again though neither its object nor its containers change (the
   * kubelet's requeue): a probe falling due, a restart back-off running out, a pod still starting,
   * configMap/secret files to refresh. Null when only such a change can move it (an idle pod).
   */
  resyncAfterMs(pod: Pod, status: PodStatus): number | null {
    if (status.phase === 'Succeeded' || status.phase === 'Failed') return null;
    const now = this.now();
    const due: number[] = [];
    const specs = new Map([...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((c) => [c.name, c]));
    for (const container of [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])]) {
      const spec = specs.get(container.name);
      if (spec) due.push(...this.containerDueMs(pod, spec, container, now));
    }
    if (status.phase === 'Pending') due.push(now + (this.options.pendingRetryMs ?? 1000));
    if ((pod.spec.volumes ?? []).some((v) => v.configMap || v.secret)) due.push(now + (this.options.volumeSyncPeriodMs ?? 60_000));
    return due.length === 0 ? null : Math.max(0, Math.min(...due) - now);
  }

  private containerDueMs(pod: Pod, spec: Container, container: ContainerStatusK8s, now: number): number[] {
    const state = container.state;
    const key = this.key(pod, spec);
    if ('waiting' in state) {
      const crashed = 'terminated' in container.lastState ? container.lastState.terminated : null;
      if (state.waiting.reason === 'CrashLoopBackOff' && crashed) {
        const until = this.backoff.backedOffUntil(key, Date.parse(crashed.finishedAt), crashed.startedAt ? Date.parse(crashed.startedAt) : null, now);
        return [until ?? now];
      }
      const failedPull = this.pullFailedAtMs.get(key);
      if (state.waiting.reason === 'ImagePullBackOff' && failedPull) return [this.pullBackoff.backedOffUntil(key, failedPull.atMs, null, now) ?? now];
      return [now + (this.options.pendingRetryMs ?? 1000)];
    }
    if (!('running' in state) || !container.containerID) return [];
    const id = container.containerID.replace(/^[a-z]+:\/\//, '');
    const startedAtMs = Date.parse(state.running.startedAt);
    return (['startupProbe', 'livenessProbe', 'readinessProbe'] as const).flatMap((field) => {
      const probe = spec[field];
      return probe ? [this.probes.nextDueMs(field.replace('Probe', '') as 'startup' | 'liveness' | 'readiness', probe, startedAtMs, id)] : [];
    });
  }

  /** Stops the pod's containers (SIGTERM, grace, SIGKILL) and removes them, its sandbox and its node data. */
  async kill(podUid: string, gracePeriodSeconds: number): Promise<void> {
    const sandboxes = await this.runtime.listPodSandboxes({ podUid });
    await Promise.all(sandboxes.map((s) => this.runtime.stopPodSandbox(s.id, gracePeriodSeconds)));
    for (const sandbox of sandboxes) await this.runtime.removePodSandbox(sandbox.id);
    await removePodData(this.options.dataDir, podUid);
    this.backoff.forgetPod(podUid);
    this.pullBackoff.forgetPod(podUid);
    for (const key of this.pullFailedAtMs.keys()) if (key.startsWith(`${podUid}/`)) this.pullFailedAtMs.delete(key);
    for (const key of this.startFailures.keys()) if (key.startsWith(`${podUid}/`)) this.startFailures.delete(key);
  }

  /** Kills pods the node runs but should not (deleted while the agent was down); returns their uids. */
  async removeOrphans(wantedPodUids: Set<string>, gracePeriodSeconds: number): Promise<string[]> {
    const orphans = new Set((await this.runtime.listPodSandboxes()).map((s) => s.pod.uid).filter((uid) => !wantedPodUids.has(uid)));
    for (const uid of orphans) await this.kill(uid, gracePeriodSeconds);
    return [...orphans];
  }

  private portsOf(pod: Pod): PortMapping[] {
    return pod.spec.containers.flatMap((c) =>
      (c.ports ?? []).map((p) => ({
        containerPort: p.containerPort,
        ...(p.hostPort ? { hostPort: p.hostPort } : {}),
        ...(p.hostIP ? { hostIP: p.hostIP } : {}),
        protocol: p.protocol ?? 'TCP',
      })),
    );
  }

  private async step(
    pod: Pod,
    sandbox: PodSandboxStatus,
    spec: Container,
    last: ContainerStatus | undefined,
    attempt: number,
    policy: 'Always' | 'OnFailure' | 'Never',
    volumePaths: Map<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    if (!last) {
      await this.start(pod, sandbox, spec, attempt, volumePaths, signal);
      return true;
    }
    if (last.state.kind === 'running') return false;
    if (last.state.kind === 'waiting') {
      // Created but never started (the agent stopped in between): start it now.
      await this.runtime.startContainer(last.id).catch((error: Error) => this.startFailures.set(this.key(pod, spec), { reason: 'CreateContainerError', message: error.message }));
      return true;
    }
    if (!shouldRestart(policy, last.state.exitCode)) return false;
    const key = this.key(pod, spec);
    const until = this.backoff.backedOffUntil(key, last.state.finishedAt.getTime(), last.state.startedAt?.getTime() ?? null, this.now());
    if (until !== null) return false;
    this.backoff.recordRestart(key);
    await this.start(pod, sandbox, spec, attempt, volumePaths, signal);
    return true;
  }

  /** The Service variables of `pod`; the kubelet's error when the Services were never listed yet. */
  private serviceEnv(pod: Pod): Array<{ name: string; value: string }> {
    if (!this.options.services) return [];
    const services = this.options.services.list();
    if (!services) throw new PodConfigError('CreateContainerConfigError', 'services have not yet been read at least once, cannot construct envvars');
    return serviceEnvVars(servicesForPod(pod, services));
  }

  private key(pod: Pod, spec: Container): string {
    return `${pod.metadata.uid}/${spec.name}`;
  }

  private async start(pod: Pod, sandbox: PodSandboxStatus, spec: Container, attempt: number, volumePaths: Map<string, string>, signal: AbortSignal | undefined): Promise<void> {
    const key = this.key(pod, spec);
    try {
      const pullPolicy = spec.imagePullPolicy ?? (/:[^/]+$/.test(spec.image) && !spec.image.endsWith(':latest') ? 'IfNotPresent' : 'Always');
      validateProbes(spec);
      const failedPull = this.pullFailedAtMs.get(key);
      if (failedPull && this.pullBackoff.backedOffUntil(key, failedPull.atMs, null, this.now()) !== null) {
        this.startFailures.set(key, { reason: 'ImagePullBackOff', message: `Back-off pulling image "${spec.image}": ${failedPull.message}` });
        return;
      }
      await this.runtime.ensureImage(spec.image, pullPolicy, signal);
      signal?.throwIfAborted();
      this.pullFailedAtMs.delete(key);
      const env = await resolveEnv(pod, spec, this.options.configSource, { podIP: sandbox.podIP, hostIP: this.hostIP(), nodeName: this.runtime.nodeName }, this.serviceEnv(pod));
      const limits = spec.resources?.limits ?? {};
      const id = await this.runtime.createContainer(sandbox.id, {
        name: spec.name,
        image: spec.image,
        ...(spec.command ? { command: spec.command } : {}),
        ...(spec.args ? { args: spec.args } : {}),
        env,
        ...(spec.workingDir ? { workingDir: spec.workingDir } : {}),
        mounts: mountsFor(spec, volumePaths, pod),
        resources: {
          ...(limits.memory ? { memoryLimitBytes: memoryBytes(limits.memory) } : {}),
          ...(limits.cpu ? { cpuLimitMillicores: cpuMillicores(limits.cpu) } : {}),
        },
        attempt,
        tty: spec.tty ?? false,
        stdin: spec.stdin ?? false,
      });
      this.startFailures.delete(key);
      await this.runtime.startContainer(id);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof ImageError && error.reason === 'ErrImagePull') {
        this.pullBackoff.recordRestart(key);
        this.pullFailedAtMs.set(key, { atMs: this.now(), message: error.message });
      }
      if (error instanceof ImageError || error instanceof PodConfigError) {
        this.startFailures.set(key, { reason: error.reason, message: error.message });
      } else {
        this.startFailures.set(key, { reason: 'CreateContainerError', message: (error as Error).message });
      }
    }
  }

  /** Succeeded or Failed once nothing will run again; null while the pod is live. */
  private terminalPhase(pod: Pod, containers: ContainerStatus[]): 'Succeeded' | 'Failed' | null {
    const policy = pod.spec.restartPolicy ?? 'Always';
    if (policy === 'Always') return null;
    const byName = (name: string) => latest(containers.filter((c) => c.name === name));
    if (policy === 'Never') {
      for (const init of pod.spec.initContainers ?? []) {
        const last = byName(init.name);
        if (last?.state.kind === 'terminated' && last.state.exitCode !== 0) return 'Failed';
      }
    }
    const lasts = pod.spec.containers.map((c) => byName(c.name));
    if (!lasts.every((c) => c?.state.kind === 'terminated')) return null;
    const exitCodes = lasts.map((c) => (c?.state.kind === 'terminated' ? c.state.exitCode : -1));
    if (exitCodes.every((code) => code === 0)) return 'Succeeded';
    return policy === 'Never' ? 'Failed' : null;
  }

  private containerStatus(pod: Pod, spec: Container, attempts: ContainerStatus[], podFailure: Failure | null, policy: 'Always' | 'OnFailure' | 'Never'): ContainerStatusK8s {
    const sorted = [...attempts].sort((a, b) => a.attempt - b.attempt);
    const last = sorted.at(-1);
    const previous = sorted.at(-2);
    const key = this.key(pod, spec);
    const failure = this.startFailures.get(key) ?? podFailure;
    if (!last) {
      return {
        name: spec.name,
        state: { waiting: failure ?? { reason: 'ContainerCreating' } },
        lastState: {},
        ready: false,
        started: false,
        restartCount: 0,
        image: spec.image,
        imageID: '',
      };
    }
    let state = k8sState(last);
    let lastState: ContainerStateK8s | Record<string, never> = previous ? k8sState(previous) : {};
    if (last.state.kind === 'terminated' && shouldRestart(policy, last.state.exitCode)) {
      const until = this.backoff.backedOffUntil(key, last.state.finishedAt.getTime(), last.state.startedAt?.getTime() ?? null, this.now());
      if (failure || until !== null) {
        // Waiting to be restarted: Kubernetes shows the crash as lastState and the wait as state.
        lastState = state;
        const delaySeconds = Math.round(this.backoff.currentDelayMs(key) / 1000);
        state = { waiting: failure ?? { reason: 'CrashLoopBackOff', message: `back-off ${delaySeconds}s restarting failed container=${spec.name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})` } };
      }
    }
    const running = last.state.kind === 'running';
    const started = running && (!spec.startupProbe || this.probes.passing(last.id, 'startup'));
    const ready = started && (!spec.readinessProbe || this.probes.passing(last.id, 'readiness'));
    return {
      name: spec.name,
      state,
      lastState,
      ready,
      started,
      restartCount: last.attempt,
      image: spec.image,
      imageID: last.imageId,
      containerID: `${last.id.startsWith('sim') ? 'sim' : 'docker'}://${last.id}`,
    };
  }

  private status(pod: Pod, containers: ContainerStatus[], sandboxes: PodSandboxStatus[], podFailure: Failure | null): ReportedPodStatus {
    const policy = pod.spec.restartPolicy ?? 'Always';
    const sandbox = sandboxes.find((s) => s.state === 'ready') ?? null;
    const inSandbox = (name: string) => containers.filter((c) => c.name === name && (!sandbox || c.sandboxId === sandbox.id));
    const initStatuses = (pod.spec.initContainers ?? []).map((spec) => this.containerStatus(pod, spec, inSandbox(spec.name), podFailure, policy === 'Never' ? 'Never' : 'OnFailure'));
    const appStatuses = pod.spec.containers.map((spec) => this.containerStatus(pod, spec, inSandbox(spec.name), podFailure, policy));
    const initialized = initStatuses.every((s) => 'terminated' in s.state && s.state.terminated.exitCode === 0);
    const allReady = appStatuses.every((s) => s.ready);
    const terminal = this.terminalPhase(pod, containers);
    let phase: ReportedPodStatus['phase'];
    if (terminal) phase = terminal;
    else if (!initialized || appStatuses.some((s) => !s.containerID)) phase = 'Pending';
    else phase = 'Running';
    const condition = (type: PodCondition['type'], ok: boolean, reason: string): PodCondition => ({ type, status: ok ? 'True' : 'False', ...(ok ? {} : { reason }) });
    const notReady = appStatuses.filter((s) => !s.ready).map((s) => s.name);
    const conditions: PodCondition[] = [
      condition('PodScheduled', true, ''),
      condition('Initialized', initialized, 'ContainersNotInitialized'),
      { ...condition('ContainersReady', allReady, terminal ? 'PodCompleted' : 'ContainersNotReady'), ...(allReady ? {} : { message: `containers with unready status: [${notReady.join(' ')}]` }) },
      { ...condition('Ready', allReady, terminal ? 'PodCompleted' : 'ContainersNotReady'), ...(allReady ? {} : { message: `containers with unready status: [${notReady.join(' ')}]` }) },
    ];
    const podIP = sandbox?.podIP ?? pod.status?.podIP;
    return {
      phase,
      conditions,
      containerStatuses: appStatuses,
      initContainerStatuses: initStatuses,
      ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
      hostIP: this.hostIP(),
      startTime: pod.status?.startTime ?? iso(new Date(this.now())),
    };
  }
}

function latest(attempts: ContainerStatus[]): ContainerStatus | undefined {
  return attempts.reduce<ContainerStatus | undefined>((best, c) => (!best || c.attempt > best.attempt ? c : best), undefined);
}
