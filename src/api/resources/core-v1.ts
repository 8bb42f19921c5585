// Typed views of the core/v1 kinds, the one set every layer uses (names and shapes as in
// Kubernetes' core/v1). Only the fields Bramble reads or writes are declared; the objects stay
// open records (KubeObject's index signature) so fields we do not model are kept, not dropped.
// A field is optional here unless validation or defaulting guarantees it on every stored object
// (see `asPod` and friends in views.ts for what is checked when a generic KubeObject arrives).
import type { KubeObject, LabelSelector, ObjectMeta } from './types.ts';

/** Metadata of a stored object: the registry always sets name and uid (generateName resolved). */
export type StoredMeta = ObjectMeta & { name: string; uid: string };
/** ...and a namespaced one always has its namespace (defaulted from the request path). */
export type NamespacedMeta = StoredMeta & { namespace: string };

/** A condition as most kinds carry it (Pod, Node, Namespace, Deployment...). */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastUpdateTime?: string;
  lastHeartbeatTime?: string;
  lastProbeTime?: string | null;
}

// ---- Pod ---------------------------------------------------------------------------------------

export interface KeySelector {
  name: string;
  key: string;
  optional?: boolean;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    configMapKeyRef?: KeySelector;
    secretKeyRef?: KeySelector;
    fieldRef?: { fieldPath: string; apiVersion?: string };
  };
}

export interface EnvFromSource {
  prefix?: string;
  configMapRef?: { name: string; optional?: boolean };
  secretRef?: { name: string; optional?: boolean };
}

export interface ContainerPort {
  containerPort: number;
  hostPort?: number;
  hostIP?: string;
  /** Defaulted to TCP. */
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  name?: string;
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  subPath?: string;
}

export interface ResourceRequirements {
  limits?: Record<string, string>;
  /** Defaulting copies each limit without a request into requests. */
  requests?: Record<string, string>;
}

/** Exactly one handler; thresholds and periods defaulted as in Kubernetes (1, 10, 1, 3). */
export interface Probe {
  exec?: { command: string[] };
  httpGet?: { path?: string; port: number | string; host?: string; scheme?: 'HTTP' | 'HTTPS'; httpHeaders?: Array<{ name: string; value: string }> };
  tcpSocket?: { port: number | string; host?: string };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
}

export interface Container {
  name: string;
  /** Required by validation for a pod's containers. */
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: EnvFromSource[];
  ports?: ContainerPort[];
  workingDir?: string;
  volumeMounts?: VolumeMount[];
  resources?: ResourceRequirements;
  /** Defaulted from the image's tag. */
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  tty?: boolean;
  stdin?: boolean;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
}

export interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}

export interface Volume {
  name: string;
  emptyDir?: { medium?: '' | 'Memory'; sizeLimit?: string };
  hostPath?: { path: string; type?: '' | 'DirectoryOrCreate' | 'Directory' | 'FileOrCreate' | 'File' };
  configMap?: { name: string; items?: KeyToPath[]; defaultMode?: number; optional?: boolean };
  secret?: { secretName: string; items?: KeyToPath[]; defaultMode?: number; optional?: boolean };
}

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  timeAdded?: string;
}

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: '' | Taint['effect'];
  tolerationSeconds?: number;
}

/** A node selector requirement: In, NotIn, Exists, DoesNotExist, Gt, Lt. */
export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

export interface PodAffinityTerm {
  labelSelector?: LabelSelector;
  topologyKey: string;
  namespaces?: string[];
}

export interface Affinity {
  nodeAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms: NodeSelectorTerm[] };
    preferredDuringSchedulingIgnoredDuringExecution?: { weight: number; preference: NodeSelectorTerm }[];
  };
  podAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: PodAffinityTerm[] };
  podAntiAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: PodAffinityTerm[];
    preferredDuringSchedulingIgnoredDuringExecution?: { weight: number; podAffinityTerm: PodAffinityTerm }[];
  };
}

export interface TopologySpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway';
  labelSelector?: LabelSelector;
}

export interface PodSpec {
  /** Set by the scheduler's binding (or by the client); empty while pending. */
  nodeName?: string;
  /** Validation requires at least one. */
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  /** Defaulted to Always. */
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  /** Defaulted to 30. */
  terminationGracePeriodSeconds?: number;
  /** Defaulted to default-scheduler. */
  schedulerName?: string;
  hostname?: string;
  /** With hostname: the pod is <hostname>.<subdomain>.<ns>.svc.<domain> through a headless Service of that name. */
  subdomain?: string;
  /** Defaulted to ClusterFirst. */
  dnsPolicy?: 'ClusterFirst' | 'ClusterFirstWithHostNet' | 'Default' | 'None';
  dnsConfig?: PodDNSConfig;
  hostNetwork?: boolean;
  serviceAccountName?: string;
  /** Defaulted to true: the pod's containers get its namespace's Service variables. */
  enableServiceLinks?: boolean;
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  affinity?: Affinity;
  topologySpreadConstraints?: TopologySpreadConstraint[];
}

