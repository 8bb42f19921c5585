// Our own table of the protobuf field numbers of the kinds kubectl's generators create
// (`kubectl create namespace|deployment|configmap|secret|serviceaccount|role|rolebinding|job|
// service ...`), written from the field numbers Kubernetes documents for its wire format and
// checked against bodies captured from kubectl 1.32 (see test/unit/api/protobuf.test.ts).
// Only what we can decode correctly is listed: a field number missing here makes the decoder
// refuse the body (415, "use -f"), so nothing is ever silently dropped or misread.

/** Scalar wire types, maps and the few Kubernetes special messages. */
export type ScalarType = 'string' | 'bytes' | 'bool' | 'int32' | 'int64';
export type SpecialType = 'Time' | 'IntOrString' | 'Quantity' | 'skip';
export type FieldType = ScalarType | SpecialType | { message: string } | { map: ScalarType | 'Quantity' };

export interface FieldSpec {
  json: string;
  type: FieldType;
  repeated?: true;
  /**
   * A pointer field in Go (`*int32`, `*bool`, `*string`): it is on the wire only when set, so a
   * zero value there means zero. Plain Go scalars are always on the wire, and their zero value means
   * "not set" (what JSON's omitempty leaves out).
   */
  pointer?: true;
}

export type MessageSpec = Readonly<Record<number, FieldSpec>>;

const f = (json: string, type: FieldType, extra: Partial<Pick<FieldSpec, 'repeated' | 'pointer'>> = {}): FieldSpec => ({ json, type, ...extra });
const msg = (message: string): { message: string } => ({ message });
const STR_MAP = { map: 'string' } as const;

