// Defaulting as the Kubernetes API server does it for v1/apps/v1/batch/v1/rbac/v1: fields a client
// may omit get the value Kubernetes would store, so `kubectl get -o yaml` shows the same object on
// Bramble as on Kubernetes and controllers never see a missing field.
import type { ResourceInfo } from './catalog.ts';
import { arr, clone, isObj, obj, str, type Obj } from './json.ts';
import type { KubeObject } from './types.ts';

/** Sets `o[key] = value` when absent (undefined or null), as Kubernetes' "if nil" defaulting. */
function def(o: Obj, key: string, value: unknown): void {
  if (o[key] === undefined || o[key] === null) o[key] = value;
}

/** An object-valued field, created empty when absent. */
function sub(o: Obj, key: string): Obj {
  const v = o[key];
  if (isObj(v)) return v;
  const fresh: Obj = {};
  o[key] = fresh;
  return fresh;
}

/** `Always` for `:latest` or no tag, `IfNotPresent` for a pinned tag or digest. */
export function defaultPullPolicy(image: string): 'Always' | 'IfNotPresent' {
  if (image.includes('@')) return 'IfNotPresent';
  const lastSlash = image.lastIndexOf('/');
  const colon = image.indexOf(':', lastSlash + 1);
  if (colon < 0) return 'Always';
  return image.slice(colon + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultProbe(probe: unknown): void {
  const p = obj(probe);
  if (!p) return;
  def(p, 'timeoutSeconds', 1);
  def(p, 'periodSeconds', 10);
  def(p, 'successThreshold', 1);
  def(p, 'failureThreshold', 3);
  const http = obj(p.httpGet);
  if (http) {
    def(http, 'path', '/');
    def(http, 'scheme', 'HTTP');
  }
}

function defaultContainer(c: Obj): void {
  const image = str(c.image);
  if (image) def(c, 'imagePullPolicy', defaultPullPolicy(image));
  def(c, 'terminationMessagePath', '/dev/termination-log');
  def(c, 'terminationMessagePolicy', 'File');
  const resources = sub(c, 'resources');
  // Kubernetes makes requests equal limits where only limits are given.
  const limits = obj(resources.limits);
  if (limits) {
    const requests = sub(resources, 'requests');
    for (const [k, v] of Object.entries(limits)) def(requests, k, v);
  }
  for (const port of arr(c.ports)) if (isObj(port)) def(port, 'protocol', 'TCP');
  for (const e of arr(c.env)) {
    const fieldRef = obj(obj(obj(e)?.valueFrom)?.fieldRef);
    if (fieldRef) def(fieldRef, 'apiVersion', 'v1');
  }
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) defaultProbe(c[probe]);
}

export function defaultPodSpec(spec: Obj): void {
  def(spec, 'restartPolicy', 'Always');
  def(spec, 'dnsPolicy', 'ClusterFirst');
  def(spec, 'terminationGracePeriodSeconds', 30);
  def(spec, 'securityContext', {});
  def(spec, 'schedulerName', 'default-scheduler');
  def(spec, 'enableServiceLinks', true);
  for (const c of [...arr(spec.initContainers), ...arr(spec.containers)]) if (isObj(c)) defaultContainer(c);
  for (const v of arr(spec.volumes)) {
    if (!isObj(v)) continue;
    for (const src of ['configMap', 'secret', 'downwardAPI', 'projected']) {
      const s = obj(v[src]);
      if (s) def(s, 'defaultMode', 0o644);
    }
    const hostPath = obj(v.hostPath);
    if (hostPath) def(hostPath, 'type', '');
  }
}

function defaultTemplate(spec: Obj): void {
  const template = obj(spec.template);
  if (!template) return;
  defaultPodSpec(sub(template, 'spec'));
}

type Defaulter = (o: KubeObject) => void;

const DEFAULTERS: Record<string, Defaulter> = {
  Pod: (o) => defaultPodSpec(sub(o, 'spec')),
  Service: (o) => {
    const spec = sub(o, 'spec');
    def(spec, 'type', 'ClusterIP');
    def(spec, 'sessionAffinity', 'None');
    for (const p of arr(spec.ports)) {
      if (!isObj(p)) continue;
      def(p, 'protocol', 'TCP');
      if (p.targetPort === undefined || p.targetPort === null || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
    }
    if (spec.type !== 'ExternalName') {
      def(spec, 'internalTrafficPolicy', 'Cluster');
      def(spec, 'ipFamilyPolicy', 'SingleStack');
      def(spec, 'ipFamilies', ['IPv4']);
    }
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') def(spec, 'externalTrafficPolicy', 'Cluster');
    if (spec.type === 'LoadBalancer') def(spec, 'allocateLoadBalancerNodePorts', true);
  },
  Endpoints: (o) => {
    for (const ss of arr(o.subsets)) for (const p of arr(obj(ss)?.ports)) if (isObj(p)) def(p, 'protocol', 'TCP');
  },
  EndpointSlice: (o) => {
    for (const p of arr(o.ports)) if (isObj(p)) def(p, 'protocol', 'TCP');
  },
  Secret: (o) => def(o, 'type', 'Opaque'),
  Namespace: (o) => {
    const spec = sub(o, 'spec');
    def(spec, 'finalizers', ['kubernetes']);
  },
  Deployment: (o) => {
    const spec = sub(o, 'spec');
    def(spec, 'replicas', 1);
    const strategy = sub(spec, 'strategy');
    def(strategy, 'type', 'RollingUpdate');
    if (strategy.type === 'RollingUpdate') {
      const ru = sub(strategy, 'rollingUpdate');
      def(ru, 'maxUnavailable', '25%');
      def(ru, 'maxSurge', '25%');
    }
    def(spec, 'revisionHistoryLimit', 10);
    def(spec, 'progressDeadlineSeconds', 600);
    defaultTemplate(spec);
  },
  ReplicaSet: (o) => {
    const spec = sub(o, 'spec');
    def(spec, 'replicas', 1);
    defaultTemplate(spec);
  },
  DaemonSet: (o) => {
    const spec = sub(o, 'spec');
    const us = sub(spec, 'updateStrategy');
    def(us, 'type', 'RollingUpdate');
    if (us.type === 'RollingUpdate') {
      const ru = sub(us, 'rollingUpdate');
      def(ru, 'maxUnavailable', 1);
      def(ru, 'maxSurge', 0);
    }
    def(spec, 'revisionHistoryLimit', 10);
    defaultTemplate(spec);
  },
  Job: (o) => {
    const spec = sub(o, 'spec');
    if ((spec.completions === undefined || spec.completions === null) && (spec.parallelism === undefined || spec.parallelism === null)) {
      spec.completions = 1;
      spec.parallelism = 1;
    }
    def(spec, 'parallelism', 1);
    def(spec, 'backoffLimit', 6);
    def(spec, 'completionMode', 'NonIndexed');
    def(spec, 'suspend', false);
    def(spec, 'podReplacementPolicy', 'TerminatingOrFailed');
    defaultTemplate(spec);
  },
  RoleBinding: (o) => defaultSubjects(o),
  ClusterRoleBinding: (o) => defaultSubjects(o),
};

function defaultSubjects(o: KubeObject): void {
  for (const s of arr(o.subjects)) {
    if (!isObj(s)) continue;
    if (s.kind === 'User' || s.kind === 'Group') def(s, 'apiGroup', 'rbac.authorization.k8s.io');
    if (s.kind === 'ServiceAccount') def(s, 'apiGroup', '');
  }
}

/** A defaulted deep copy of `o` (the input is left untouched). */
export function applyDefaults(info: ResourceInfo, o: KubeObject): KubeObject {
  const copy = clone(o);
  if (!isObj(copy.metadata)) copy.metadata = {};
  DEFAULTERS[info.kind]?.(copy);
  return copy;
}
