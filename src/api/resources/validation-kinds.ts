// Per-kind validation of everything but the PodSpec: Services, ConfigMaps, Secrets, workloads,
// RBAC, Endpoints, Events, Nodes. Each function gets the whole object and returns its field errors.
import { duplicate, FieldPath, forbidden, invalid, notSupported, required, root, tooMany } from './field-errors.ts';
import { arr, isObj, num, obj, own, str, strMap, type Obj } from './json.ts';
import { isConfigMapKey, isDns1123Label, isDns1123Subdomain, isQualifiedName, isValidIp, isValidPortNum } from './names.ts';
import { labelSelectorFromObject, matchesLabels, SelectorError } from './selectors.ts';
import type { FieldError, KubeObject, LabelSelector } from './types.ts';
import { validateLabels, validatePodSpec, validatePortRef } from './validation-pod.ts';

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
/** ConfigMaps and Secrets live in the store and are sent to every node: Kubernetes' 1 MiB cap. */
export const MAX_DATA_BYTES = 1024 * 1024;

const spec = (o: KubeObject): Obj => obj(o.spec) ?? {};

function nameErrors(p: FieldPath, value: string, check: (v: string) => string[]): FieldError[] {
  return check(value).map((m) => invalid(p.path, value, m));
}

function nonNegativeInt(v: unknown, p: FieldPath): FieldError[] {
  if (v === undefined || v === null) return [];
  if (typeof v !== 'number' || !Number.isInteger(v)) return [invalid(p.path, v, 'must be an integer')];
  return v < 0 ? [invalid(p.path, v, 'must be greater than or equal to 0')] : [];
}

// ---- Service ----

export function validateService(o: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const s = spec(o);
  const p = root('spec');
  const type = s.type ?? 'ClusterIP';
  if (typeof type !== 'string' || !SERVICE_TYPES.includes(type)) errs.push(notSupported(p.child('type').path, type, SERVICE_TYPES));
  const clusterIP = str(s.clusterIP);
  const headless = clusterIP === 'None';
  if (clusterIP && !headless) errs.push(...nameErrors(p.child('clusterIP'), clusterIP, isValidIp));
  if (type === 'ExternalName') {
    const ext = str(s.externalName);
    if (!ext) errs.push(required(p.child('externalName').path));
    else errs.push(...nameErrors(p.child('externalName'), ext.replace(/\.$/, ''), isDns1123Subdomain));
    if (clusterIP && !headless) errs.push(forbidden(p.child('clusterIP').path, 'may not be set for ExternalName services'));
  }
  const ports = arr(s.ports);
  if (ports.length === 0 && type !== 'ExternalName' && !headless) errs.push(required(p.child('ports').path));
  const names = new Set<string>();
  const seen = new Set<string>();
  ports.forEach((raw, i) => {
    const port = obj(raw) ?? {};
    const pp = p.child('ports').index(i);
    const name = str(port.name) ?? '';
    if (ports.length > 1 && name === '') errs.push(required(pp.child('name').path));
    if (name) {
      errs.push(...nameErrors(pp.child('name'), name, isDns1123Label));
      if (names.has(name)) errs.push(duplicate(pp.child('name').path, name));
      names.add(name);
    }
    if (typeof port.port !== 'number') errs.push(port.port === undefined ? required(pp.child('port').path) : invalid(pp.child('port').path, port.port, 'must be an integer'));
    else errs.push(...isValidPortNum(port.port).map((m) => invalid(pp.child('port').path, port.port, m)));
    const protocol = port.protocol ?? 'TCP';
    if (typeof protocol !== 'string' || !PROTOCOLS.includes(protocol)) errs.push(notSupported(pp.child('protocol').path, protocol, PROTOCOLS));
    const key = `${String(port.port)}/${String(protocol)}`;
    if (seen.has(key)) errs.push(duplicate(pp.path, { port: port.port, protocol }));
    seen.add(key);
    if (port.targetPort !== undefined && port.targetPort !== 0 && port.targetPort !== '') errs.push(...validatePortRef(port.targetPort, pp.child('targetPort')));
    if (port.nodePort !== undefined && port.nodePort !== 0) {
      if (type !== 'NodePort' && type !== 'LoadBalancer') errs.push(forbidden(pp.child('nodePort').path, `may not be used when \`type\` is '${String(type)}'`));
      else if (typeof port.nodePort !== 'number') errs.push(invalid(pp.child('nodePort').path, port.nodePort, 'must be an integer'));
      else errs.push(...isValidPortNum(port.nodePort).map((m) => invalid(pp.child('nodePort').path, port.nodePort, m)));
    }
  });
  if (s.selector !== undefined) errs.push(...validateLabels(s.selector, p.child('selector')));
  const affinity = s.sessionAffinity;
  if (affinity !== undefined && affinity !== 'None' && affinity !== 'ClientIP') errs.push(notSupported(p.child('sessionAffinity').path, affinity, ['ClientIP', 'None']));
  return errs;
}

