// The fields each kind declares, for fieldValidation=Strict (kubectl sends it on create, apply and
// replace): a field the schema does not know is reported, as Kubernetes does for a typo like
// `imagee`. Rarely written sub-structures (affinity, securityContext, exotic volume sources,
// status) are `ANY`: accepted unchecked, so a valid manifest is never refused for want of a field.
import type { ResourceInfo } from './catalog.ts';
import { isObj, own } from './json.ts';
import { invalid } from './field-errors.ts';
import type { FieldError, KubeObject } from './types.ts';

type Schema = 'scalar' | 'any' | { fields: Record<string, Schema> } | { items: Schema } | { values: Schema };

const S: Schema = 'scalar';
const ANY: Schema = 'any';
const o = (fields: Record<string, Schema>): Schema => ({ fields });
const l = (items: Schema): Schema => ({ items });
const m = (values: Schema): Schema => ({ values });
const scalars = (...names: string[]): Record<string, Schema> => Object.fromEntries(names.map((n) => [n, S]));

const OBJECT_META = o({
  ...scalars('name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp',
    'deletionTimestamp', 'deletionGracePeriodSeconds'),
  labels: m(S),
  annotations: m(S),
  ownerReferences: l(o(scalars('apiVersion', 'kind', 'name', 'uid', 'controller', 'blockOwnerDeletion'))),
  finalizers: l(S),
  managedFields: ANY,
});

const LABEL_SELECTOR = o({ matchLabels: m(S), matchExpressions: l(o({ ...scalars('key', 'operator'), values: l(S) })) });
const KEY_REF = o(scalars('name', 'key', 'optional'));
const NAME_REF = o(scalars('name', 'optional'));

const PROBE = o({
  exec: o({ command: l(S) }),
  httpGet: o({ ...scalars('path', 'port', 'host', 'scheme'), httpHeaders: l(o(scalars('name', 'value'))) }),
  tcpSocket: o(scalars('port', 'host')),
  grpc: o(scalars('port', 'service')),
  ...scalars('initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold', 'terminationGracePeriodSeconds'),
});

const CONTAINER = o({
  ...scalars('name', 'image', 'workingDir', 'restartPolicy', 'terminationMessagePath', 'terminationMessagePolicy', 'imagePullPolicy',
    'stdin', 'stdinOnce', 'tty'),
  command: l(S),
  args: l(S),
  ports: l(o(scalars('name', 'hostPort', 'containerPort', 'protocol', 'hostIP'))),
  envFrom: l(o({ prefix: S, configMapRef: NAME_REF, secretRef: NAME_REF })),
  env: l(o({
    ...scalars('name', 'value'),
    valueFrom: o({
      fieldRef: o(scalars('apiVersion', 'fieldPath')),
      resourceFieldRef: o(scalars('containerName', 'resource', 'divisor')),
      configMapKeyRef: KEY_REF,
      secretKeyRef: KEY_REF,
    }),
  })),
  resources: o({ limits: m(S), requests: m(S), claims: ANY }),
  resizePolicy: ANY,
  volumeMounts: l(o(scalars('name', 'readOnly', 'recursiveReadOnly', 'mountPath', 'subPath', 'mountPropagation', 'subPathExpr'))),
  volumeDevices: ANY,
  livenessProbe: PROBE,
  readinessProbe: PROBE,
  startupProbe: PROBE,
  lifecycle: ANY,
  securityContext: ANY,
});

const KEY_TO_PATH = l(o(scalars('key', 'path', 'mode')));

const VOLUME = o({
  name: S,
  hostPath: o(scalars('path', 'type')),
  emptyDir: o(scalars('medium', 'sizeLimit')),
  secret: o({ ...scalars('secretName', 'defaultMode', 'optional'), items: KEY_TO_PATH }),
  configMap: o({ ...scalars('name', 'defaultMode', 'optional'), items: KEY_TO_PATH }),
  persistentVolumeClaim: o(scalars('claimName', 'readOnly')),
  ...Object.fromEntries(['downwardAPI', 'projected', 'nfs', 'iscsi', 'gitRepo', 'csi', 'ephemeral', 'image', 'glusterfs', 'rbd', 'cephfs', 'fc',
    'flexVolume', 'azureFile', 'azureDisk', 'vsphereVolume', 'quobyte', 'photonPersistentDisk', 'portworxVolume', 'scaleIO', 'storageos',
    'gcePersistentDisk', 'awsElasticBlockStore', 'cinder', 'flocker'].map((n) => [n, ANY])),
});

