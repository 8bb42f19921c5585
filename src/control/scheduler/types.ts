/** Narrow structural views of Pod and Node: only the fields the scheduler reads. */
export interface Taint { key: string; value?: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute'; timeAdded?: string }
export interface Toleration { key?: string; operator?: 'Exists' | 'Equal'; value?: string; effect?: string; tolerationSeconds?: number }

export interface LabelSelectorSpec {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}
/** A node selector requirement: In, NotIn, Exists, DoesNotExist, Gt, Lt. */
export interface NodeSelectorRequirement { key: string; operator: string; values?: string[] }
export interface NodeSelectorTerm { matchExpressions?: NodeSelectorRequirement[]; matchFields?: NodeSelectorRequirement[] }
export interface PodAffinityTerm { labelSelector?: LabelSelectorSpec; topologyKey: string; namespaces?: string[] }
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
export interface TopologySpreadConstraint { maxSkew: number; topologyKey: string; whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway'; labelSelector?: LabelSelectorSpec }

export interface SchedPod {
  metadata: { name: string; namespace?: string; uid?: string; labels?: Record<string, string>; ownerReferences?: { uid: string; controller?: boolean }[] };
  spec: {
    nodeName?: string;
    nodeSelector?: Record<string, string>;
    tolerations?: Toleration[];
    affinity?: Affinity;
    topologySpreadConstraints?: TopologySpreadConstraint[];
    /** Only their images are read (architecture); their requests are not summed yet. */
    initContainers?: { image?: string }[];
    containers: { image?: string; resources?: { requests?: Record<string, string> }; ports?: { hostPort?: number; containerPort?: number; protocol?: string; hostIP?: string }[] }[];
  };
}
export interface SchedNode {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { unschedulable?: boolean; taints?: Taint[] };
  status?: { allocatable?: Record<string, string>; conditions?: { type: string; status: string }[] };
}
/** Nodes plus the pods already bound to each node (by node name). */
export interface Snapshot { nodes: SchedNode[]; boundPods: Record<string, SchedPod[]> }