// ---- ConfigMap / Secret ----

function validateDataKeys(data: unknown, p: FieldPath, errs: FieldError[]): string[] {
  const keys: string[] = [];
  if (data === undefined || data === null) return keys;
  if (!isObj(data)) { errs.push(invalid(p.path, data, 'must be a map of string keys to string values')); return keys; }
  for (const [k, v] of Object.entries(data)) {
    errs.push(...nameErrors(p.key(k), k, isConfigMapKey));
    if (typeof v !== 'string') errs.push(invalid(p.key(k).path, v, 'must be a string'));
    keys.push(k);
  }
  return keys;
}

function dataBytes(...maps: unknown[]): number {
  let n = 0;
  for (const m of maps) for (const [k, v] of Object.entries(obj(m) ?? {})) n += Buffer.byteLength(k) + (typeof v === 'string' ? Buffer.byteLength(v) : 0);
  return n;
}

export function validateConfigMap(o: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const keys = new Set(validateDataKeys(o.data, root('data'), errs));
  for (const k of validateDataKeys(o.binaryData, root('binaryData'), errs)) {
    if (keys.has(k)) errs.push(invalid(root('data').key(k).path, k, 'duplicate of key present in binaryData'));
    const v = obj(o.binaryData)?.[k];
    if (typeof v === 'string' && !isBase64(v)) errs.push(invalid(root('binaryData').key(k).path, '<binary>', 'must be base64-encoded'));
  }
  if (dataBytes(o.data, o.binaryData) > MAX_DATA_BYTES) errs.push({ type: 'FieldValueTooLong', field: '', message: `Too long: must have at most ${MAX_DATA_BYTES} bytes` });
  return errs;
}

function isBase64(s: string): boolean {
  return /^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 === 0;
}

const SECRET_REQUIRED_KEYS: Record<string, string[]> = {
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
};

export function validateSecret(o: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const data = obj(o.data) ?? {};
  validateDataKeys(o.data, root('data'), errs);
  validateDataKeys(o.stringData, root('stringData'), errs);
  for (const [k, v] of Object.entries(data)) {
    if (typeof v === 'string' && !isBase64(v)) errs.push(invalid(root('data').key(k).path, '<secret contents redacted>', 'illegal base64 data'));
  }
  const type = str(o.type) ?? 'Opaque';
  const keys = new Set([...Object.keys(data), ...Object.keys(obj(o.stringData) ?? {})]);
  for (const k of own(SECRET_REQUIRED_KEYS, type) ?? []) if (!keys.has(k)) errs.push(required(root('data').key(k).path));
  if (type === 'kubernetes.io/basic-auth' && !keys.has('username') && !keys.has('password')) {
    errs.push(required(root('data').key('username').path));
  }
  if (type === 'kubernetes.io/service-account-token') {
    const sa = strMap(o.metadata.annotations)['kubernetes.io/service-account.name'];
    if (!sa) errs.push(required(root('metadata').child('annotations').key('kubernetes.io/service-account.name').path));
  }
  if (dataBytes(o.data, o.stringData) > MAX_DATA_BYTES) errs.push({ type: 'FieldValueTooLong', field: 'data', message: `Too long: must have at most ${MAX_DATA_BYTES} bytes` });
  return errs;
}