const POD_SPEC = o({
  volumes: l(VOLUME),
  initContainers: l(CONTAINER),
  containers: l(CONTAINER),
  ephemeralContainers: ANY,
  ...scalars('restartPolicy', 'terminationGracePeriodSeconds', 'activeDeadlineSeconds', 'dnsPolicy', 'serviceAccountName', 'serviceAccount',
    'automountServiceAccountToken', 'nodeName', 'hostNetwork', 'hostPID', 'hostIPC', 'shareProcessNamespace', 'hostname', 'subdomain',
    'schedulerName', 'priorityClassName', 'priority', 'runtimeClassName', 'enableServiceLinks', 'preemptionPolicy', 'setHostnameAsFQDN',
    'hostUsers'),
  nodeSelector: m(S),
  securityContext: ANY,
  imagePullSecrets: l(o(scalars('name'))),
  affinity: ANY,
  tolerations: l(o(scalars('key', 'operator', 'value', 'effect', 'tolerationSeconds'))),
  hostAliases: l(o({ ip: S, hostnames: l(S) })),
  dnsConfig: ANY,
  readinessGates: l(o(scalars('conditionType'))),
  overhead: m(S),
  topologySpreadConstraints: ANY,
  os: o(scalars('name')),
  schedulingGates: ANY,
  resourceClaims: ANY,
  resources: ANY,
});

const POD_TEMPLATE = o({ metadata: OBJECT_META, spec: POD_SPEC });
const INT_OR_PERCENT_UPDATE = o({ type: S, rollingUpdate: o(scalars('maxUnavailable', 'maxSurge')) });
const ENDPOINT_ADDRESS = o({ ...scalars('ip', 'hostname', 'nodeName'), targetRef: ANY });
const OBJECT_REFERENCE = o(scalars('kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'));
const POLICY_RULE = o({ verbs: l(S), apiGroups: l(S), resources: l(S), resourceNames: l(S), nonResourceURLs: l(S) });
const BINDING = { subjects: l(o(scalars('kind', 'apiGroup', 'name', 'namespace'))), roleRef: o(scalars('apiGroup', 'kind', 'name')) };

const BODIES: Record<string, Record<string, Schema>> = {
  Pod: { spec: POD_SPEC, status: ANY },
  Service: {
    spec: o({
      ports: l(o(scalars('name', 'protocol', 'appProtocol', 'port', 'targetPort', 'nodePort'))),
      selector: m(S),
      clusterIPs: l(S), externalIPs: l(S), loadBalancerSourceRanges: l(S), ipFamilies: l(S),
      sessionAffinityConfig: ANY,
      ...scalars('clusterIP', 'type', 'sessionAffinity', 'loadBalancerIP', 'externalName', 'externalTrafficPolicy', 'healthCheckNodePort',
        'publishNotReadyAddresses', 'ipFamilyPolicy', 'allocateLoadBalancerNodePorts', 'loadBalancerClass', 'internalTrafficPolicy',
        'trafficDistribution'),
    }),
    status: ANY,
  },
  Endpoints: { subsets: l(o({ addresses: l(ENDPOINT_ADDRESS), notReadyAddresses: l(ENDPOINT_ADDRESS), ports: l(o(scalars('name', 'port', 'protocol', 'appProtocol'))) })) },
  EndpointSlice: {
    addressType: S,
    endpoints: l(o({ addresses: l(S), conditions: o(scalars('ready', 'serving', 'terminating')), ...scalars('hostname', 'nodeName', 'zone'), targetRef: ANY, hints: ANY, deprecatedTopology: m(S) })),
    ports: l(o(scalars('name', 'port', 'protocol', 'appProtocol'))),
  },
  ConfigMap: { data: m(S), binaryData: m(S), immutable: S },
  Secret: { data: m(S), stringData: m(S), type: S, immutable: S },
  Event: {
    involvedObject: OBJECT_REFERENCE, related: OBJECT_REFERENCE,
    source: o(scalars('component', 'host')),
    series: o(scalars('count', 'lastObservedTime')),
    ...scalars('reason', 'message', 'firstTimestamp', 'lastTimestamp', 'count', 'type', 'eventTime', 'action', 'reportingComponent', 'reportingInstance'),
  },
  ServiceAccount: { secrets: l(OBJECT_REFERENCE), imagePullSecrets: l(o(scalars('name'))), automountServiceAccountToken: S },
  Namespace: { spec: o({ finalizers: l(S) }), status: ANY },
  Node: {
    spec: o({ ...scalars('podCIDR', 'providerID', 'unschedulable', 'externalID'), podCIDRs: l(S), taints: l(o(scalars('key', 'value', 'effect', 'timeAdded'))), configSource: ANY }),
    status: ANY,
  },
  Deployment: {
    spec: o({ selector: LABEL_SELECTOR, template: POD_TEMPLATE, strategy: INT_OR_PERCENT_UPDATE,
      ...scalars('replicas', 'minReadySeconds', 'revisionHistoryLimit', 'paused', 'progressDeadlineSeconds') }),
    status: ANY,
  },
  ReplicaSet: { spec: o({ selector: LABEL_SELECTOR, template: POD_TEMPLATE, ...scalars('replicas', 'minReadySeconds') }), status: ANY },
  DaemonSet: {
    spec: o({ selector: LABEL_SELECTOR, template: POD_TEMPLATE, updateStrategy: INT_OR_PERCENT_UPDATE, ...scalars('minReadySeconds', 'revisionHistoryLimit') }),
    status: ANY,
  },
  Job: {
    spec: o({ selector: LABEL_SELECTOR, template: POD_TEMPLATE, podFailurePolicy: ANY, successPolicy: ANY,
      ...scalars('parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'backoffLimitPerIndex', 'maxFailedIndexes', 'manualSelector',
        'ttlSecondsAfterFinished', 'completionMode', 'suspend', 'podReplacementPolicy', 'managedBy') }),
    status: ANY,
  },
  Role: { rules: l(POLICY_RULE) },
  ClusterRole: { rules: l(POLICY_RULE), aggregationRule: o({ clusterRoleSelectors: l(LABEL_SELECTOR) }) },
  RoleBinding: BINDING,
  ClusterRoleBinding: BINDING,
  NodeMetrics: { timestamp: S, window: S, usage: m(S) },
  PodMetrics: { timestamp: S, window: S, containers: l(o({ name: S, usage: m(S) })) },
};

