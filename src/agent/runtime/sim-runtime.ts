import { PassThrough, Readable, Writable } from 'node:stream';
import type { ImagePlatform } from '../../image/index.ts';
import { labels, podLabels, podOfLabels } from './labels.ts';
import { describePlatforms, platformRunnable, type RunnablePlatform } from './platforms.ts';
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

/**
 * SimRuntime: containers without processes, for simulations of many nodes in one process (like
 * Kubernetes' hollow nodes). It keeps what the agent observes — labels, states, exit codes, logs,
 * host ports, attempts — and models a program by its argv, with the busybox commands the
 * contract suite uses:
 *   true / false           exit 0 / 1
 *   echo [-e] ARGS          prints ARGS, exit 0
 *   uname -m                prints the machine of the image's architecture (aarch64 for arm64)
 *   sleep SECONDS           runs that long; as PID 1 it has no SIGTERM handler, so a stop waits
 *                           out the grace period and SIGKILLs it (137), as on a real engine
 *   anything else           a long-running server that exits 143 on SIGTERM
 * exec runs echo, cat (stdin to stdout), ls of a path (missing: stderr and exit 1), `stty size`
 * (a TTY session's size: the initial one or the last resize; none: exit 1, as busybox); other
 * commands exit 127. No network exists: a sandbox has an address, nothing listens on it.
 */

interface SimImage {
  info: ImageInfo;
  references: string[];
}

interface SimLogLine {
  at: Date;
  text: string;
}

interface SimContainer {
  id: string;
  labels: Record<string, string>;
  imageId: string;
  image: string;
  argv: string[];
  state: ContainerState;
  createdAt: Date;
  hostPorts: string[];
  podIP: string | null;
  logs: SimLogLine[];
  followers: Set<PassThrough>;
  machine: string;
  timer: NodeJS.Timeout | null;
  memoryBytes: number;
  clock: () => Date;
  /** Tells the engine's listeners, as Docker's "die" event. */
  onExit: () => void;
}

const machineOfArchitecture: Record<string, string> = { amd64: 'x86_64', arm64: 'aarch64', arm: 'armv7l' };

let nextId = 0;
function newId(): string {
  nextId += 1;
  return `sim${String(nextId).padStart(61, '0')}`;
}

/** One simulated engine: several SimRuntimes (nodes) may share it, as they may share one Docker engine. */
export class SimEngine {
  readonly images: SimImage[] = [];
  readonly containers = new Map<string, SimContainer>();
  private nextAddress = 2;
  private readonly imageListeners = new Set<() => void>();
  private readonly exitListeners = new Set<(labels: Record<string, string>) => void>();

  /** `now` lets a simulation run the engine on its virtual clock (state times, stats). */
  constructor(
    readonly platform: ImagePlatform = { os: 'linux', architecture: 'amd64' },
    readonly now: () => number = Date.now,
  ) {}

  date(): Date {
    return new Date(this.now());
  }

  /** Puts an image on the engine, as `docker load` would. */
  loadImage(reference: string, platform: ImageInfo['platform'], sizeBytes = 2_000_000): ImageInfo {
    const id = `sha256:${Buffer.from(`${reference}|${platform.architecture}|${platform.variant ?? ''}`).toString('hex').padEnd(64, '0').slice(0, 64)}`;
    const info: ImageInfo = { id, repoTags: [reference], repoDigests: [], platform, sizeBytes };
    this.images.push({ info, references: [reference, id] });
    this.imagesChanged();
    return info;
  }

  /** Removes an image by reference or id, as `docker rmi` would; false when there is none. */
  removeImage(reference: string): boolean {
    const image = this.findImage(reference);
    if (!image) return false;
    this.images.splice(this.images.findIndex((i) => i.info === image), 1);
    this.imagesChanged();
    return true;
  }

  /** Like the engine's image events: every runtime on this engine hears every change. */
  watchImages(onChange: () => void): () => void {
    this.imageListeners.add(onChange);
    return () => this.imageListeners.delete(onChange);
  }