export const MESSAGES: Readonly<Record<string, MessageSpec>> = {
  // k8s.io/apimachinery meta/v1
  TypeMeta: { 1: f('apiVersion', 'string'), 2: f('kind', 'string') },
  Unknown: { 1: f('typeMeta', msg('TypeMeta')), 2: f('raw', 'bytes'), 3: f('contentEncoding', 'string'), 4: f('contentType', 'string') },
  ObjectMeta: {
    1: f('name', 'string'), 2: f('generateName', 'string'), 3: f('namespace', 'string'), 4: f('selfLink', 'string'),
    5: f('uid', 'string'), 6: f('resourceVersion', 'string'), 7: f('generation', 'int64'), 8: f('creationTimestamp', 'Time'),
    9: f('deletionTimestamp', 'Time'), 10: f('deletionGracePeriodSeconds', 'int64', { pointer: true }),
    11: f('labels', STR_MAP), 12: f('annotations', STR_MAP), 13: f('ownerReferences', msg('OwnerReference'), { repeated: true }),
    14: f('finalizers', 'string', { repeated: true }),
  },
  OwnerReference: {
    1: f('kind', 'string'), 3: f('name', 'string'), 4: f('uid', 'string'), 5: f('apiVersion', 'string'),
    6: f('controller', 'bool', { pointer: true }), 7: f('blockOwnerDeletion', 'bool', { pointer: true }),
  },
  LabelSelector: { 1: f('matchLabels', STR_MAP), 2: f('matchExpressions', msg('LabelSelectorRequirement'), { repeated: true }) },
  LabelSelectorRequirement: { 1: f('key', 'string'), 2: f('operator', 'string'), 3: f('values', 'string', { repeated: true }) },

  // core/v1
  Namespace: { 1: f('metadata', msg('ObjectMeta')), 2: f('spec', msg('NamespaceSpec')), 3: f('status', 'skip') },
  NamespaceSpec: { 1: f('finalizers', 'string', { repeated: true }) },
  ConfigMap: {
    1: f('metadata', msg('ObjectMeta')), 2: f('data', STR_MAP), 3: f('binaryData', { map: 'bytes' }), 4: f('immutable', 'bool', { pointer: true }),
  },
  Secret: {
    1: f('metadata', msg('ObjectMeta')), 2: f('data', { map: 'bytes' }), 3: f('type', 'string'), 4: f('stringData', STR_MAP),
    5: f('immutable', 'bool', { pointer: true }),
  },
  ServiceAccount: {
    1: f('metadata', msg('ObjectMeta')), 2: f('secrets', msg('ObjectReference'), { repeated: true }),
    3: f('imagePullSecrets', msg('LocalObjectReference'), { repeated: true }), 4: f('automountServiceAccountToken', 'bool', { pointer: true }),
  },
  ObjectReference: {
    1: f('kind', 'string'), 2: f('namespace', 'string'), 3: f('name', 'string'), 4: f('uid', 'string'), 5: f('apiVersion', 'string'),
    6: f('resourceVersion', 'string'), 7: f('fieldPath', 'string'),
  },
  LocalObjectReference: { 1: f('name', 'string') },
  Service: { 1: f('metadata', msg('ObjectMeta')), 2: f('spec', msg('ServiceSpec')), 3: f('status', 'skip') },
  ServiceSpec: {
    1: f('ports', msg('ServicePort'), { repeated: true }), 2: f('selector', STR_MAP), 3: f('clusterIP', 'string'), 4: f('type', 'string'),
    5: f('externalIPs', 'string', { repeated: true }), 7: f('sessionAffinity', 'string'), 8: f('loadBalancerIP', 'string'),
    9: f('loadBalancerSourceRanges', 'string', { repeated: true }), 10: f('externalName', 'string'), 11: f('externalTrafficPolicy', 'string'),
    12: f('healthCheckNodePort', 'int32'), 13: f('publishNotReadyAddresses', 'bool'),
  },
  ServicePort: {
    1: f('name', 'string'), 2: f('protocol', 'string'), 3: f('port', 'int32'), 4: f('targetPort', 'IntOrString'), 5: f('nodePort', 'int32'),
    6: f('appProtocol', 'string', { pointer: true }),
  },
  Pod: { 1: f('metadata', msg('ObjectMeta')), 2: f('spec', msg('PodSpec')), 3: f('status', 'skip') },
  PodTemplateSpec: { 1: f('metadata', msg('ObjectMeta')), 2: f('spec', msg('PodSpec')) },
  PodSpec: {
    2: f('containers', msg('Container'), { repeated: true }), 3: f('restartPolicy', 'string'),
    4: f('terminationGracePeriodSeconds', 'int64', { pointer: true }), 5: f('activeDeadlineSeconds', 'int64', { pointer: true }),
    6: f('dnsPolicy', 'string'), 7: f('nodeSelector', STR_MAP), 8: f('serviceAccountName', 'string'), 9: f('serviceAccount', 'string'),
    10: f('nodeName', 'string'), 11: f('hostNetwork', 'bool'), 12: f('hostPID', 'bool'), 13: f('hostIPC', 'bool'),
    15: f('imagePullSecrets', msg('LocalObjectReference'), { repeated: true }), 16: f('hostname', 'string'), 17: f('subdomain', 'string'),
    19: f('schedulerName', 'string'), 20: f('initContainers', msg('Container'), { repeated: true }),
    21: f('automountServiceAccountToken', 'bool', { pointer: true }), 22: f('tolerations', msg('Toleration'), { repeated: true }),
    24: f('priorityClassName', 'string'), 25: f('priority', 'int32', { pointer: true }),
    27: f('shareProcessNamespace', 'bool', { pointer: true }), 30: f('enableServiceLinks', 'bool', { pointer: true }),
  },
  Toleration: {
    1: f('key', 'string'), 2: f('operator', 'string'), 3: f('value', 'string'), 4: f('effect', 'string'),
    5: f('tolerationSeconds', 'int64', { pointer: true }),
  },
  Container: {
    1: f('name', 'string'), 2: f('image', 'string'), 3: f('command', 'string', { repeated: true }), 4: f('args', 'string', { repeated: true }),
    5: f('workingDir', 'string'), 6: f('ports', msg('ContainerPort'), { repeated: true }), 7: f('env', msg('EnvVar'), { repeated: true }),
    8: f('resources', msg('ResourceRequirements')), 9: f('volumeMounts', msg('VolumeMount'), { repeated: true }),
    13: f('terminationMessagePath', 'string'), 14: f('imagePullPolicy', 'string'), 16: f('stdin', 'bool'), 17: f('stdinOnce', 'bool'),
    18: f('tty', 'bool'), 20: f('terminationMessagePolicy', 'string'),
  },
  ContainerPort: { 1: f('name', 'string'), 2: f('hostPort', 'int32'), 3: f('containerPort', 'int32'), 4: f('protocol', 'string'), 5: f('hostIP', 'string') },
  EnvVar: { 1: f('name', 'string'), 2: f('value', 'string') },
  ResourceRequirements: { 1: f('limits', { map: 'Quantity' }), 2: f('requests', { map: 'Quantity' }) },
  VolumeMount: { 1: f('name', 'string'), 2: f('readOnly', 'bool'), 3: f('mountPath', 'string'), 4: f('subPath', 'string') },

  // apps/v1
  Deployment: { 1: f('metadata', msg('ObjectMeta')), 2: f('spec', msg('DeploymentSpec')), 3: f('status', 'skip') },
  DeploymentSpec: {
    1: f('replicas', 'int32', { pointer: true }), 2: f('selector', msg('LabelSelector')), 3: f('template', msg('PodTemplateSpec')),
    4: f('strategy', msg('DeploymentStrategy')), 5: f('minReadySeconds', 'int32'), 6: f('revisionHistoryLimit', 'int32', { pointer: true }),
    7: f('paused', 'bool'), 9: f('progressDeadlineSeconds', 'int32', { pointer: true }),
  },
  DeploymentStrategy: { 1: f('type', 'string'), 2: f('rollingUpdate', msg('RollingUpdateDeployment')) },
  RollingUpdateDeployment: { 1: f('maxUnavailable', 'IntOrString'), 2: f('maxSurge', 'IntOrString') },

  // batch/v1
  Job: { 1: f('metadata', msg('ObjectMeta')), 2: f('spec', msg('JobSpec')), 3: f('status', 'skip') },
  JobSpec: {
    1: f('parallelism', 'int32', { pointer: true }), 2: f('completions', 'int32', { pointer: true }),
    3: f('activeDeadlineSeconds', 'int64', { pointer: true }), 4: f('selector', msg('LabelSelector')),
    5: f('manualSelector', 'bool', { pointer: true }), 6: f('template', msg('PodTemplateSpec')), 7: f('backoffLimit', 'int32', { pointer: true }),
    8: f('ttlSecondsAfterFinished', 'int32', { pointer: true }), 9: f('completionMode', 'string', { pointer: true }),
    10: f('suspend', 'bool', { pointer: true }),
  },

  // authorization.k8s.io/v1 and authentication.k8s.io/v1: what `kubectl auth can-i|whoami` send
  SelfSubjectAccessReview: { 1: f('metadata', msg('ObjectMeta')), 2: f('spec', msg('SelfSubjectAccessReviewSpec')), 3: f('status', 'skip') },
  SelfSubjectAccessReviewSpec: { 1: f('resourceAttributes', msg('ResourceAttributes')), 2: f('nonResourceAttributes', msg('NonResourceAttributes')) },
  ResourceAttributes: {
    1: f('namespace', 'string'), 2: f('verb', 'string'), 3: f('group', 'string'), 4: f('version', 'string'), 5: f('resource', 'string'),
    6: f('subresource', 'string'), 7: f('name', 'string'),
  },
  NonResourceAttributes: { 1: f('path', 'string'), 2: f('verb', 'string') },
  SelfSubjectRulesReview: { 1: f('metadata', msg('ObjectMeta')), 2: f('spec', msg('SelfSubjectRulesReviewSpec')), 3: f('status', 'skip') },
  SelfSubjectRulesReviewSpec: { 1: f('namespace', 'string') },
  SelfSubjectReview: { 1: f('metadata', msg('ObjectMeta')), 2: f('status', 'skip') },

  // rbac.authorization.k8s.io/v1
  Role: { 1: f('metadata', msg('ObjectMeta')), 2: f('rules', msg('PolicyRule'), { repeated: true }) },
  ClusterRole: { 1: f('metadata', msg('ObjectMeta')), 2: f('rules', msg('PolicyRule'), { repeated: true }), 3: f('aggregationRule', msg('AggregationRule')) },
  AggregationRule: { 1: f('clusterRoleSelectors', msg('LabelSelector'), { repeated: true }) },
  PolicyRule: {
    1: f('verbs', 'string', { repeated: true }), 2: f('apiGroups', 'string', { repeated: true }), 3: f('resources', 'string', { repeated: true }),
    4: f('resourceNames', 'string', { repeated: true }), 5: f('nonResourceURLs', 'string', { repeated: true }),
  },
  RoleBinding: { 1: f('metadata', msg('ObjectMeta')), 2: f('subjects', msg('Subject'), { repeated: true }), 3: f('roleRef', msg('RoleRef')) },
  ClusterRoleBinding: { 1: f('metadata', msg('ObjectMeta')), 2: f('subjects', msg('Subject'), { repeated: true }), 3: f('roleRef', msg('RoleRef')) },
  Subject: { 1: f('kind', 'string'), 2: f('apiGroup', 'string'), 3: f('name', 'string'), 4: f('namespace', 'string') },
  RoleRef: { 1: f('apiGroup', 'string'), 2: f('kind', 'string'), 3: f('name', 'string') },
};

/** The top-level kinds a protobuf body may carry, by apiVersion/kind. */
export const PROTOBUF_KINDS: ReadonlySet<string> = new Set([
  'v1/Namespace', 'v1/ConfigMap', 'v1/Secret', 'v1/ServiceAccount', 'v1/Service', 'v1/Pod',
  'apps/v1/Deployment', 'batch/v1/Job',
  'rbac.authorization.k8s.io/v1/Role', 'rbac.authorization.k8s.io/v1/RoleBinding',
  'rbac.authorization.k8s.io/v1/ClusterRole', 'rbac.authorization.k8s.io/v1/ClusterRoleBinding',
]);

/** The review kinds: objects that are answered, never stored. */
export const PROTOBUF_REVIEW_KINDS: ReadonlySet<string> = new Set([
  'authorization.k8s.io/v1/SelfSubjectAccessReview', 'authorization.k8s.io/v1/SelfSubjectRulesReview',
  'authentication.k8s.io/v1/SelfSubjectReview',
]);
