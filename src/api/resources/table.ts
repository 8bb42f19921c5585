// meta.k8s.io/v1 Table output: the columns kubectl prints for each kind, computed on the server
// (kubectl asks for a Table and prints the cells as they come). Priority-1 columns are what
// `-o wide` adds; kubectl hides them otherwise, so the server sends them by default.
import type { ResourceInfo } from './catalog.ts';
import { arr, num, obj, str, strMap, type Obj } from './json.ts';
import type { KubeObject, ListMeta, PartialObjectMetadata, Table, TableColumnDefinition, TableRow } from './types.ts';

export interface TableOptions {
  now: Date;
  /** Include the `-o wide` columns (priority 1). Default true, as a Kubernetes server does. */
  wide?: boolean;
  /** What each row carries in `object` (Kubernetes' includeObject parameter). Default Metadata. */
  includeObject?: 'None' | 'Metadata' | 'Object';
  listMeta?: ListMeta;
}

type Cell = string | number | boolean | null;

interface Column {
  name: string;
  type?: 'string' | 'integer' | 'date';
  priority?: 0 | 1;
  description: string;
  cell: (o: KubeObject, now: Date) => Cell;
}

/** kubectl's age format: "45s", "3m20s", "5h", "12d", "2y30d". */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24) % 365;
    return days === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${days}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

function since(ts: unknown, now: Date): string {
  if (typeof ts !== 'string' || ts === '') return '<unknown>';
  const t = Date.parse(ts);
  return Number.isNaN(t) ? '<unknown>' : humanDuration(now.getTime() - t);
}

const NAME: Column = { name: 'Name', description: 'Name must be unique within a namespace.', cell: (o) => o.metadata.name ?? '' };
const AGE: Column = { name: 'Age', description: 'CreationTimestamp is the time this object was created.', cell: (o, now) => since(o.metadata.creationTimestamp, now) };
const spec = (o: KubeObject): Obj => obj(o.spec) ?? {};
const status = (o: KubeObject): Obj => obj(o.status) ?? {};
const orNone = (s: string): string => (s === '' ? '<none>' : s);

