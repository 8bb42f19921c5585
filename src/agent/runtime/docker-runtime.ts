import { readFile, writeFile } from 'node:fs/promises';
import { PassThrough, Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { ensureImageLoaded, formatPlatform, type ImagePlatform } from '../../image/index.ts';
import { followDockerEvents } from './docker-events.ts';
import { containerName, labels, podLabels, podOfLabels } from './labels.ts';
import { buildPauseImage } from './pause-image.ts';
import { describePlatforms, detectRunnablePlatforms, platformRunnable, type RunnablePlatform } from './platforms.ts';
import {
  type ContainerConfig,
  type ContainerId,
  ContainerNotFoundError,
  type ContainerState,
  type ContainerStats,
  type ContainerStatus,
  type ContainerSummary,
  type ExecOptions,
  type ExecSession,
  ImageError,
  type ImageInfo,
  type ImagePullPolicy,
  type LogOptions,
  type PodSandboxConfig,
  type PodSandboxStatus,
  type Runtime,
  type RuntimeVersion,
  type SandboxId,
} from './runtime.ts';

export interface DockerRuntimeOptions {
  docker: Dockerode;
  nodeName: string;
  /** A static busybox for the engine's architecture, the pause image's only binary (Debian: busybox-static). */
  pauseBusyboxPath?: string;
  /** What this node may run; detected from the engine's architecture and binfmt_misc when unset. */
  runnablePlatforms?: RunnablePlatform[];
  /** Where binfmt_misc is mounted (tests pass a fake directory). */
  binfmtMiscDir?: string;
  /**
   * Extra labels on the pause image, which change its id: a test run gets a pause image of its
   * own that it can remove by id without pulling it from under another run.
   */
  pauseImageLabels?: Record<string, string>;
  /**
   * Tells apart nodes of the same name on one engine (`bramble up` passes its data dir: stable
   * across restarts, different for each test's node): when set, it labels every container and
   * only containers carrying it are this node's.
   */
  scope?: string;
  /** The Docker network new pod sandboxes join (the board's pod bridge, src/net); undefined: the engine's default bridge. */
  podNetwork?: () => string | undefined;
}

interface DockerApiError {
  statusCode?: number;
  json?: { message?: string } | null;
  message: string;
}

function statusOf(error: unknown): number | undefined {
  return (error as DockerApiError).statusCode;
}

/**
 * The pod's resolv.conf replaces the one Docker made for the sandbox (its containers share that
 * file). Docker keeps 127.0.0.11, its own resolver, on user-defined networks whatever `--dns` says,
 * so the file is written, as dockershim did; Docker leaves a file it did not write alone.
 */
async function writeResolvConf(container: Dockerode.Container, text: string): Promise<void> {
  const path = (await container.inspect()).ResolvConfPath;
  try {
    await writeFile(path, text);
  } catch (error) {
    throw new Error(`cannot write the pod's resolv.conf at ${path} (${(error as Error).message}): the Docker engine must run on this board, with its data root readable by Bramble`);
  }
}

function engineMessage(error: unknown): string {
  const failed = error as DockerApiError;
  return failed.json?.message ?? failed.message;
}

// Docker writes this for times that never happened (a container that never started or stopped).
const zeroTime = '0001-01-01T00:00:00Z';

function dateOrNull(value: string | undefined): Date | null {
  return !value || value === zeroTime ? null : new Date(value);
}

function platformOfEngine(goArch: string, unameMachine: string): ImagePlatform {
  switch (goArch) {
    case 'amd64':
      return { os: 'linux', architecture: 'amd64' };
    case 'arm64':
      return { os: 'linux', architecture: 'arm64', variant: 'v8' };
    case 'arm':
      return { os: 'linux', architecture: 'arm', variant: unameMachine.startsWith('armv6') ? 'v6' : 'v7' };
    default:
      throw new Error(`the Docker engine runs on ${goArch}; Bramble nodes are amd64, arm64 or 32-bit arm`);
  }
}

function apiAtLeast(version: string | undefined, major: number, minor: number): boolean {
  const [a = 0, b = 0] = (version ?? '').split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

/** Kubernetes' termination reasons from Docker's state. */
function terminationReason(state: Dockerode.ContainerInspectInfo['State']): string {
  if (state.OOMKilled) return 'OOMKilled';
  if (state.Error) return 'ContainerCannotRun';
  return state.ExitCode === 0 ? 'Completed' : 'Error';
}

function stateOf(state: Dockerode.ContainerInspectInfo['State']): ContainerState {
  const startedAt = dateOrNull(state.StartedAt);
  switch (state.Status) {
    case 'running':
    case 'paused':
    case 'restarting':
      return { kind: 'running', startedAt: startedAt ?? new Date(0) };
    case 'created':
      return state.Error
        ? { kind: 'terminated', exitCode: state.ExitCode || 128, reason: 'ContainerCannotRun', message: state.Error, startedAt: null, finishedAt: dateOrNull(state.FinishedAt) ?? new Date() }
        : { kind: 'waiting', reason: 'ContainerCreating' };
    default: {
      const message = state.Error || undefined;
      const finishedAt = dateOrNull(state.FinishedAt) ?? new Date();
      return {
        kind: 'terminated',
        exitCode: state.ExitCode,
        reason: terminationReason(state),
        ...(message ? { message } : {}),
        // The engine records StartedAt when its start call returns, which for a process that
        // exits at once can be after FinishedAt; a status must never say it ended before it began.
        startedAt: startedAt && startedAt > finishedAt ? finishedAt : startedAt,
        finishedAt,
      };
    }
  }
}

/** The engine's list states (created, running, paused, restarting, removing, exited, dead) in three. */
function summaryState(state: string): ContainerSummary['state'] {
  if (state === 'running' || state === 'paused' || state === 'restarting') return 'running';
  return state === 'created' ? 'created' : 'exited';
}

/** Splits Docker's multiplexed stdout/stderr frames (non-TTY containers) into two streams. */
function demux(docker: Dockerode, source: NodeJS.ReadableStream, stdout: PassThrough, stderr: PassThrough): void {
  docker.modem.demuxStream(source, stdout, stderr);
  const finish = () => {
    stdout.end();
    stderr.end();
  };
  source.on('end', finish);
  source.on('close', finish);
  source.on('error', (error: Error) => stdout.destroy(error));
}

/** `Runtime` on a Docker engine through its API (dockerode). */
export class DockerRuntime implements Runtime {
  private pauseTag: Promise<string> | null = null;
  /** Image id -> platform: an id names immutable content, so each image is inspected once. */
  private readonly platformById = new Map<string, ImageInfo['platform']>();

  private constructor(
    private readonly docker: Dockerode,
    readonly nodeName: string,
    private readonly engineVersion: RuntimeVersion,
    private readonly runnable: RunnablePlatform[],
    private readonly pauseBusyboxPath: string,
    private readonly pauseImageLabels: Record<string, string>,
    private readonly scope: string | undefined,
    /** Whether the engine takes an exec's initial console size (API 1.42, Docker 23+). */
    private readonly consoleSizeAtStart: boolean,
    private readonly podNetwork: () => string | undefined,
  ) {}

  static async create(options: DockerRuntimeOptions): Promise<DockerRuntime> {
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(options.nodeName)) {
      throw new Error(`invalid node name "${options.nodeName}": use lower-case letters, digits, "-" and "."`);
    }
    const [version, info] = await Promise.all([options.docker.version(), options.docker.info() as Promise<{ Architecture?: string }>]);
    const platform = platformOfEngine(version.Arch, info.Architecture ?? '');
    const runnable = options.runnablePlatforms ?? detectRunnablePlatforms(platform, options.binfmtMiscDir);
    return new DockerRuntime(
      options.docker,
      options.nodeName,
      { runtimeName: 'docker', runtimeVersion: version.Version, platform },
      runnable,
      options.pauseBusyboxPath ?? '/bin/busybox',
      options.pauseImageLabels ?? {},
      options.scope,
      apiAtLeast(version.ApiVersion, 1, 42),
      options.podNetwork ?? (() => undefined),
    );
  }

  private scopeLabel(): Record<string, string> {
    return this.scope === undefined ? {} : { [labels.scope]: this.scope };
  }

  async version(): Promise<RuntimeVersion> {
    return this.engineVersion;
  }

  /** The pause image's tag, built and loaded on first use (a no-op inspect when already loaded). */
  pauseImage(): Promise<string> {
    this.pauseTag ??= (async () => {
      const binary = await readFile(this.pauseBusyboxPath).catch((error: Error) => {
        throw new Error(`cannot read ${this.pauseBusyboxPath} for the pause image (${error.message}): install busybox-static or set the busybox path`);
      });
      const pause = await buildPauseImage(binary, this.engineVersion.platform, this.pauseBusyboxPath, this.pauseImageLabels);
      await ensureImageLoaded(this.docker, pause.archive, [pause.tag]);
      return pause.tag;
    })().catch((error: unknown) => {
      this.pauseTag = null; // let the next sandbox try again
      throw error;
    });
    return this.pauseTag;
  }

  async inspectImage(reference: string): Promise<ImageInfo | null> {
    try {
      const image = await this.docker.getImage(reference).inspect();
      const variant = (image as { Variant?: string }).Variant;
      return {
        id: image.Id,
        repoTags: image.RepoTags ?? [],
        repoDigests: image.RepoDigests ?? [],
        platform: { os: image.Os, architecture: image.Architecture, ...(variant ? { variant } : {}) },
        sizeBytes: image.Size,
      };
    } catch (error) {
      if (statusOf(error) === 404) return null;
      if (statusOf(error) === 400) throw new ImageError('InvalidImageName', `invalid image reference "${reference}": ${engineMessage(error)}`);
      throw error;
    }
  }

  async listImages(): Promise<ImageInfo[]> {
    // The list endpoint has no platform; inspect only images this instance has not seen.
    const listed = (await this.docker.listImages()).filter((image) => (image.RepoTags ?? []).some((tag) => tag !== '<none>:<none>'));
    const out: ImageInfo[] = [];
    for (const image of listed) {
      let platform = this.platformById.get(image.Id);
      if (!platform) {
        const inspected = await this.inspectImage(image.Id).catch(() => null);
        if (!inspected) continue; // removed meanwhile
        platform = inspected.platform;
        this.platformById.set(image.Id, platform);
      }
      out.push({
        id: image.Id,
        repoTags: (image.RepoTags ?? []).filter((tag) => tag !== '<none>:<none>'),
        repoDigests: (image.RepoDigests ?? []).filter((digest) => digest !== '<none>@<none>'),
        platform,
        sizeBytes: image.Size,
      });
    }
    const present = new Set(listed.map((image) => image.Id));
    for (const id of this.platformById.keys()) if (!present.has(id)) this.platformById.delete(id);
    return out;
  }

  watchImages(onChange: () => void): () => void {
    return followDockerEvents(this.docker, { filters: { type: ['image'] }, onEvent: () => onChange(), onGap: onChange });
  }

  watchContainerExits(onExit: (podUid: string | null) => void): () => void {
    const label = [`${labels.node}=${this.nodeName}`, ...Object.entries(this.scopeLabel()).map(([k, v]) => `${k}=${v}`)];
    return followDockerEvents(this.docker, {
      // "die" only: exec probes send exec_* events, which must not wake the pod loop.
      filters: { type: ['container'], event: ['die'], label },
      onEvent: (event) => {
        const uid = event.Actor?.Attributes?.[labels.podUid];
        if (event.Action === 'die' && uid) onExit(uid);
      },
      onGap: () => onExit(null),
    });
  }

  async listContainerStates(): Promise<ContainerSummary[]> {
    const found = await this.docker.listContainers({
      all: true,
      filters: { label: [`${labels.node}=${this.nodeName}`, ...Object.entries(this.scopeLabel()).map(([k, v]) => `${k}=${v}`)] },
    });
    return found.map((c) => ({ id: c.Id, podUid: c.Labels[labels.podUid] ?? '', state: summaryState(c.State) }));
  }

  async ensureImage(reference: string, pullPolicy: ImagePullPolicy, signal?: AbortSignal): Promise<ImageInfo> {
    let local = await this.inspectImage(reference);
    if (!local && pullPolicy === 'Never') {
      throw new ImageError(
        'ErrImageNeverPull',
        `image "${reference}" is not on node ${this.nodeName} and imagePullPolicy is Never: load it onto the node (docker load -i <image>.tar) or allow pulling`,
      );
    }
    if (pullPolicy === 'Always' || (!local && pullPolicy === 'IfNotPresent')) {
      const pullError = await this.pull(reference, signal);
      signal?.throwIfAborted();
      // An edge site has no registry: a fitting local image is better than no pod.
      if (pullError && !local) {
        throw new ImageError(
          'ErrImagePull',
          `cannot pull "${reference}" (${pullError}) and node ${this.nodeName} has no local copy: load it onto the node (docker load -i <image>.tar) or make a registry reachable`,
        );
      }
      local = (await this.inspectImage(reference)) ?? local;
    }
    if (!local) throw new ImageError('ErrImagePull', `image "${reference}" disappeared from node ${this.nodeName} while it was being used`);
    this.checkPlatform(reference, local);
    return local;
  }

  private checkPlatform(reference: string, image: ImageInfo): void {
    if (platformRunnable(image.platform, this.runnable)) return;
    const imagePlatform = `${image.platform.os}/${image.platform.architecture}${image.platform.variant ? `/${image.platform.variant}` : ''}`;
    throw new ImageError(
      'ImageArchitectureMismatch',
      `image "${reference}" is ${imagePlatform} but node ${this.nodeName} runs ${describePlatforms(this.runnable)}: ` +
        `load an image built for ${formatPlatform(this.engineVersion.platform)}, schedule the pod on a node of that architecture, ` +
        `or install qemu-user-static and binfmt-support to emulate it`,
    );
  }

  /** Pulls for the node's platform; returns the engine's error text instead of throwing. */
  private async pull(reference: string, signal: AbortSignal | undefined): Promise<string | null> {
    try {
      // Aborting drops the request; the sync stops waiting whatever the engine does with the pull.
      const stream = await this.docker.pull(reference, { platform: formatPlatform(this.engineVersion.platform), ...(signal ? { abortSignal: signal } : {}) });
      await new Promise<void>((resolve, reject) => {
        this.docker.modem.followProgress(stream, (error: Error | null) => (error ? reject(error) : resolve()));
      });
      return null;
    } catch (error) {
      return engineMessage(error);
    }
  }

  async runPodSandbox(config: PodSandboxConfig): Promise<SandboxId> {
    const image = await this.pauseImage();
    const exposed: Record<string, object> = {};
    const bindings: Record<string, Array<{ HostPort: string; HostIp: string }>> = {};
    for (const port of config.ports) {
      if (port.hostPort === undefined) continue;
      const key = `${port.containerPort}/${port.protocol.toLowerCase()}`;
      exposed[key] = {};
      (bindings[key] ??= []).push({ HostPort: String(port.hostPort), HostIp: port.hostIP ?? '' });
    }
    // Sandboxes made before the pod bridge existed stay on the default bridge until replaced.
    const network = this.podNetwork();
    const container = await this.docker.createContainer({
      name: containerName(this.nodeName, config.pod, 'POD', config.attempt),
      Image: image,
      Hostname: config.hostname,
      Labels: { ...podLabels(this.nodeName, 'sandbox', config.pod), ...this.scopeLabel(), [labels.attempt]: String(config.attempt) },
      ExposedPorts: exposed,
      HostConfig: { PortBindings: bindings, IpcMode: 'shareable', RestartPolicy: { Name: 'no' }, ...(network ? { NetworkMode: network } : {}) },
    });
    try {
      await container.start();
      if (config.resolvConf !== undefined) await writeResolvConf(container, config.resolvConf);
    } catch (error) {
      await container.remove({ force: true }).catch(() => undefined);
      const message = engineMessage(error);
      if (/port is already allocated|address already in use/i.test(message)) {
        const published = config.ports.filter((p) => p.hostPort !== undefined).map((p) => `${p.hostPort}/${p.protocol}`);
        throw new Error(`hostPort ${published.join(', ')} is already in use on node ${this.nodeName}: choose another hostPort or free it (${message})`);
      }
      throw new Error(`cannot start the sandbox of pod ${config.pod.namespace}/${config.pod.name}: ${message}`);
    }
    return container.id;
  }

  private async inspectOwn(id: string): Promise<Dockerode.ContainerInspectInfo> {
    try {
      const info = await this.docker.getContainer(id).inspect();
      if (info.Config.Labels?.[labels.node] !== this.nodeName || (this.scope !== undefined && info.Config.Labels[labels.scope] !== this.scope)) throw new ContainerNotFoundError(id, this.nodeName);
      return info;
    } catch (error) {
      if (statusOf(error) === 404) throw new ContainerNotFoundError(id, this.nodeName);
      throw error;
    }
  }

  private async listOwn(role: 'sandbox' | 'container', extra: string[]): Promise<Dockerode.ContainerInspectInfo[]> {
    const found = await this.docker.listContainers({
      all: true,
      filters: { label: [`${labels.node}=${this.nodeName}`, `${labels.role}=${role}`, ...Object.entries(this.scopeLabel()).map(([k, v]) => `${k}=${v}`), ...extra] },
    });
    const inspected = await Promise.all(
      found.map((c) => this.docker.getContainer(c.Id).inspect().catch((error: unknown) => (statusOf(error) === 404 ? null : Promise.reject(error)))),
    );
    return inspected.filter((info): info is Dockerode.ContainerInspectInfo => info !== null);
  }

  async stopPodSandbox(sandboxId: SandboxId, gracePeriodSeconds: number): Promise<void> {
    await this.inspectOwn(sandboxId);
    const containers = await this.listContainers({ sandboxId });
    await Promise.all(containers.map((c) => this.stopContainer(c.id, gracePeriodSeconds)));
    await this.stopContainer(sandboxId, gracePeriodSeconds);
  }

  async removePodSandbox(sandboxId: SandboxId): Promise<void> {
    let exists = true;
    await this.inspectOwn(sandboxId).catch((error: unknown) => {
      if (!(error instanceof ContainerNotFoundError)) throw error;
      exists = false;
    });
    if (!exists) return;
    const containers = await this.listContainers({ sandboxId });
    await Promise.all(containers.map((c) => this.removeContainer(c.id)));
    await this.removeContainer(sandboxId);
  }

  async listPodSandboxes(filter: { podUid?: string } = {}): Promise<PodSandboxStatus[]> {
    const extra = filter.podUid ? [`${labels.podUid}=${filter.podUid}`] : [];
    return (await this.listOwn('sandbox', extra)).map((info) => ({
      id: info.Id,
      pod: podOfLabels(info.Config.Labels ?? {}),
      state: info.State.Running ? 'ready' : 'notready',
      attempt: Number(info.Config.Labels?.[labels.attempt] ?? 0),
      podIP: info.State.Running ? Object.values(info.NetworkSettings.Networks).find((n) => n.IPAddress)?.IPAddress ?? null : null,
      createdAt: new Date(info.Created),
    }));
  }

  async createContainer(sandboxId: SandboxId, config: ContainerConfig): Promise<ContainerId> {
    const sandbox = await this.inspectOwn(sandboxId);
    if (sandbox.Config.Labels?.[labels.role] !== 'sandbox') throw new Error(`${sandboxId} is not a pod sandbox on node ${this.nodeName}`);
    const pod = podOfLabels(sandbox.Config.Labels ?? {});
    const image = await this.inspectImage(config.image);
    if (!image) {
      throw new ImageError('ErrImagePull', `image "${config.image}" is not on node ${this.nodeName}: ensure it before creating the container`);
    }
    // Checked here as well as in ensureImage: a wrong-arch image would otherwise die with
    // "exec format error" on every restart, which tells the user nothing.
    this.checkPlatform(config.image, image);
    const memory = config.resources.memoryLimitBytes;
    const cpu = config.resources.cpuLimitMillicores;
    const container = await this.docker.createContainer({
      name: containerName(this.nodeName, pod, config.name, config.attempt),
      Image: image.id,
      ...(config.command ? { Entrypoint: config.command } : {}),
      ...(config.args ? { Cmd: config.args } : {}),
      Env: config.env.map((e) => `${e.name}=${e.value}`),
      ...(config.workingDir ? { WorkingDir: config.workingDir } : {}),
      Tty: config.tty,
      OpenStdin: config.stdin,
      Labels: {
        ...podLabels(this.nodeName, 'container', pod),
        ...this.scopeLabel(),
        [labels.container]: config.name,
        [labels.attempt]: String(config.attempt),
        [labels.sandbox]: sandboxId,
        [labels.image]: config.image,
      },
      HostConfig: {
        NetworkMode: `container:${sandboxId}`,
        IpcMode: `container:${sandboxId}`,
        Mounts: config.mounts.map((m) => ({ Type: 'bind' as const, Source: m.hostPath, Target: m.containerPath, ReadOnly: m.readOnly })),
        ...(memory !== undefined ? { Memory: memory, MemorySwap: memory } : {}),
        ...(cpu !== undefined ? { NanoCpus: cpu * 1_000_000 } : {}),
        RestartPolicy: { Name: 'no' },
      },
    });
    return container.id;
  }

  async startContainer(containerId: ContainerId): Promise<void> {
    await this.inspectOwn(containerId);
    try {
      await this.docker.getContainer(containerId).start();
    } catch (error) {
      if (statusOf(error) === 304) return; // already running
      throw new Error(`cannot start container ${containerId}: ${engineMessage(error)}`);
    }
  }

  async stopContainer(containerId: ContainerId, gracePeriodSeconds: number): Promise<void> {
    await this.inspectOwn(containerId);
    try {
      // The engine sends the stop signal, waits t seconds, then SIGKILLs.
      await this.docker.getContainer(containerId).stop({ t: Math.max(0, Math.ceil(gracePeriodSeconds)) });
    } catch (error) {
      if (statusOf(error) === 304 || statusOf(error) === 404) return; // already stopped or gone
      throw error;
    }
  }

  async removeContainer(containerId: ContainerId): Promise<void> {
    try {
      await this.inspectOwn(containerId);
      await this.docker.getContainer(containerId).remove({ force: true, v: true });
    } catch (error) {
      if (error instanceof ContainerNotFoundError || statusOf(error) === 404) return;
      throw error;
    }
  }

  private statusOf(info: Dockerode.ContainerInspectInfo): ContainerStatus {
    const values = info.Config.Labels ?? {};
    return {
      id: info.Id,
      sandboxId: values[labels.sandbox] ?? '',
      pod: podOfLabels(values),
      name: values[labels.container] ?? '',
      attempt: Number(values[labels.attempt] ?? 0),
      image: values[labels.image] ?? info.Config.Image,
      imageId: info.Image,
      state: stateOf(info.State),
      createdAt: new Date(info.Created),
    };
  }

  async listContainers(filter: { podUid?: string; sandboxId?: SandboxId } = {}): Promise<ContainerStatus[]> {
    const extra = [
      ...(filter.podUid ? [`${labels.podUid}=${filter.podUid}`] : []),
      ...(filter.sandboxId ? [`${labels.sandbox}=${filter.sandboxId}`] : []),
    ];
    return (await this.listOwn('container', extra)).map((info) => this.statusOf(info));
  }

  async containerStatus(containerId: ContainerId): Promise<ContainerStatus> {
    const info = await this.inspectOwn(containerId);
    if (info.Config.Labels?.[labels.role] !== 'container') throw new ContainerNotFoundError(containerId, this.nodeName);
    return this.statusOf(info);
  }

  async logs(containerId: ContainerId, options: LogOptions): Promise<Readable> {
    const info = await this.inspectOwn(containerId);
    const common = {
      stdout: true,
      stderr: true,
      timestamps: options.timestamps,
      ...(options.tailLines !== undefined ? { tail: options.tailLines } : {}),
      ...(options.sinceTime ? { since: Math.floor(options.sinceTime.getTime() / 1000) } : {}),
    };
    const container = this.docker.getContainer(containerId);
    const source: NodeJS.ReadableStream = options.follow
      ? await container.logs({ ...common, follow: true })
      : Readable.from([await container.logs({ ...common, follow: false })]);
    if (info.Config.Tty) return Readable.from(source);
    const merged = new PassThrough();
    demux(this.docker, source, merged, merged);
    // Destroying the merged stream (a client that went away) must close the engine connection.
    merged.on('close', () => (source as Readable).destroy?.());
    return merged;
  }

  async exec(containerId: ContainerId, options: ExecOptions): Promise<ExecSession> {
    const info = await this.inspectOwn(containerId);
    if (!info.State.Running) throw new Error(`container ${containerId} is not running (${info.State.Status}): exec needs a running container`);
    const size = options.tty ? options.initialSize : undefined;
    // Docker's ConsoleSize is [height, width]; older engines would ignore it, so it is not sent.
    const consoleSize: { ConsoleSize?: [number, number] } = size && this.consoleSizeAtStart ? { ConsoleSize: [size.rows, size.columns] } : {};
    const exec = await this.docker.getContainer(containerId).exec({
      Cmd: options.command,
      AttachStdin: options.stdin,
      AttachStdout: true,
      AttachStderr: true,
      Tty: options.tty,
      ...consoleSize,
    });
    // An engine without ConsoleSize gets the size the moment the process exists: the resize
    // waits in the engine for the start (Docker 20.10 waits up to 10 s), so it is sent with it.
    const early = size && !this.consoleSizeAtStart ? exec.resize({ w: size.columns, h: size.rows }).catch(() => undefined) : null;
    // dockerode sends these options as the start body; its types lack ConsoleSize (API 1.42).
    const stream = await exec.start({ hijack: true, stdin: options.stdin, Tty: options.tty, ...consoleSize });
    const stdout = new PassThrough();
    const stderr = options.tty ? null : new PassThrough();
    if (options.tty) {
      stream.pipe(stdout);
    } else {
      demux(this.docker, stream, stdout, stderr ?? stdout);
    }
    const ended = new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
    });
    return {
      stdin: options.stdin ? stream : null,
      stdout,
      stderr,
      resize: async ({ columns, rows }) => {
        await early; // a later size must not be overtaken by the initial one
        await exec.resize({ w: columns, h: rows });
      },
      exitCode: async () => {
        await ended;
        // The engine records the exit code just after closing the stream.
        for (let attempt = 0; attempt < 50; attempt++) {
          const state = await exec.inspect();
          if (!state.Running && state.ExitCode !== null) return state.ExitCode;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        throw new Error(`exec in ${containerId} ended but the engine reports no exit code`);
      },
    };
  }

  async containerStats(containerId: ContainerId): Promise<ContainerStats> {
    await this.inspectOwn(containerId);
    // one-shot: the engine answers at once instead of waiting a second to fill precpu_stats,
    // which Bramble does not use (rates come from two readings of the cumulative counter).
    const options = { stream: false, 'one-shot': true } as { stream: false };
    const stats = (await this.docker.getContainer(containerId).stats(options)) as Dockerode.ContainerStats;
    const memory = stats.memory_stats;
    // cgroup v2 reports inactive_file, v1 total_inactive_file: page cache the kernel can reclaim.
    const memoryStats = (memory.stats ?? {}) as unknown as Record<string, number | undefined>;
    const inactive = memoryStats.inactive_file ?? memoryStats.total_inactive_file ?? 0;
    return {
      cpuUsageNanoseconds: stats.cpu_stats?.cpu_usage?.total_usage ?? 0,
      memoryWorkingSetBytes: Math.max(0, (memory.usage ?? 0) - inactive),
      timestamp: new Date(stats.read),
    };
  }
}
