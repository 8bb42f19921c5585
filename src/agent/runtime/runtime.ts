import type { Readable, Writable } from 'node:stream';
import type { ImagePlatform } from '../../image/index.ts';

/**
 * The container runtime as the agent sees it, in the shape of the Kubernetes CRI: a pod sandbox
 * (one long-lived container holding the pod's network namespace) and app containers joining it.
 * Every object a runtime creates carries labels naming its node, pod and container, so any new
 * runtime instance rebuilds its whole view from the engine alone, and one engine can host the
 * containers of several nodes without them seeing each other.
 */
export interface Runtime {
  /** The node whose containers this instance creates, lists and touches (and no other's). */
  readonly nodeName: string;

  version(): Promise<RuntimeVersion>;

  /**
   * Resolves an image for this node: the local image when its platform is one this node can run,
   * a pull when the policy allows and a registry answers, otherwise an `ImageError` whose reason
   * (`ErrImageNeverPull`, `ErrImagePull`, `ImageArchitectureMismatch`) and message say what to do.
   * `signal` abandons a pull in progress (the pod was deleted): it then rejects with the signal's reason.
   */
  ensureImage(reference: string, pullPolicy: ImagePullPolicy, signal?: AbortSignal): Promise<ImageInfo>;
  /** The local image, or null when the engine has none by that reference. Never pulls. */
  inspectImage(reference: string): Promise<ImageInfo | null>;
  /** Every image in the engine that has a tag, with its platform (the agent tells the scheduler). Never pulls. */
  listImages(): Promise<ImageInfo[]>;
  /**
   * Calls `onChange` (possibly several times per change) whenever the engine's images may have
   * changed: a load, pull, tag, untag or removal by anyone, not only this runtime. Returns the
   * function that stops watching.
   */
  watchImages(onChange: () => void): () => void;

  /** Creates and starts the pod's sandbox; its ports are published here, app containers share them. */
  runPodSandbox(config: PodSandboxConfig): Promise<SandboxId>;
  /** Stops every container of the sandbox's pod (grace each), then the sandbox itself. */
  stopPodSandbox(sandboxId: SandboxId, gracePeriodSeconds: number): Promise<void>;
  /** Removes the sandbox and every container of its pod. Removing what is gone is not an error. */
  removePodSandbox(sandboxId: SandboxId): Promise<void>;
  listPodSandboxes(filter?: { podUid?: string }): Promise<PodSandboxStatus[]>;

  /** Creates (not starts) a container in the sandbox's network namespace. The image must be ensured first. */
  createContainer(sandboxId: SandboxId, config: ContainerConfig): Promise<ContainerId>;
  startContainer(containerId: ContainerId): Promise<void>;
  /** SIGTERM (or the image's stop signal), then SIGKILL once the grace period has passed. */
  stopContainer(containerId: ContainerId, gracePeriodSeconds: number): Promise<void>;
  removeContainer(containerId: ContainerId): Promise<void>;
  listContainers(filter?: { podUid?: string; sandboxId?: SandboxId }): Promise<ContainerStatus[]>;
  /**
   * Every container and sandbox of this node with a coarse state, from one engine call (no
   * per-container inspect): what the agent's periodic relist compares to catch a missed event.
   */
  listContainerStates(): Promise<ContainerSummary[]>;
  /**
   * Calls `onExit(podUid)` soon after a container or sandbox of one of this node's pods stops
   * (exit, crash, OOM kill, `docker kill` or stop by anyone), and `onExit(null)` whenever events
   * may have been missed (the stream just opened, or reopened after it ended: then relist).
   * Returns the function that stops watching.
   */
  watchContainerExits(onExit: (podUid: string | null) => void): () => void;
  /** Throws `ContainerNotFoundError` for an id that is gone or belongs to another node. */
  containerStatus(containerId: ContainerId): Promise<ContainerStatus>;

  /** stdout and stderr interleaved as the engine stored them; ends unless `follow` (then ends when the container stops or the stream is destroyed). */
  logs(containerId: ContainerId, options: LogOptions): Promise<Readable>;
  exec(containerId: ContainerId, options: ExecOptions): Promise<ExecSession>;
  containerStats(containerId: ContainerId): Promise<ContainerStats>;
}

export type SandboxId = string;
export type ContainerId = string;

export type ImagePullPolicy = 'Always' | 'IfNotPresent' | 'Never';

export interface RuntimeVersion {
  /** e.g. "docker" or "sim"; with the version forms Kubernetes' nodeInfo.containerRuntimeVersion ("docker://28.2.2"). */
  runtimeName: string;
  runtimeVersion: string;
  /** The platform native to the engine's host. */
  platform: ImagePlatform;
}

export interface ImageInfo {
  /** "sha256:<hex>", what Kubernetes reports as containerStatuses[].imageID. */
  id: string;
  repoTags: string[];
  /**
   * "<name>@sha256:<hex>" for each registry the image was pulled from (or pushed to); empty for an
   * image that was loaded or built on the node.
   */
  repoDigests: string[];
  /** As the image config states it; `architecture` may be one Bramble has no name for (e.g. "riscv64"). */
  platform: { os: string; architecture: string; variant?: string };
  sizeBytes: number;
}

export interface PodRef {
  uid: string;
  namespace: string;
  name: string;
}