function selectorString(sel: unknown): string {
  const s = obj(sel);
  if (!s) return '<none>';
  const parts = Object.entries(strMap(s.matchLabels)).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`);
  for (const e of arr(s.matchExpressions)) {
    const x = obj(e) ?? {};
    const values = arr(x.values).map(String).join(',');
    switch (x.operator) {
      case 'In': parts.push(`${String(x.key)} in (${values})`); break;
      case 'NotIn': parts.push(`${String(x.key)} notin (${values})`); break;
      case 'Exists': parts.push(String(x.key)); break;
      case 'DoesNotExist': parts.push(`!${String(x.key)}`); break;
    }
  }
  return orNone(parts.join(','));
}

function mapString(m: unknown): string {
  return orNone(Object.entries(strMap(m)).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(','));
}

const templateContainers = (o: KubeObject): Obj[] => arr(obj(obj(spec(o).template)?.spec)?.containers).map((c) => obj(c) ?? {});

const WORKLOAD_WIDE: Column[] = [
  { name: 'Containers', priority: 1, description: 'Names of each container in the template.', cell: (o) => templateContainers(o).map((c) => str(c.name) ?? '').join(',') },
  { name: 'Images', priority: 1, description: 'Images referenced by each container in the template.', cell: (o) => templateContainers(o).map((c) => str(c.image) ?? '').join(',') },
  { name: 'Selector', priority: 1, description: 'Label selector for the pods.', cell: (o) => selectorString(spec(o).selector) },
];

// ---- pods ----

function podStatusReason(o: KubeObject): string {
  const st = status(o);
  let reason = str(st.reason) ?? str(st.phase) ?? '';
  const initStatuses = arr(st.initContainerStatuses).map((c) => obj(c) ?? {});
  const initCount = arr(spec(o).initContainers).length;
  let initializing = false;
  initStatuses.forEach((c, i) => {
    if (initializing) return;
    const state = obj(c.state) ?? {};
    const term = obj(state.terminated);
    const waiting = obj(state.waiting);
    if (term && num(term.exitCode) === 0) return;
    if (c.started === true && obj(state.running)) return;
    if (term) {
      const r = str(term.reason);
      reason = r ? `Init:${r}` : num(term.signal) ? `Init:Signal:${String(term.signal)}` : `Init:ExitCode:${String(term.exitCode ?? '')}`;
    } else if (waiting && str(waiting.reason) && waiting.reason !== 'PodInitializing') {
      reason = `Init:${String(waiting.reason)}`;
    } else {
      reason = `Init:${i}/${initCount}`;
    }
    initializing = true;
  });
  if (!initializing) {
    let hasRunning = false;
    const statuses = arr(st.containerStatuses).map((c) => obj(c) ?? {});
    for (let i = statuses.length - 1; i >= 0; i--) {
      const state = obj(statuses[i]?.state) ?? {};
      const waiting = obj(state.waiting);
      const term = obj(state.terminated);
      if (waiting && str(waiting.reason)) reason = String(waiting.reason);
      else if (term && str(term.reason)) reason = String(term.reason);
      else if (term) reason = num(term.signal) ? `Signal:${String(term.signal)}` : `ExitCode:${String(term.exitCode ?? '')}`;
      else if (obj(state.running) && statuses[i]?.ready === true) hasRunning = true;
    }
    if (reason === 'Completed' && hasRunning) {
      const ready = arr(st.conditions).some((c) => obj(c)?.type === 'Ready' && obj(c)?.status === 'True');
      reason = ready ? 'Running' : 'NotReady';
    }
  }
  if (o.metadata.deletionTimestamp) reason = st.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  return reason;
}

function podRestarts(o: KubeObject, now: Date): string {
  let restarts = 0;
  let last: number | undefined;
  for (const c of [...arr(status(o).initContainerStatuses), ...arr(status(o).containerStatuses)]) {
    const cs = obj(c) ?? {};
    restarts += num(cs.restartCount) ?? 0;
    const finished = str(obj(obj(cs.lastState)?.terminated)?.finishedAt);
    const t = finished ? Date.parse(finished) : NaN;
    if (!Number.isNaN(t) && (last === undefined || t > last)) last = t;
  }
  return last !== undefined && restarts > 0 ? `${restarts} (${humanDuration(now.getTime() - last)} ago)` : String(restarts);
}

const POD_COLUMNS: Column[] = [
  NAME,
  { name: 'Ready', description: 'The aggregate readiness state of this pod for accepting traffic.', cell: (o) => {
    const statuses = arr(status(o).containerStatuses).map((c) => obj(c) ?? {});
    const total = arr(spec(o).containers).length;
    return `${statuses.filter((c) => c.ready === true).length}/${total}`;
  } },
  { name: 'Status', description: 'The aggregate status of the containers in this pod.', cell: podStatusReason },
  { name: 'Restarts', description: 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.', cell: podRestarts },
  AGE,
  { name: 'IP', priority: 1, description: 'IP address allocated to the pod.', cell: (o) => orNone(str(status(o).podIP) ?? '') },
  { name: 'Node', priority: 1, description: 'Name of the Node this pod runs on.', cell: (o) => orNone(str(spec(o).nodeName) ?? '') },
  { name: 'Nominated Node', priority: 1, description: 'Name of the node the scheduler nominated for preemption.', cell: (o) => orNone(str(status(o).nominatedNodeName) ?? '') },
  { name: 'Readiness Gates', priority: 1, description: 'The readiness gates of the pod.', cell: (o) => {
    const gates = arr(spec(o).readinessGates).map((g) => str(obj(g)?.conditionType) ?? '');
    if (gates.length === 0) return '<none>';
    const conds = arr(status(o).conditions).map((c) => obj(c) ?? {});
    const met = gates.filter((g) => conds.some((c) => c.type === g && c.status === 'True')).length;
    return `${met}/${gates.length}`;
  } },
];

// ---- nodes ----

function nodeStatus(o: KubeObject): string {
  const ready = arr(status(o).conditions).map((c) => obj(c) ?? {}).find((c) => c.type === 'Ready');
  const parts = [ready?.status === 'True' ? 'Ready' : ready?.status === 'False' ? 'NotReady' : 'Unknown'];
  if (spec(o).unschedulable === true) parts.push('SchedulingDisabled');
  return parts.join(',');
}

function nodeRoles(o: KubeObject): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(o.metadata.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) roles.add(k.slice('node-role.kubernetes.io/'.length));
    else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return orNone([...roles].filter((r) => r !== '').sort().join(','));
}

const nodeAddress = (type: string) => (o: KubeObject): string =>
  orNone(str(arr(status(o).addresses).map((a) => obj(a) ?? {}).find((a) => a.type === type)?.address) ?? '');
const nodeInfo = (field: string) => (o: KubeObject): string => orNone(str(obj(status(o).nodeInfo)?.[field]) ?? '');

const NODE_COLUMNS: Column[] = [
  NAME,
  { name: 'Status', description: 'The status of the node.', cell: nodeStatus },
  { name: 'Roles', description: 'The roles of the node.', cell: nodeRoles },
  AGE,
  { name: 'Version', description: 'Kubelet version reported by the node.', cell: (o) => str(obj(status(o).nodeInfo)?.kubeletVersion) ?? '' },
  { name: 'Internal-IP', priority: 1, description: 'List of internal IPs.', cell: nodeAddress('InternalIP') },
  { name: 'External-IP', priority: 1, description: 'List of external IPs.', cell: nodeAddress('ExternalIP') },
  { name: 'OS-Image', priority: 1, description: 'OS image reported by the node.', cell: nodeInfo('osImage') },
  { name: 'Kernel-Version', priority: 1, description: 'Kernel version reported by the node.', cell: nodeInfo('kernelVersion') },
  { name: 'Container-Runtime', priority: 1, description: 'Container runtime and version reported by the node.', cell: nodeInfo('containerRuntimeVersion') },
];

// ---- services and endpoints ----

function serviceExternalIP(o: KubeObject): string {
  const s = spec(o);
  const external = arr(s.externalIPs).map(String);
  switch (s.type) {
    case 'ExternalName': return str(s.externalName) ?? '<none>';
    case 'LoadBalancer': {
      const ingress = arr(obj(status(o).loadBalancer)?.ingress).map((i) => str(obj(i)?.ip) ?? str(obj(i)?.hostname) ?? '').filter((x) => x);
      const all = [...ingress, ...external];
      return all.length > 0 ? all.join(',') : '<pending>';
    }
    default: return orNone(external.join(','));
  }
}

function servicePorts(o: KubeObject): string {
  return orNone(arr(spec(o).ports).map((p) => {
    const port = obj(p) ?? {};
    const node = num(port.nodePort);
    return `${String(port.port)}${node ? `:${node}` : ''}/${str(port.protocol) ?? 'TCP'}`;
  }).join(','));
}

const SERVICE_COLUMNS: Column[] = [
  NAME,
  { name: 'Type', description: 'The type of the service.', cell: (o) => str(spec(o).type) ?? 'ClusterIP' },
  { name: 'Cluster-IP', description: 'The IP address of the service.', cell: (o) => orNone(str(spec(o).clusterIP) ?? '') },
  { name: 'External-IP', description: 'The external IPs of the service.', cell: serviceExternalIP },
  { name: 'Port(s)', description: 'The ports of the service.', cell: servicePorts },
  AGE,
  { name: 'Selector', priority: 1, description: 'The label selector of the service.', cell: (o) => mapString(spec(o).selector) },
];

/** Kubernetes shows at most three endpoints and counts the rest. */
const MAX_ENDPOINTS_SHOWN = 3;

function endpointsString(o: KubeObject): string {
  const all: string[] = [];
  for (const ss of arr(o.subsets)) {
    const s = obj(ss) ?? {};
    const ports = arr(s.ports).map((p) => num(obj(p)?.port));
    for (const a of arr(s.addresses)) {
      const ip = str(obj(a)?.ip) ?? '';
      if (ports.length === 0) all.push(ip);
      for (const p of ports) all.push(p === undefined ? ip : `${ip}:${p}`);
    }
  }
  if (all.length === 0) return '<none>';
  const shown = all.slice(0, MAX_ENDPOINTS_SHOWN).join(',');
  return all.length > MAX_ENDPOINTS_SHOWN ? `${shown} + ${all.length - MAX_ENDPOINTS_SHOWN} more...` : shown;
}

/** Kubernetes' printer for EndpointSlices: at most three values, then how many more; none is `<unset>`. */
function firstThree(values: readonly string[]): string {
  if (values.length === 0) return '<unset>';
  const shown = values.slice(0, MAX_ENDPOINTS_SHOWN).join(',');
  return values.length > MAX_ENDPOINTS_SHOWN ? `${shown} + ${values.length - MAX_ENDPOINTS_SHOWN} more...` : shown;
}

const ENDPOINTSLICE_COLUMNS: Column[] = [
  NAME,
  { name: 'AddressType', description: 'The type of addresses in this EndpointSlice.', cell: (o) => str(o.addressType) ?? '' },
  { name: 'Ports', description: 'The ports of the EndpointSlice.', cell: (o) => firstThree(arr(o.ports).map((p) => num(obj(p)?.port)).filter((p) => p !== undefined).map(String)) },
  { name: 'Endpoints', description: 'The addresses of the EndpointSlice.', cell: (o) => firstThree(arr(o.endpoints).flatMap((e) => arr(obj(e)?.addresses).map(String))) },
  AGE,
];

// ---- workloads ----

const int = (v: unknown): number => num(v) ?? 0;

const DEPLOYMENT_COLUMNS: Column[] = [
  NAME,
  { name: 'Ready', description: 'Number of the pod with ready state.', cell: (o) => `${int(status(o).readyReplicas)}/${int(spec(o).replicas)}` },
  { name: 'Up-to-date', type: 'integer', description: 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.', cell: (o) => int(status(o).updatedReplicas) },
  { name: 'Available', type: 'integer', description: 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.', cell: (o) => int(status(o).availableReplicas) },
  AGE,
  ...WORKLOAD_WIDE,
];

const REPLICASET_COLUMNS: Column[] = [
  NAME,
  { name: 'Desired', type: 'integer', description: 'Number of desired pods.', cell: (o) => int(spec(o).replicas) },
  { name: 'Current', type: 'integer', description: 'Number of actual pods.', cell: (o) => int(status(o).replicas) },
  { name: 'Ready', type: 'integer', description: 'Number of ready pods.', cell: (o) => int(status(o).readyReplicas) },
  AGE,
  ...WORKLOAD_WIDE,
];

const DAEMONSET_COLUMNS: Column[] = [
  NAME,
  { name: 'Desired', type: 'integer', description: 'The total number of nodes that should be running the daemon pod.', cell: (o) => int(status(o).desiredNumberScheduled) },
  { name: 'Current', type: 'integer', description: 'The number of nodes that are running at least one daemon pod.', cell: (o) => int(status(o).currentNumberScheduled) },
  { name: 'Ready', type: 'integer', description: 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.', cell: (o) => int(status(o).numberReady) },
  { name: 'Up-to-date', type: 'integer', description: 'The total number of nodes that are running updated daemon pod.', cell: (o) => int(status(o).updatedNumberScheduled) },
  { name: 'Available', type: 'integer', description: 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.', cell: (o) => int(status(o).numberAvailable) },
  { name: 'Node Selector', description: 'The node selector of the daemon pods.', cell: (o) => mapString(obj(obj(spec(o).template)?.spec)?.nodeSelector) },
  AGE,
  ...WORKLOAD_WIDE,
];

function jobCondition(o: KubeObject, type: string): boolean {
  return arr(status(o).conditions).some((c) => obj(c)?.type === type && obj(c)?.status === 'True');
}

function jobStatus(o: KubeObject): string {
  if (jobCondition(o, 'Complete')) return 'Complete';
  if (jobCondition(o, 'Failed')) return 'Failed';
  if (jobCondition(o, 'FailureTarget')) return 'FailureTarget';
  if (jobCondition(o, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  if (jobCondition(o, 'Suspended')) return 'Suspended';
  return 'Running';
}

function jobDuration(o: KubeObject, now: Date): string {
  const start = str(status(o).startTime);
  if (!start) return '';
  const end = str(status(o).completionTime);
  return humanDuration((end ? Date.parse(end) : now.getTime()) - Date.parse(start));
}

const JOB_COLUMNS: Column[] = [
  NAME,
  { name: 'Status', description: 'Status of the job.', cell: jobStatus },
  { name: 'Completions', description: 'The desired number of successfully finished pods the job should be run with.', cell: (o) => {
    const completions = num(spec(o).completions);
    const succeeded = int(status(o).succeeded);
    return completions === undefined ? `${succeeded}/1 of ${int(spec(o).parallelism)}` : `${succeeded}/${completions}`;
  } },
  { name: 'Duration', description: 'Time required to complete the job.', cell: jobDuration },
  AGE,
  ...WORKLOAD_WIDE,
];

// ---- config, rbac, others ----

const CREATED_AT: Column = { name: 'Created At', type: 'date', description: 'CreationTimestamp is the time this object was created.', cell: (o) => o.metadata.creationTimestamp ?? '' };

function bindingSubjects(kind: string) {
  return (o: KubeObject): string => arr(o.subjects).map((s) => obj(s) ?? {}).filter((s) => s.kind === kind)
    .map((s) => (kind === 'ServiceAccount' ? `${str(s.namespace) ?? o.metadata.namespace ?? ''}/${str(s.name) ?? ''}` : str(s.name) ?? '')).join(', ');
}

const BINDING_COLUMNS: Column[] = [
  NAME,
  { name: 'Role', description: 'Role referenced by this binding.', cell: (o) => `${str(obj(o.roleRef)?.kind) ?? ''}/${str(obj(o.roleRef)?.name) ?? ''}` },
  AGE,
  { name: 'Users', priority: 1, description: 'Users in the binding.', cell: bindingSubjects('User') },
  { name: 'Groups', priority: 1, description: 'Groups in the binding.', cell: bindingSubjects('Group') },
  { name: 'ServiceAccounts', priority: 1, description: 'ServiceAccounts in the binding.', cell: bindingSubjects('ServiceAccount') },
];

function eventObject(o: KubeObject): string {
  const io = obj(o.involvedObject) ?? {};
  return `${(str(io.kind) ?? '').toLowerCase()}/${str(io.name) ?? ''}`;
}

function eventLastSeen(o: KubeObject, now: Date): string {
  const series = obj(o.series);
  const t = str(series?.lastObservedTime) ?? str(o.lastTimestamp) ?? str(o.eventTime) ?? str(o.firstTimestamp) ?? o.metadata.creationTimestamp;
  return since(t, now);
}

const EVENT_COLUMNS: Column[] = [
  { name: 'Last Seen', description: 'Time of the last occurrence.', cell: eventLastSeen },
  { name: 'Type', description: 'Type of this event (Normal, Warning).', cell: (o) => str(o.type) ?? '' },
  { name: 'Reason', description: 'Why the action was taken.', cell: (o) => str(o.reason) ?? '' },
  { name: 'Object', description: 'The object that this event is about.', cell: eventObject },
  { name: 'Subobject', priority: 1, description: 'The part of the object this event is about.', cell: (o) => str(obj(o.involvedObject)?.fieldPath) ?? '' },
  { name: 'Source', priority: 1, description: 'The component reporting this event.', cell: (o) => {
    const src = obj(o.source) ?? {};
    const parts = [str(src.component) ?? str(o.reportingComponent) ?? '', str(src.host) ?? ''].filter((x) => x);
    return parts.join(', ');
  } },
  { name: 'Message', description: 'A human-readable description of the status of this operation.', cell: (o) => (str(o.message) ?? '').trim() },
  { name: 'First Seen', priority: 1, description: 'Time of the first occurrence.', cell: (o, now) => since(str(o.firstTimestamp) ?? str(o.eventTime) ?? o.metadata.creationTimestamp, now) },
  { name: 'Count', priority: 1, description: 'How many times this event has occurred.', cell: (o) => String(num(obj(o.series)?.count) ?? num(o.count) ?? 1) },
  { name: 'Name', priority: 1, description: 'Name of the event.', cell: (o) => o.metadata.name ?? '' },
];

const COLUMNS: Record<string, Column[]> = {
  Pod: POD_COLUMNS,
  Node: NODE_COLUMNS,
  Namespace: [NAME, { name: 'Status', description: 'The status of the namespace.', cell: (o) => str(status(o).phase) ?? '' }, AGE],
  Service: SERVICE_COLUMNS,
  Endpoints: [NAME, { name: 'Endpoints', description: 'Endpoints of the service.', cell: endpointsString }, AGE],
  EndpointSlice: ENDPOINTSLICE_COLUMNS,
  ConfigMap: [NAME, { name: 'Data', type: 'integer', description: 'Number of keys.', cell: (o) => Object.keys(obj(o.data) ?? {}).length + Object.keys(obj(o.binaryData) ?? {}).length }, AGE],
  Secret: [NAME,
    { name: 'Type', description: 'The type of the secret.', cell: (o) => str(o.type) ?? '' },
    { name: 'Data', type: 'integer', description: 'Number of keys.', cell: (o) => Object.keys(obj(o.data) ?? {}).length }, AGE],
  Event: EVENT_COLUMNS,
  ServiceAccount: [NAME, { name: 'Secrets', type: 'integer', description: 'Number of secrets.', cell: (o) => arr(o.secrets).length }, AGE],
  Deployment: DEPLOYMENT_COLUMNS,
  ReplicaSet: REPLICASET_COLUMNS,
  DaemonSet: DAEMONSET_COLUMNS,
  Job: JOB_COLUMNS,
  Role: [NAME, CREATED_AT],
  ClusterRole: [NAME, CREATED_AT],
  RoleBinding: BINDING_COLUMNS,
  ClusterRoleBinding: BINDING_COLUMNS,
};

/** Kinds without a printer get Kubernetes' default table: name and creation time. */
const DEFAULT_COLUMNS: Column[] = [NAME, CREATED_AT];

export function columnsFor(info: ResourceInfo, wide = true): TableColumnDefinition[] {
  return (COLUMNS[info.kind] ?? DEFAULT_COLUMNS)
    .filter((c) => wide || (c.priority ?? 0) === 0)
    .map((c) => ({ name: c.name, type: c.type ?? 'string', format: c.name === 'Name' ? 'name' : '', description: c.description, priority: c.priority ?? 0 }));
}

function partial(o: KubeObject): PartialObjectMetadata {
  return { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: o.metadata };
}

/** The Table for a list (or a single get) of objects of one kind. */
export function toTable(info: ResourceInfo, objects: readonly KubeObject[], opts: TableOptions): Table {
  const wide = opts.wide ?? true;
  const columns = (COLUMNS[info.kind] ?? DEFAULT_COLUMNS).filter((c) => wide || (c.priority ?? 0) === 0);
  const include = opts.includeObject ?? 'Metadata';
  const rows: TableRow[] = objects.map((o) => {
    const row: TableRow = { cells: columns.map((c) => c.cell(o, opts.now)) };
    if (info.kind === 'Pod') {
      const phase = status(o).phase;
      if (phase === 'Succeeded' || phase === 'Failed') row.conditions = [{ type: 'Completed', status: 'True', reason: String(phase), message: phase === 'Succeeded' ? 'The pod has completed successfully.' : 'The pod failed.' }];
    }
    if (include === 'Object') row.object = o;
    else if (include === 'Metadata') row.object = partial(o);
    return row;
  });
  return { apiVersion: 'meta.k8s.io/v1', kind: 'Table', metadata: opts.listMeta ?? {}, columnDefinitions: columnsFor(info, wide), rows };
}
