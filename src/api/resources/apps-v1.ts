// Typed views of the workload kinds: apps/v1 ReplicaSet, Deployment, DaemonSet and batch/v1 Job
// (names and shapes as in Kubernetes). As in core-v1.ts, only the fields Bramble reads or writes
// are declared, and a field is required only where validation or defaulting guarantees it.
import type { Condition, NamespacedMeta, PodTemplateSpec } from './core-v1.ts';
import type { KubeObject, LabelSelector } from './types.ts';

export interface ReplicaSetSpec {
  /** Defaulted to 1. */
  replicas?: number;
  minReadySeconds?: number;
  selector?: LabelSelector | null;
  template?: PodTemplateSpec;
}

export interface ReplicaSetStatus {
  replicas?: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
}

export interface ReplicaSet extends KubeObject {
  metadata: NamespacedMeta;
  spec?: ReplicaSetSpec;
  status?: ReplicaSetStatus;
}

export interface DeploymentStrategy {
  /** Defaulted to RollingUpdate, whose maxSurge and maxUnavailable are defaulted to 25%. */
  type?: 'RollingUpdate' | 'Recreate';
  rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string };
}

export interface DeploymentSpec {
  /** Defaulted to 1. */
  replicas?: number;
  selector?: LabelSelector | null;
  template?: PodTemplateSpec;
  strategy?: DeploymentStrategy;
  minReadySeconds?: number;
  /** Defaulted to 10. */
  revisionHistoryLimit?: number;
  paused?: boolean;
  /** Defaulted to 600. */
  progressDeadlineSeconds?: number;
}

export interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  conditions?: Condition[];
}

export interface Deployment extends KubeObject {
  metadata: NamespacedMeta;
  spec?: DeploymentSpec;
  status?: DeploymentStatus;
}

export interface DaemonSetSpec {
  selector?: LabelSelector | null;
  template?: PodTemplateSpec;
  minReadySeconds?: number;
  /** Defaulted to RollingUpdate with maxUnavailable 1. */
  updateStrategy?: { type?: 'RollingUpdate' | 'OnDelete'; rollingUpdate?: { maxUnavailable?: number | string; maxSurge?: number | string } };
  revisionHistoryLimit?: number;
}

export interface DaemonSetStatus {
  currentNumberScheduled?: number;
  desiredNumberScheduled?: number;
  numberMisscheduled?: number;
  numberReady?: number;
  numberAvailable?: number;
  updatedNumberScheduled?: number;
  observedGeneration?: number;
}

export interface DaemonSet extends KubeObject {
  metadata: NamespacedMeta;
  spec?: DaemonSetSpec;
  status?: DaemonSetStatus;
}

export interface JobSpec {
  /** Defaulted: both completions and parallelism to 1 when neither is given. */
  completions?: number | null;
  parallelism?: number;
  /** Defaulted to 6. */
  backoffLimit?: number;
  activeDeadlineSeconds?: number;
  suspend?: boolean;
  selector?: LabelSelector | null;
  template?: PodTemplateSpec;
}

export interface JobStatus {
  startTime?: string;
  completionTime?: string;
  active?: number;
  succeeded?: number;
  failed?: number;
  ready?: number;
  conditions?: Condition[];
}

export interface Job extends KubeObject {
  metadata: NamespacedMeta;
  spec?: JobSpec;
  status?: JobStatus;
}