// ---- workloads ----

function validateSelectorAndTemplate(o: KubeObject, kindLabel: string, restartPolicies: readonly string[], selectorRequired: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const s = spec(o);
  const p = root('spec');
  const selector = obj(s.selector);
  const template = obj(s.template);
  const templateMeta = obj(template?.metadata) ?? {};
  const templateLabels = strMap(templateMeta.labels);
  if (!selector) {
    if (selectorRequired) errs.push(required(p.child('selector').path));
  } else {
    const ml = obj(selector.matchLabels);
    const me = arr(selector.matchExpressions);
    if ((!ml || Object.keys(ml).length === 0) && me.length === 0) {
      errs.push(invalid(p.child('selector').path, selector, `empty selector is invalid for ${kindLabel}`));
    }
    errs.push(...validateLabels(ml, p.child('selector').child('matchLabels')));
    try {
      const q = labelSelectorFromObject(selector as LabelSelector);
      if (template && !matchesLabels(q, templateLabels)) {
        errs.push(invalid(p.child('template').child('metadata').child('labels').path, templateLabels, '`selector` does not match template `labels`'));
      }
    } catch (e) {
      if (e instanceof SelectorError) errs.push(invalid(p.child('selector').path, selector, e.message));
      else throw e;
    }
  }
  if (!template) {
    errs.push(required(p.child('template').path));
    return errs;
  }
  errs.push(...validateLabels(templateMeta.labels, p.child('template').child('metadata').child('labels')));
  errs.push(...validatePodSpec(template.spec, p.child('template').child('spec'), { restartPolicies }));
  return errs;
}

