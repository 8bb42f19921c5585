/** Narrow structural views of Pod and Node: only the fields the scheduler reads. */
export interface Taint { key: string; value?: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' }
export interface Toleration { key?: string; operator?: 'Exists' | 'Equal'; value?: string; effect?: string }
export interface SchedPod {
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec: {
    nodeSelector?: Record<string, string>;
    tolerations?: Toleration[];
    containers: { resources?: { requests?: Record<string, string> } }[];
  };
}
export interface SchedNode {
  metadata: { name: string; labels?: Record<string, string> };
  spec?: { unschedulable?: boolean; taints?: Taint[] };
  status?: { allocatable?: Record<string, string>; conditions?: { type: string; status: string }[] };
}
/** Nodes plus the pods already bound to each node (by node name). */
export interface Snapshot { nodes: SchedNode[]; boundPods: Record<string, SchedPod[]> }
/** Port a client adapter will implement later; not wired yet. */
export interface SchedulerPort {
  listNodes(): Promise<SchedNode[]>;
  listPods(): Promise<(SchedPod & { spec: { nodeName?: string } })[]>;
  bind(namespace: string, podName: string, nodeName: string): Promise<void>;
}