  /** Like the engine's container "die" events: every runtime on this engine hears every exit. */
  watchExits(onExit: (labels: Record<string, string>) => void): () => void {
    this.exitListeners.add(onExit);
    return () => this.exitListeners.delete(onExit);
  }

  containerExited(container: { labels: Record<string, string> }): void {
    for (const listener of [...this.exitListeners]) setImmediate(() => listener(container.labels));
  }

  private imagesChanged(): void {
    for (const listener of [...this.imageListeners]) setImmediate(listener);
  }

  findImage(reference: string): ImageInfo | null {
    const withTag = reference.includes(':') || reference.startsWith('sha256:') ? reference : `${reference}:latest`;
    return this.images.find((image) => image.references.includes(withTag))?.info ?? null;
  }

  allocateAddress(): string {
    const n = this.nextAddress++;
    return `10.88.${Math.floor(n / 254) % 256}.${(n % 254) + 1}`;
  }
}

function emit(container: SimContainer, text: string): void {
  const line = { at: container.clock(), text };
  container.logs.push(line);
  for (const follower of container.followers) follower.write(text);
}

function terminate(container: SimContainer, exitCode: number): void {
  if (container.state.kind === 'terminated') return;
  if (container.timer) clearTimeout(container.timer);
  container.timer = null;
  const startedAt = container.state.kind === 'running' ? container.state.startedAt : null;
  container.state = { kind: 'terminated', exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt, finishedAt: container.clock() };
  container.hostPorts = [];
  container.podIP = null;
  for (const follower of container.followers) follower.end();
  container.followers.clear();
  container.onExit();
}

function echoText(args: string[]): string {
  const escapes = args[0] === '-e';
  const words = escapes ? args.slice(1) : args;
  const joined = words.join(' ');
  return `${escapes ? joined.replace(/\\n/g, '\n').replace(/\\t/g, '\t') : joined}\n`;
}

/** Starts the modelled program (see the top of the file); short ones finish on the next turn so their running state is observable. */
function runProgram(container: SimContainer): void {
  const [program, ...args] = container.argv;
  const finish = (exitCode: number): void => {
    setImmediate(() => terminate(container, exitCode));
  };
  switch (program) {
    case 'true':
      return finish(0);
    case 'false':
      return finish(1);
    case 'echo':
      emit(container, echoText(args));
      return finish(0);
    case 'uname':
      emit(container, `${container.machine}\n`);
      return finish(0);
    case 'sleep': {
      const seconds = Number(args[0] ?? 0);
      container.timer = setTimeout(() => terminate(container, 0), Math.min(seconds, 2_147_483) * 1000);
      container.timer.unref();
      return;
    }
    default:
      return;
  }
}

function ignoresSigterm(container: SimContainer): boolean {
  return container.argv[0] === 'sleep';
}

export interface SimRuntimeOptions {
  engine: SimEngine;
  nodeName: string;
  runnablePlatforms?: RunnablePlatform[];
}

/** `Runtime` over a `SimEngine`: see the top of this file for what it models. */
export class SimRuntime implements Runtime {
  readonly nodeName: string;
  private readonly engine: SimEngine;
  private readonly runnable: RunnablePlatform[];

  constructor(options: SimRuntimeOptions) {
    this.engine = options.engine;
    this.nodeName = options.nodeName;
    this.runnable = options.runnablePlatforms ?? [{ architecture: options.engine.platform.architecture, variants: [], emulated: false }];
  }

  async version(): Promise<RuntimeVersion> {
    return { runtimeName: 'sim', runtimeVersion: '1', platform: this.engine.platform };
  }

  async inspectImage(reference: string): Promise<ImageInfo | null> {
    return this.engine.findImage(reference);
  }

  async listImages(): Promise<ImageInfo[]> {
    return this.engine.images.map((image) => image.info);
  }

  watchImages(onChange: () => void): () => void {
    return this.engine.watchImages(onChange);
  }