function schemaOf(info: ResourceInfo): Schema {
  return o({ apiVersion: S, kind: S, metadata: OBJECT_META, ...(BODIES[info.kind] ?? {}) });
}

function walk(schema: Schema, value: unknown, path: string, out: string[]): void {
  if (schema === 'any' || schema === 'scalar' || value === null || value === undefined) return;
  if ('fields' in schema) {
    if (!isObj(value)) return;
    for (const [k, v] of Object.entries(value)) {
      const childPath = path ? `${path}.${k}` : k;
      const child = own(schema.fields, k);
      if (child === undefined) out.push(childPath);
      else walk(child, v, childPath, out);
    }
  } else if ('items' in schema) {
    if (Array.isArray(value)) value.forEach((v, i) => walk(schema.items, v, `${path}[${i}]`, out));
  } else if (isObj(value)) {
    for (const [k, v] of Object.entries(value)) walk(schema.values, v, `${path}[${k}]`, out);
  }
}

/**
 * Paths of fields the kind does not declare ("spec.template.spec.containers[0].imagee"), for
 * fieldValidation=Strict (400 `strict decoding error: unknown field "<path>"`) or Warn.
 */
export function unknownFields(info: ResourceInfo, obj: KubeObject): string[] {
  const out: string[] = [];
  walk(schemaOf(info), obj, '', out);
  return out;
}

function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function walkTypes(schema: Schema, value: unknown, path: string, out: FieldError[]): void {
  if (schema === 'any' || value === null || value === undefined) return;
  const at = path || '<root>';
  if (schema === 'scalar') {
    if (typeof value === 'object') out.push(invalid(at, value, `must be a string, number or boolean, not ${jsonType(value)}`));
    return;
  }
  if ('fields' in schema) {
    if (!isObj(value)) { out.push(invalid(at, value, `must be an object, not ${jsonType(value)}`)); return; }
    for (const [k, v] of Object.entries(value)) {
      const child = own(schema.fields, k);
      if (child !== undefined) walkTypes(child, v, path ? `${path}.${k}` : k, out);
    }
  } else if ('items' in schema) {
    if (!Array.isArray(value)) { out.push(invalid(at, value, `must be a list, not ${jsonType(value)}`)); return; }
    value.forEach((v, i) => walkTypes(schema.items, v, `${path}[${i}]`, out));
  } else {
    if (!isObj(value)) { out.push(invalid(at, value, `must be a map, not ${jsonType(value)}`)); return; }
    for (const [k, v] of Object.entries(value)) walkTypes(schema.values, v, `${path}[${k}]`, out);
  }
}

/**
 * Fields whose JSON type contradicts the kind's schema (an object where a list belongs, a list for a
 * name, ...). Kubernetes refuses these while decoding, with 400 BadRequest; validateCreate reports
 * them too, so nothing of the wrong shape is ever stored.
 */
export function typeErrors(info: ResourceInfo, obj: KubeObject): FieldError[] {
  const out: FieldError[] = [];
  walkTypes(schemaOf(info), obj, '', out);
  return out;
}