export interface PortMapping {
  containerPort: number;
  /** Published on the node when set (Kubernetes hostPort). */
  hostPort?: number;
  /** Defaults to all addresses. */
  hostIP?: string;
  /** As the pod spec allows (validation accepts SCTP; Docker publishes sctp ports too). */
  protocol: 'TCP' | 'UDP' | 'SCTP';
}

export interface PodSandboxConfig {
  pod: PodRef;
  /** The pod's hostname inside its namespace (Kubernetes: the pod name unless spec.hostname). */
  hostname: string;
  ports: PortMapping[];
  /** A sandbox recreated for the same pod (its pause container died) gets the next attempt. */
  attempt: number;
  /** The pod's /etc/resolv.conf (CRI's DNSConfig); the engine's own when unset. */
  resolvConf?: string;
}

export interface Mount {
  /** A path on the node the caller has prepared (emptyDir, configMap, secret and hostPath volumes). */
  hostPath: string;
  containerPath: string;
  readOnly: boolean;
}

export interface ResourceLimits {
  memoryLimitBytes?: number;
  /** 1000 = one CPU (Kubernetes "1" or "1000m"). */
  cpuLimitMillicores?: number;
}

export interface ContainerConfig {
  /** The container's name in the pod spec. */
  name: string;
  image: string;
  /** Replaces the image's entrypoint (Kubernetes `command`). */
  command?: string[];
  /** Replaces the image's cmd (Kubernetes `args`). */
  args?: string[];
  /** Already resolved by the caller (values, configMap/secret refs, fieldRefs). */
  env: Array<{ name: string; value: string }>;
  workingDir?: string;
  mounts: Mount[];
  resources: ResourceLimits;
  /** Kubernetes restarts create a new container per attempt; 0 for the first. */
  attempt: number;
  tty: boolean;
  /** Keeps stdin open so `exec`/attach can write to it (Kubernetes `stdin: true`). */
  stdin: boolean;
}

export type ContainerState =
  | { kind: 'waiting'; reason: string; message?: string }
  | { kind: 'running'; startedAt: Date }
  | {
      kind: 'terminated';
      exitCode: number;
      /** Kubernetes reasons: "Completed" (exit 0), "Error", "OOMKilled", "ContainerCannotRun". */
      reason: string;
      message?: string;
      /** Null when the container never started. */
      startedAt: Date | null;
      finishedAt: Date;
    };

export interface ContainerStatus {
  id: ContainerId;
  sandboxId: SandboxId;
  pod: PodRef;
  /** The container's name in the pod spec. */
  name: string;
  attempt: number;
  image: string;
  imageId: string;
  state: ContainerState;
  createdAt: Date;
}

export interface ContainerSummary {
  id: ContainerId;
  podUid: string;
  state: 'created' | 'running' | 'exited';
}

export interface PodSandboxStatus {
  id: SandboxId;
  pod: PodRef;
  state: 'ready' | 'notready';
  /** As created (`PodSandboxConfig.attempt`): the newest sandbox of a pod has the highest. */
  attempt: number;
  /** The pod's address inside its network (Docker's bridge address); null when the sandbox is not running. */
  podIP: string | null;
  createdAt: Date;
}

export interface LogOptions {
  follow: boolean;
  /** Only the last N lines; all when unset. */
  tailLines?: number;
  /** Prefix each line with an RFC 3339 timestamp, as `kubectl logs --timestamps`. */
  timestamps: boolean;
  sinceTime?: Date;
}

export interface ExecOptions {
  command: string[];
  stdin: boolean;
  tty: boolean;
  /**
   * With a TTY, the terminal's size for the process from its start, where the engine can
   * (Docker API 1.42+: ConsoleSize), else applied the moment the process runs (Docker 20.10, the
   * Debian 12 / Raspberry Pi OS package: a program reading its size in its first ~50 ms sees 0x0).
   */
  initialSize?: { columns: number; rows: number };
}

export interface ExecSession {
  /** Present when `stdin` was requested; end it to close the process's stdin. */
  stdin: Writable | null;
  stdout: Readable;
  /** Null with a TTY: the terminal merges both streams. */
  stderr: Readable | null;
  resize(size: { columns: number; rows: number }): Promise<void>;
  /** Resolves once the process has exited and its output streams have ended. */
  exitCode(): Promise<number>;
}

export interface ContainerStats {
  /** Cumulative CPU time the container used, as metrics.k8s.io derives its usage from. */
  cpuUsageNanoseconds: number;
  /** Memory the container uses minus reclaimable page cache (what kubectl top shows). */
  memoryWorkingSetBytes: number;
  timestamp: Date;
}

/** Why an image cannot be used; `reason` is what the container's waiting state reports. */
export class ImageError extends Error {
  constructor(
    readonly reason: 'ErrImageNeverPull' | 'ErrImagePull' | 'ImageArchitectureMismatch' | 'InvalidImageName',
    message: string,
  ) {
    super(message);
    this.name = 'ImageError';
  }
}

export class ContainerNotFoundError extends Error {
  constructor(readonly containerId: string, nodeName: string) {
    super(`container ${containerId} does not exist on node ${nodeName}`);
    this.name = 'ContainerNotFoundError';
  }
}