  async ensureImage(reference: string, pullPolicy: ImagePullPolicy, signal?: AbortSignal): Promise<ImageInfo> {
    signal?.throwIfAborted();
    const image = this.engine.findImage(reference);
    if (!image) {
      if (pullPolicy === 'Never') {
        throw new ImageError('ErrImageNeverPull', `image "${reference}" is not on node ${this.nodeName} and imagePullPolicy is Never: load it onto the node (docker load -i <image>.tar) or allow pulling`);
      }
      throw new ImageError('ErrImagePull', `cannot pull "${reference}" (a simulated node has no registry) and node ${this.nodeName} has no local copy: load it onto the node (docker load -i <image>.tar)`);
    }
    this.checkPlatform(reference, image);
    return image;
  }

  private checkPlatform(reference: string, image: ImageInfo): void {
    if (platformRunnable(image.platform, this.runnable)) return;
    throw new ImageError(
      'ImageArchitectureMismatch',
      `image "${reference}" is ${image.platform.os}/${image.platform.architecture}${image.platform.variant ? `/${image.platform.variant}` : ''} but node ${this.nodeName} runs ${describePlatforms(this.runnable)}: ` +
        `load an image built for linux/${this.engine.platform.architecture}, schedule the pod on a node of that architecture, or install qemu-user-static and binfmt-support to emulate it`,
    );
  }

  private own(id: string): SimContainer {
    const container = this.engine.containers.get(id);
    if (!container || container.labels[labels.node] !== this.nodeName) throw new ContainerNotFoundError(id, this.nodeName);
    return container;
  }

  private ownOf(role: 'sandbox' | 'container'): SimContainer[] {
    return [...this.engine.containers.values()].filter((c) => c.labels[labels.node] === this.nodeName && c.labels[labels.role] === role);
  }

  async runPodSandbox(config: PodSandboxConfig): Promise<SandboxId> {
    const hostPorts = config.ports.filter((p) => p.hostPort !== undefined).map((p) => `${p.hostPort}/${p.protocol}`);
    const inUse = new Set(this.ownOf('sandbox').flatMap((c) => c.hostPorts));
    const taken = hostPorts.filter((p) => inUse.has(p));
    if (taken.length > 0) {
      throw new Error(`hostPort ${taken.join(', ')} is already in use on node ${this.nodeName}: choose another hostPort or free it`);
    }
    const id = newId();
    this.engine.containers.set(id, {
      id,
      labels: { ...podLabels(this.nodeName, 'sandbox', config.pod), [labels.attempt]: String(config.attempt) },
      imageId: 'sim-pause',
      image: 'sim-pause',
      argv: ['pause'],
      state: { kind: 'running', startedAt: this.engine.date() },
      createdAt: this.engine.date(),
      hostPorts,
      podIP: this.engine.allocateAddress(),
      logs: [],
      followers: new Set(),
      machine: machineOfArchitecture[this.engine.platform.architecture] ?? this.engine.platform.architecture,
      timer: null,
      memoryBytes: 200_000,
      clock: () => this.engine.date(),
      onExit: () => this.engine.containerExited(this.engine.containers.get(id) ?? { labels: {} }),
    });
    return id;
  }

  async stopPodSandbox(sandboxId: SandboxId, gracePeriodSeconds: number): Promise<void> {
    const sandbox = this.own(sandboxId);
    const containers = await this.listContainers({ sandboxId });
    await Promise.all(containers.map((c) => this.stopContainer(c.id, gracePeriodSeconds)));
    terminate(sandbox, 0);
  }

  async removePodSandbox(sandboxId: SandboxId): Promise<void> {
    const sandbox = this.engine.containers.get(sandboxId);
    if (!sandbox || sandbox.labels[labels.node] !== this.nodeName) return;
    for (const c of this.ownOf('container').filter((c) => c.labels[labels.sandbox] === sandboxId)) await this.removeContainer(c.id);
    await this.removeContainer(sandboxId);
  }

  async listPodSandboxes(filter: { podUid?: string } = {}): Promise<PodSandboxStatus[]> {
    return this.ownOf('sandbox')
      .filter((c) => !filter.podUid || c.labels[labels.podUid] === filter.podUid)
      .map((c) => ({
        id: c.id,
        pod: podOfLabels(c.labels),
        state: c.state.kind === 'running' ? 'ready' : 'notready',
        attempt: Number(c.labels[labels.attempt] ?? 0),
        podIP: c.state.kind === 'running' ? c.podIP : null,
        createdAt: c.createdAt,
      }));
  }