export type ContainerState =
  | { waiting: { reason: string; message?: string } }
  | { running: { startedAt: string } }
  | {
      terminated: {
        exitCode: number;
        reason: string;
        message?: string;
        startedAt?: string;
        finishedAt: string;
        containerID: string;
      };
    };

export interface ContainerStatus {
  name: string;
  state: ContainerState;
  lastState: ContainerState | Record<string, never>;
  ready: boolean;
  started: boolean;
  restartCount: number;
  image: string;
  imageID: string;
  containerID?: string;
}

export interface PodCondition extends Condition {
  type: 'PodScheduled' | 'Initialized' | 'ContainersReady' | 'Ready' | (string & {});
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

/** What the server (phase Pending, qosClass at creation), the scheduler and the agent write. */
export interface PodStatus {
  phase?: PodPhase;
  conditions?: PodCondition[];
  containerStatuses?: ContainerStatus[];
  initContainerStatuses?: ContainerStatus[];
  podIP?: string;
  podIPs?: Array<{ ip: string }>;
  hostIP?: string;
  startTime?: string;
  qosClass?: string;
  reason?: string;
  message?: string;
}

export interface Pod extends KubeObject {
  metadata: NamespacedMeta;
  spec: PodSpec;
  status?: PodStatus;
}

/** A pod template inside a workload (ReplicaSet, Deployment, DaemonSet, Job). */
export interface PodTemplateSpec {
  metadata?: ObjectMeta;
  spec?: PodSpec;
}

// ---- Node --------------------------------------------------------------------------------------

export interface NodeSpec {
  unschedulable?: boolean;
  taints?: Taint[];
  podCIDR?: string;
  podCIDRs?: string[];
}

export interface NodeAddress {
  type: 'InternalIP' | 'ExternalIP' | 'Hostname' | (string & {});
  address: string;
}

export interface NodeStatus {
  capacity?: Record<string, string>;
  allocatable?: Record<string, string>;
  conditions?: Condition[];
  addresses?: NodeAddress[];
  daemonEndpoints?: { kubeletEndpoint?: { Port: number } };
  nodeInfo?: Record<string, string>;
  images?: Array<{ names: string[]; sizeBytes?: number }>;
}

export interface Node extends KubeObject {
  metadata: StoredMeta;
  spec?: NodeSpec;
  status?: NodeStatus;
}

// ---- Namespace ---------------------------------------------------------------------------------

export interface Namespace extends KubeObject {
  metadata: StoredMeta;
  /** Defaulted to ['kubernetes']. */
  spec?: { finalizers?: string[] };
  /** The server sets Active at creation; deletion sets Terminating. */
  status?: { phase?: 'Active' | 'Terminating'; conditions?: Condition[] };
}

export interface PodDNSConfig {
  nameservers?: string[];
  searches?: string[];
  options?: Array<{ name: string; value?: string }>;
}

// ---- Service and Endpoints ---------------------------------------------------------------------

export interface ServicePort {
  name?: string;
  /** Defaulted to TCP. */
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  port: number;
  /** Defaulted to `port`; a name refers to a container port's name. */
  targetPort?: number | string;
  nodePort?: number;
}

export interface ServiceSpec {
  /** Defaulted to ClusterIP. */
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  selector?: Record<string, string>;
  ports?: ServicePort[];
  clusterIP?: string;
  clusterIPs?: string[];
  /** For type ExternalName: the DNS name the Service's name is a CNAME of. */
  externalName?: string;
}

export interface Service extends KubeObject {
  metadata: NamespacedMeta;
  spec?: ServiceSpec;
}

export interface EndpointAddress {
  ip: string;
  /** Set for a pod whose spec.hostname is set and whose spec.subdomain names the Service. */
  hostname?: string;
  nodeName?: string;
  targetRef?: { kind: 'Pod'; namespace: string; name: string; uid: string };
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

export interface Endpoints extends KubeObject {
  metadata: NamespacedMeta;
  subsets?: EndpointSubset[];
}

// ---- Event -------------------------------------------------------------------------------------

export interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  fieldPath?: string;
}

export interface Event extends KubeObject {
  involvedObject: ObjectReference;
  reason?: string;
  message?: string;
  type?: 'Normal' | 'Warning';
  source?: { component?: string; host?: string };
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
}