function validateIntOrPercent(v: unknown, p: FieldPath): FieldError[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'number') return nonNegativeInt(v, p);
  if (typeof v === 'string') {
    const m = /^(\d+)%$/.exec(v);
    if (!m) return [invalid(p.path, v, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")];
    if (Number(m[1]) > 100 && p.path.endsWith('maxUnavailable')) return [invalid(p.path, v, 'must not be greater than 100%')];
    return [];
  }
  return [invalid(p.path, v, 'must be an integer or percentage (e.g \'5%\')')];
}

const isZero = (v: unknown): boolean => v === 0 || v === '0%';

export function validateDeployment(o: KubeObject): FieldError[] {
  const errs = validateSelectorAndTemplate(o, 'deployment', ['Always'], true);
  const s = spec(o);
  const p = root('spec');
  errs.push(...nonNegativeInt(s.replicas, p.child('replicas')));
  errs.push(...nonNegativeInt(s.revisionHistoryLimit, p.child('revisionHistoryLimit')));
  errs.push(...nonNegativeInt(s.minReadySeconds, p.child('minReadySeconds')));
  const strategy = obj(s.strategy);
  if (strategy) {
    const sp = p.child('strategy');
    const type = strategy.type;
    if (type !== undefined && type !== 'RollingUpdate' && type !== 'Recreate') errs.push(notSupported(sp.child('type').path, type, ['Recreate', 'RollingUpdate']));
    const ru = obj(strategy.rollingUpdate);
    if (type === 'Recreate' && ru) errs.push(forbidden(sp.child('rollingUpdate').path, 'may not be specified when strategy `type` is \'Recreate\''));
    if (ru) {
      const rp = sp.child('rollingUpdate');
      errs.push(...validateIntOrPercent(ru.maxUnavailable, rp.child('maxUnavailable')));
      errs.push(...validateIntOrPercent(ru.maxSurge, rp.child('maxSurge')));
      if (isZero(ru.maxUnavailable) && isZero(ru.maxSurge)) errs.push(invalid(rp.child('maxUnavailable').path, ru.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
    }
  }
  const pds = num(s.progressDeadlineSeconds);
  if (s.progressDeadlineSeconds !== undefined) {
    errs.push(...nonNegativeInt(s.progressDeadlineSeconds, p.child('progressDeadlineSeconds')));
    const mrs = num(s.minReadySeconds) ?? 0;
    if (pds !== undefined && pds <= mrs) errs.push(invalid(p.child('progressDeadlineSeconds').path, pds, 'must be greater than minReadySeconds'));
  }
  return errs;
}

export function validateReplicaSet(o: KubeObject): FieldError[] {
  const errs = validateSelectorAndTemplate(o, 'replicaset', ['Always'], true);
  errs.push(...nonNegativeInt(spec(o).replicas, root('spec').child('replicas')));
  errs.push(...nonNegativeInt(spec(o).minReadySeconds, root('spec').child('minReadySeconds')));
  return errs;
}

export function validateDaemonSet(o: KubeObject): FieldError[] {
  const errs = validateSelectorAndTemplate(o, 'daemonset', ['Always'], true);
  const s = spec(o);
  const us = obj(s.updateStrategy);
  if (us) {
    const up = root('spec').child('updateStrategy');
    if (us.type !== undefined && us.type !== 'RollingUpdate' && us.type !== 'OnDelete') errs.push(notSupported(up.child('type').path, us.type, ['OnDelete', 'RollingUpdate']));
    const ru = obj(us.rollingUpdate);
    if (ru) {
      errs.push(...validateIntOrPercent(ru.maxUnavailable, up.child('rollingUpdate').child('maxUnavailable')));
      errs.push(...validateIntOrPercent(ru.maxSurge, up.child('rollingUpdate').child('maxSurge')));
    }
  }
  return errs;
}

export function validateJob(o: KubeObject): FieldError[] {
  const s = spec(o);
  const p = root('spec');
  // The server generates a Job's selector (strategy), so it is only required when set manually.
  const errs = validateSelectorAndTemplate(o, 'job', ['OnFailure', 'Never'], s.manualSelector === true);
  for (const f of ['parallelism', 'completions', 'backoffLimit', 'ttlSecondsAfterFinished']) errs.push(...nonNegativeInt(s[f], p.child(f)));
  if (s.activeDeadlineSeconds !== undefined) {
    const ads = s.activeDeadlineSeconds;
    if (typeof ads !== 'number' || !Number.isInteger(ads) || ads <= 0) errs.push(invalid(p.child('activeDeadlineSeconds').path, ads, 'must be greater than 0'));
  }
  const mode = s.completionMode;
  if (mode !== undefined && mode !== 'NonIndexed' && mode !== 'Indexed') errs.push(notSupported(p.child('completionMode').path, mode, ['NonIndexed', 'Indexed']));
  if (mode === 'Indexed' && s.completions === undefined) errs.push(required(p.child('completions').path, 'when completion mode is Indexed'));
  return errs;
}

// ---- RBAC ----

function validateRules(o: KubeObject, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  arr(o.rules).forEach((raw, i) => {
    const r = obj(raw) ?? {};
    const rp = root('rules').index(i);
    if (arr(r.verbs).length === 0) errs.push(required(rp.child('verbs').path, 'verbs must contain at least one value'));
    const urls = arr(r.nonResourceURLs);
    if (urls.length > 0) {
      if (namespaced) errs.push(invalid(rp.child('nonResourceURLs').path, urls, 'namespaced rules cannot apply to non-resource URLs'));
      else if (arr(r.apiGroups).length > 0 || arr(r.resources).length > 0 || arr(r.resourceNames).length > 0) {
        errs.push(invalid(rp.child('nonResourceURLs').path, urls, 'rules cannot apply to both regular resources and non-resource URLs'));
      }
      return;
    }
    if (arr(r.apiGroups).length === 0) errs.push(required(rp.child('apiGroups').path, 'resource rules must supply at least one api group'));
    if (arr(r.resources).length === 0) errs.push(required(rp.child('resources').path, 'resource rules must supply at least one resource'));
  });
  return errs;
}

export const validateRole = (o: KubeObject): FieldError[] => validateRules(o, true);
export const validateClusterRole = (o: KubeObject): FieldError[] => validateRules(o, false);

const RBAC_GROUP = 'rbac.authorization.k8s.io';

function validateBinding(o: KubeObject, clusterScoped: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const ref = obj(o.roleRef);
  const rp = root('roleRef');
  if (!ref) errs.push(required(rp.path));
  else {
    if (ref.apiGroup !== RBAC_GROUP) errs.push(notSupported(rp.child('apiGroup').path, ref.apiGroup ?? '', [RBAC_GROUP]));
    const kinds = clusterScoped ? ['ClusterRole'] : ['Role', 'ClusterRole'];
    if (typeof ref.kind !== 'string' || !kinds.includes(ref.kind)) errs.push(notSupported(rp.child('kind').path, ref.kind ?? '', kinds));
    if (!str(ref.name)) errs.push(required(rp.child('name').path));
  }
  arr(o.subjects).forEach((raw, i) => {
    const s = obj(raw) ?? {};
    const sp = root('subjects').index(i);
    const name = str(s.name);
    if (!name) errs.push(required(sp.child('name').path));
    switch (s.kind) {
      case 'ServiceAccount':
        if (s.apiGroup !== undefined && s.apiGroup !== '') errs.push(notSupported(sp.child('apiGroup').path, s.apiGroup, ['']));
        if (name) errs.push(...nameErrors(sp.child('name'), name, isDns1123Subdomain));
        if (clusterScoped && !str(s.namespace)) errs.push(required(sp.child('namespace').path));
        break;
      case 'User':
      case 'Group':
        if (s.apiGroup !== RBAC_GROUP) errs.push(notSupported(sp.child('apiGroup').path, s.apiGroup ?? '', [RBAC_GROUP]));
        break;
      default:
        errs.push(notSupported(sp.child('kind').path, s.kind ?? '', ['ServiceAccount', 'User', 'Group']));
    }
  });
  return errs;
}

export const validateRoleBinding = (o: KubeObject): FieldError[] => validateBinding(o, false);
export const validateClusterRoleBinding = (o: KubeObject): FieldError[] => validateBinding(o, true);

// ---- Endpoints, Event, Node, Namespace ----

export function validateEndpoints(o: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  arr(o.subsets).forEach((raw, i) => {
    const ss = obj(raw) ?? {};
    const sp = root('subsets').index(i);
    for (const field of ['addresses', 'notReadyAddresses']) {
      arr(ss[field]).forEach((a, j) => {
        const ap = sp.child(field).index(j);
        const ip = str(obj(a)?.ip);
        if (!ip) errs.push(required(ap.child('ip').path));
        else errs.push(...nameErrors(ap.child('ip'), ip, isValidIp));
      });
    }
    const ports = arr(ss.ports);
    ports.forEach((pr, j) => {
      const port = obj(pr) ?? {};
      const pp = sp.child('ports').index(j);
      const name = str(port.name) ?? '';
      if (ports.length > 1 && !name) errs.push(required(pp.child('name').path));
      if (name) errs.push(...nameErrors(pp.child('name'), name, isDns1123Label));
      if (typeof port.port !== 'number') errs.push(required(pp.child('port').path));
      else errs.push(...isValidPortNum(port.port).map((m) => invalid(pp.child('port').path, port.port, m)));
      if (port.protocol !== undefined && (typeof port.protocol !== 'string' || !PROTOCOLS.includes(port.protocol))) errs.push(notSupported(pp.child('protocol').path, port.protocol, PROTOCOLS));
    });
  });
  return errs;
}

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
/** Kubernetes' caps on one EndpointSlice. */
const MAX_SLICE_ENDPOINTS = 1000;
const MAX_SLICE_PORTS = 20000;
const MAX_ENDPOINT_ADDRESSES = 100;

export function validateEndpointSlice(o: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const type = o.addressType;
  if (type === undefined || type === '') errs.push(required('addressType'));
  else if (typeof type !== 'string' || !ADDRESS_TYPES.includes(type)) errs.push(notSupported('addressType', type, ADDRESS_TYPES));
  const endpoints = arr(o.endpoints);
  if (endpoints.length > MAX_SLICE_ENDPOINTS) errs.push(tooMany('endpoints', endpoints.length, MAX_SLICE_ENDPOINTS));
  endpoints.forEach((raw, i) => {
    const ep = obj(raw) ?? {};
    const p = root('endpoints').index(i);
    const addresses = arr(ep.addresses);
    if (addresses.length === 0) errs.push(required(p.child('addresses').path, 'must contain at least 1 address'));
    else if (addresses.length > MAX_ENDPOINT_ADDRESSES) errs.push(tooMany(p.child('addresses').path, addresses.length, MAX_ENDPOINT_ADDRESSES));
    addresses.forEach((a, j) => {
      const ap = p.child('addresses').index(j);
      if (typeof a !== 'string') errs.push(invalid(ap.path, a, 'must be a string'));
      else if (type === 'IPv4' || type === 'IPv6') errs.push(...nameErrors(ap, a, isValidIp));
      else if (type === 'FQDN') errs.push(...nameErrors(ap, a, isDns1123Subdomain));
    });
    const nodeName = str(ep.nodeName);
    if (nodeName) errs.push(...nameErrors(p.child('nodeName'), nodeName, isDns1123Subdomain));
  });
  const ports = arr(o.ports);
  if (ports.length > MAX_SLICE_PORTS) errs.push(tooMany('ports', ports.length, MAX_SLICE_PORTS));
  const names = new Set<string>();
  ports.forEach((raw, i) => {
    const port = obj(raw) ?? {};
    const pp = root('ports').index(i);
    const name = str(port.name) ?? '';
    if (name) errs.push(...nameErrors(pp.child('name'), name, isDns1123Label));
    if (names.has(name)) errs.push(duplicate(pp.child('name').path, name));
    names.add(name);
    if (port.port !== undefined && port.port !== null) {
      if (typeof port.port !== 'number') errs.push(invalid(pp.child('port').path, port.port, 'must be an integer'));
      else errs.push(...isValidPortNum(port.port).map((m) => invalid(pp.child('port').path, port.port, m)));
    }
    if (port.protocol !== undefined && (typeof port.protocol !== 'string' || !PROTOCOLS.includes(port.protocol))) errs.push(notSupported(pp.child('protocol').path, port.protocol, PROTOCOLS));
  });
  return errs;
}

export function validateEvent(o: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const involved = obj(o.involvedObject);
  if (!involved) return [required('involvedObject')];
  const ns = str(involved.namespace);
  if (ns && o.metadata.namespace && ns !== o.metadata.namespace) errs.push(invalid('involvedObject.namespace', ns, 'does not match event.namespace'));
  if (o.type !== undefined && o.type !== 'Normal' && o.type !== 'Warning') errs.push(notSupported('type', o.type, ['Normal', 'Warning']));
  return errs;
}

export function validateNode(o: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  arr(spec(o).taints).forEach((raw, i) => {
    const t = obj(raw) ?? {};
    const tp = root('spec').child('taints').index(i);
    const key = str(t.key);
    if (!key) errs.push(required(tp.child('key').path));
    else errs.push(...nameErrors(tp.child('key'), key, isQualifiedName));
    if (!t.effect) errs.push(required(tp.child('effect').path));
    else if (typeof t.effect !== 'string' || !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(t.effect)) {
      errs.push(notSupported(tp.child('effect').path, t.effect, ['NoSchedule', 'PreferNoSchedule', 'NoExecute']));
    }
  });
  return errs;
}

export function validateNamespace(o: KubeObject): FieldError[] {
  const finalizers = arr(spec(o).finalizers);
  const errs: FieldError[] = [];
  finalizers.forEach((f, i) => {
    if (typeof f !== 'string') errs.push(invalid(root('spec').child('finalizers').index(i).path, f, 'must be a string'));
    else errs.push(...nameErrors(root('spec').child('finalizers').index(i), f, isQualifiedName));
  });
  return errs;
}