  async createContainer(sandboxId: SandboxId, config: ContainerConfig): Promise<ContainerId> {
    const sandbox = this.own(sandboxId);
    if (sandbox.labels[labels.role] !== 'sandbox') throw new Error(`${sandboxId} is not a pod sandbox on node ${this.nodeName}`);
    const image = this.engine.findImage(config.image);
    if (!image) throw new ImageError('ErrImagePull', `image "${config.image}" is not on node ${this.nodeName}: ensure it before creating the container`);
    this.checkPlatform(config.image, image);
    const id = newId();
    this.engine.containers.set(id, {
      id,
      labels: {
        ...podLabels(this.nodeName, 'container', podOfLabels(sandbox.labels)),
        [labels.container]: config.name,
        [labels.attempt]: String(config.attempt),
        [labels.sandbox]: sandboxId,
        [labels.image]: config.image,
      },
      imageId: image.id,
      image: config.image,
      argv: [...(config.command ?? []), ...(config.args ?? [])],
      state: { kind: 'waiting', reason: 'ContainerCreating' },
      createdAt: this.engine.date(),
      hostPorts: [],
      podIP: null,
      logs: [],
      followers: new Set(),
      machine: machineOfArchitecture[image.platform.architecture] ?? image.platform.architecture,
      timer: null,
      memoryBytes: 1_000_000,
      clock: () => this.engine.date(),
      onExit: () => this.engine.containerExited(this.engine.containers.get(id) ?? { labels: {} }),
    });
    return id;
  }

  async startContainer(containerId: ContainerId): Promise<void> {
    const container = this.own(containerId);
    if (container.state.kind === 'running') return;
    if (container.state.kind === 'terminated') throw new Error(`cannot start container ${containerId}: it has exited; create the next attempt instead`);
    container.state = { kind: 'running', startedAt: this.engine.date() };
    runProgram(container);
  }

  async stopContainer(containerId: ContainerId, gracePeriodSeconds: number): Promise<void> {
    const container = this.own(containerId);
    if (container.state.kind === 'waiting') {
      terminate(container, 0);
      return;
    }
    if (container.state.kind !== 'running') return;
    if (!ignoresSigterm(container)) {
      terminate(container, 143);
      return;
    }
    // Modelled in real time, like the engine: a stop call returns once the process is gone.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, gracePeriodSeconds) * 1000));
    terminate(container, 137);
  }

  async removeContainer(containerId: ContainerId): Promise<void> {
    const container = this.engine.containers.get(containerId);
    if (!container || container.labels[labels.node] !== this.nodeName) return;
    terminate(container, 137);
    this.engine.containers.delete(containerId);
  }

  private statusOf(c: SimContainer): ContainerStatus {
    return {
      id: c.id,
      sandboxId: c.labels[labels.sandbox] ?? '',
      pod: podOfLabels(c.labels),
      name: c.labels[labels.container] ?? '',
      attempt: Number(c.labels[labels.attempt] ?? 0),
      image: c.image,
      imageId: c.imageId,
      state: c.state,
      createdAt: c.createdAt,
    };
  }

  async listContainers(filter: { podUid?: string; sandboxId?: SandboxId } = {}): Promise<ContainerStatus[]> {
    return this.ownOf('container')
      .filter((c) => (!filter.podUid || c.labels[labels.podUid] === filter.podUid) && (!filter.sandboxId || c.labels[labels.sandbox] === filter.sandboxId))
      .map((c) => this.statusOf(c));
  }

  async listContainerStates(): Promise<ContainerSummary[]> {
    return [...this.engine.containers.values()]
      .filter((c) => c.labels[labels.node] === this.nodeName)
      .map((c) => ({ id: c.id, podUid: c.labels[labels.podUid] ?? '', state: c.state.kind === 'running' ? 'running' : c.state.kind === 'waiting' ? 'created' : 'exited' }));
  }

  watchContainerExits(onExit: (podUid: string | null) => void): () => void {
    let watching = true;
    const stop = this.engine.watchExits((values) => {
      if (watching && values[labels.node] === this.nodeName && values[labels.podUid]) onExit(values[labels.podUid] ?? null);
    });
    // Like a stream that just opened: anything before it is the caller's to relist.
    setImmediate(() => watching && onExit(null));
    return () => {
      watching = false;
      stop();
    };
  }

  async containerStatus(containerId: ContainerId): Promise<ContainerStatus> {
    const container = this.own(containerId);
    if (container.labels[labels.role] !== 'container') throw new ContainerNotFoundError(containerId, this.nodeName);
    return this.statusOf(container);
  }

  async logs(containerId: ContainerId, options: LogOptions): Promise<Readable> {
    const container = this.own(containerId);
    // Lines as the engine stores them: one entry per line, each with its own timestamp.
    const lines = container.logs
      .flatMap((entry) => entry.text.split(/(?<=\n)/).filter((text) => text !== '').map((text) => ({ at: entry.at, text })))
      .filter((line) => !options.sinceTime || line.at >= options.sinceTime);
    const shown = options.tailLines !== undefined ? lines.slice(Math.max(0, lines.length - options.tailLines)) : lines;
    const render = (line: SimLogLine) => (options.timestamps ? `${line.at.toISOString().replace('Z', '000000Z')} ${line.text}` : line.text);
    if (!options.follow || container.state.kind === 'terminated') return Readable.from(shown.map(render).join('') === '' ? [] : [shown.map(render).join('')]);
    const stream = new PassThrough();
    for (const line of shown) stream.write(render(line));
    container.followers.add(stream);
    stream.on('close', () => container.followers.delete(stream));
    return stream;
  }

  async exec(containerId: ContainerId, options: ExecOptions): Promise<ExecSession> {
    const container = this.own(containerId);
    if (container.state.kind !== 'running') throw new Error(`container ${containerId} is not running (${container.state.kind}): exec needs a running container`);
    const stdout = new PassThrough();
    const stderr = options.tty ? null : new PassThrough();
    const errorOut = stderr ?? stdout;
    let resolveExit: (code: number) => void = () => undefined;
    const exited = new Promise<number>((resolve) => (resolveExit = resolve));
    const finish = (code: number) => {
      stdout.end();
      stderr?.end();
      resolveExit(code);
    };
    const [program, ...args] = options.command;
    let size = options.tty ? options.initialSize : undefined;
    let stdin: Writable | null = null;
    if (program === 'cat' && args.length === 0) {
      const input = new PassThrough();
      input.pipe(stdout, { end: false });
      input.on('end', () => finish(0));
      stdin = options.stdin ? input : null;
      if (!options.stdin) input.end();
    } else {
      stdin = options.stdin ? new PassThrough() : null;
      setImmediate(() => {
        if (program === 'echo') {
          stdout.write(echoText(args));
          finish(0);
        } else if (program === 'uname' && args[0] === '-m') {
          stdout.write(`${container.machine}\n`);
          finish(0);
        } else if (program === 'stty' && args[0] === 'size') {
          if (size) stdout.write(`${size.rows} ${size.columns}\n`);
          else errorOut.write('stty: standard input\n');
          finish(size ? 0 : 1);
        } else if (program === 'ls') {
          errorOut.write(`ls: ${args[0] ?? '.'}: No such file or directory\n`);
          finish(1);
        } else {
          errorOut.write(`sh: ${program ?? ''}: not found in SimRuntime\n`);
          finish(127);
        }
      });
    }
    return {
      stdin,
      stdout,
      stderr,
      resize: async (next) => {
        if (options.tty) size = next;
      },
      exitCode: () => exited,
    };
  }

  async containerStats(containerId: ContainerId): Promise<ContainerStats> {
    const container = this.own(containerId);
    const runningMs = container.state.kind === 'running' ? this.engine.now() - container.state.startedAt.getTime() : 0;
    // Modelled: an idle process uses a thousandth of a CPU.
    return { cpuUsageNanoseconds: runningMs * 1000, memoryWorkingSetBytes: container.memoryBytes, timestamp: this.engine.date() };
  }
}
