// Validation of a PodSpec (also the template of Deployments, ReplicaSets, DaemonSets and Jobs),
// with Kubernetes' rules and field paths.
import { duplicate, FieldPath, forbidden, invalid, notSupported, required } from './field-errors.ts';
import { arr, isObj, num, obj, str, type Obj } from './json.ts';
import { isConfigMapKey, isDns1123Label, isDns1123Subdomain, isEnvVarName, isQualifiedName, isValidLabelValue, isValidPortName, isValidPortNum } from './names.ts';
import { parseQuantity, QUANTITY_MESSAGE } from './quantity.ts';
import type { FieldError } from './types.ts';

export const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'] as const;
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const TERMINATION_MESSAGE_POLICIES = ['File', 'FallbackToLogsOnError'];
const VOLUME_SOURCES = ['hostPath', 'emptyDir', 'secret', 'configMap', 'persistentVolumeClaim', 'downwardAPI', 'projected',
  'nfs', 'iscsi', 'gitRepo', 'csi', 'ephemeral', 'image', 'glusterfs', 'rbd', 'cephfs', 'fc', 'flexVolume', 'azureFile',
  'azureDisk', 'vsphereVolume', 'quobyte', 'photonPersistentDisk', 'portworxVolume', 'scaleIO', 'storageos',
  'gcePersistentDisk', 'awsElasticBlockStore', 'cinder', 'flocker'];
const TOLERATION_OPERATORS = ['Equal', 'Exists'];
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

function nameErrors(p: FieldPath, value: string, check: (v: string) => string[]): FieldError[] {
  return check(value).map((m) => invalid(p.path, value, m));
}

export function validateLabels(labels: unknown, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (labels === undefined || labels === null) return errs;
  if (!isObj(labels)) return [invalid(p.path, labels, 'must be a map of string keys to string values')];
  for (const [k, v] of Object.entries(labels)) {
    errs.push(...nameErrors(p, k, isQualifiedName));
    if (typeof v !== 'string') errs.push(invalid(p.key(k).path, v, 'must be a string'));
    else errs.push(...nameErrors(p, v, isValidLabelValue));
  }
  return errs;
}

function nonNegative(v: unknown, p: FieldPath): FieldError[] {
  if (v === undefined || v === null) return [];
  if (typeof v !== 'number' || !Number.isInteger(v)) return [invalid(p.path, v, 'must be an integer')];
  return v < 0 ? [invalid(p.path, v, 'must be greater than or equal to 0')] : [];
}

function positive(v: unknown, p: FieldPath): FieldError[] {
  if (v === undefined || v === null) return [];
  if (typeof v !== 'number' || !Number.isInteger(v)) return [invalid(p.path, v, 'must be an integer')];
  return v <= 0 ? [invalid(p.path, v, 'must be greater than 0')] : [];
}

function supported(v: unknown, p: FieldPath, values: readonly string[], isRequired: boolean): FieldError[] {
  if (v === undefined || v === null || v === '') return isRequired ? [required(p.path)] : [];
  return typeof v === 'string' && values.includes(v) ? [] : [notSupported(p.path, v, values)];
}

function validateResources(res: unknown, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const r = obj(res);
  if (!r) return errs;
  const parsed: Record<'limits' | 'requests', Record<string, number>> = { limits: {}, requests: {} };
  for (const kind of ['limits', 'requests'] as const) {
    const m = obj(r[kind]);
    if (!m) continue;
    for (const [name, q] of Object.entries(m)) {
      const kp = p.child(kind).key(name);
      const value = parseQuantity(q);
      if (value === undefined) errs.push(invalid(kp.path, q, QUANTITY_MESSAGE));
      else if (value < 0) errs.push(invalid(kp.path, q, 'must be greater than or equal to 0'));
      else parsed[kind][name] = value;
      if (!name.includes('/') && !['cpu', 'memory', 'ephemeral-storage', 'pods'].includes(name) && !name.startsWith('hugepages-')) {
        errs.push(invalid(kp.path, name, 'must be a standard resource type or fully qualified'));
      }
    }
  }
  for (const [name, req] of Object.entries(parsed.requests)) {
    const limit = parsed.limits[name];
    if (limit !== undefined && req > limit) {
      const limitsObj = obj(r.limits) ?? {};
      errs.push(invalid(p.child('requests').path, obj(r.requests)?.[name], `must be less than or equal to ${name} limit of ${String(limitsObj[name])}`));
    }
  }
  return errs;
}

function validateProbe(probe: unknown, p: FieldPath): FieldError[] {
  const pr = obj(probe);
  if (!pr) return [];
  const errs: FieldError[] = [];
  const handlers = ['exec', 'httpGet', 'tcpSocket', 'grpc'].filter((h) => pr[h] !== undefined && pr[h] !== null);
  if (handlers.length === 0) errs.push(required(p.path, 'must specify a handler type'));
  else if (handlers.length > 1) errs.push(forbidden(p.child(handlers[1] ?? '').path, 'may not specify more than 1 handler type'));
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
    errs.push(...nonNegative(pr[f], p.child(f)));
  }
  const http = obj(pr.httpGet);
  if (http) errs.push(...validatePortRef(http.port, p.child('httpGet').child('port')));
  const tcp = obj(pr.tcpSocket);
  if (tcp) errs.push(...validatePortRef(tcp.port, p.child('tcpSocket').child('port')));
  const exec = obj(pr.exec);
  if (exec && arr(exec.command).length === 0) errs.push(required(p.child('exec').child('command').path));
  return errs;
}

/** A port given as a number or as a named port (probes, targetPort). */
export function validatePortRef(port: unknown, p: FieldPath): FieldError[] {
  if (port === undefined || port === null || port === '') return [required(p.path)];
  if (typeof port === 'number') return isValidPortNum(port).map((m) => invalid(p.path, port, m));
  if (typeof port === 'string') {
    if (/^\d+$/.test(port)) return isValidPortNum(Number(port)).map((m) => invalid(p.path, port, m));
    return isValidPortName(port).map((m) => invalid(p.path, port, m));
  }
  return [invalid(p.path, port, 'must be an integer or a string')];
}

function validateEnv(env: unknown, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  arr(env).forEach((raw, i) => {
    const ep = p.index(i);
    const e = obj(raw) ?? {};
    const name = str(e.name);
    if (!name) errs.push(required(ep.child('name').path));
    else errs.push(...nameErrors(ep.child('name'), name, isEnvVarName));
    const from = obj(e.valueFrom);
    if (from) {
      const sources = ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef'].filter((s) => from[s] !== undefined && from[s] !== null);
      if (sources.length === 0) errs.push(invalid(ep.child('valueFrom').path, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
      else if (sources.length > 1) errs.push(invalid(ep.child('valueFrom').path, '', 'may not have more than one field specified at a time'));
      if (e.value !== undefined && e.value !== '' && sources.length > 0) errs.push(invalid(ep.child('valueFrom').path, '', 'may not be specified when `value` is not empty'));
      for (const ref of ['configMapKeyRef', 'secretKeyRef']) {
        const r = obj(from[ref]);
        if (!r) continue;
        const rp = ep.child('valueFrom').child(ref);
        const key = str(r.key);
        if (!key) errs.push(required(rp.child('key').path));
        else errs.push(...nameErrors(rp.child('key'), key, isConfigMapKey));
        if (!str(r.name)) errs.push(required(rp.child('name').path));
      }
      const fieldRef = obj(from.fieldRef);
      if (fieldRef && !str(fieldRef.fieldPath)) errs.push(required(ep.child('valueFrom').child('fieldRef').child('fieldPath').path));
    }
  });
  return errs;
}

function validateContainer(c: Obj, p: FieldPath, volumes: Set<string>, hostNetwork: boolean, isInit: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const image = c.image;
  if (typeof image !== 'string' || image.trim() === '') errs.push(required(p.child('image').path));
  else if (image !== image.trim()) errs.push(invalid(p.child('image').path, image, 'must not have leading or trailing whitespace'));
  errs.push(...supported(c.imagePullPolicy, p.child('imagePullPolicy'), PULL_POLICIES, false));
  errs.push(...supported(c.terminationMessagePolicy, p.child('terminationMessagePolicy'), TERMINATION_MESSAGE_POLICIES, false));
  const portNames = new Set<string>();
  arr(c.ports).forEach((raw, i) => {
    const pp = p.child('ports').index(i);
    const port = obj(raw) ?? {};
    const name = str(port.name);
    if (name !== undefined && name !== '') {
      errs.push(...nameErrors(pp.child('name'), name, isValidPortName));
      if (portNames.has(name)) errs.push(duplicate(pp.child('name').path, name));
      portNames.add(name);
    }
    if (port.containerPort === undefined || port.containerPort === 0) errs.push(required(pp.child('containerPort').path));
    else if (typeof port.containerPort !== 'number') errs.push(invalid(pp.child('containerPort').path, port.containerPort, 'must be an integer'));
    else errs.push(...isValidPortNum(port.containerPort).map((m) => invalid(pp.child('containerPort').path, port.containerPort, m)));
    if (port.hostPort !== undefined && port.hostPort !== 0) {
      if (typeof port.hostPort !== 'number') errs.push(invalid(pp.child('hostPort').path, port.hostPort, 'must be an integer'));
      else {
        errs.push(...isValidPortNum(port.hostPort).map((m) => invalid(pp.child('hostPort').path, port.hostPort, m)));
        if (hostNetwork && port.hostPort !== port.containerPort) errs.push(invalid(pp.child('containerPort').path, port.containerPort, 'must match `hostPort` when `hostNetwork` is true'));
      }
    }
    errs.push(...supported(port.protocol, pp.child('protocol'), PROTOCOLS, false));
  });
  errs.push(...validateEnv(c.env, p.child('env')));
  arr(c.envFrom).forEach((raw, i) => {
    const ef = obj(raw) ?? {};
    const ep = p.child('envFrom').index(i);
    const sources = ['configMapRef', 'secretRef'].filter((s) => ef[s] !== undefined && ef[s] !== null);
    if (sources.length !== 1) errs.push(invalid(ep.path, '', 'must specify one of: `configMapRef` or `secretRef`'));
    const prefix = str(ef.prefix);
    if (prefix) errs.push(...nameErrors(ep.child('prefix'), prefix, isEnvVarName));
  });
  const mountPaths = new Set<string>();
  arr(c.volumeMounts).forEach((raw, i) => {
    const vm = obj(raw) ?? {};
    const mp = p.child('volumeMounts').index(i);
    const name = str(vm.name);
    if (!name) errs.push(required(mp.child('name').path));
    else if (!volumes.has(name)) errs.push({ type: 'FieldValueNotFound', field: mp.child('name').path, message: `Not found: ${JSON.stringify(name)}` });
    const mountPath = str(vm.mountPath);
    if (!mountPath) errs.push(required(mp.child('mountPath').path));
    else {
      if (mountPaths.has(mountPath)) errs.push(invalid(mp.child('mountPath').path, mountPath, 'must be unique'));
      mountPaths.add(mountPath);
    }
  });
  errs.push(...validateResources(c.resources, p.child('resources')));
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    if (isInit && c[probe] !== undefined && c.restartPolicy !== 'Always') errs.push(forbidden(p.child(probe).path, 'may not be set for init containers without restartPolicy=Always'));
    else errs.push(...validateProbe(c[probe], p.child(probe)));
  }
  const lp = obj(c.livenessProbe);
  if (lp && typeof lp.successThreshold === 'number' && lp.successThreshold !== 1) errs.push(invalid(p.child('livenessProbe').child('successThreshold').path, lp.successThreshold, 'must be 1'));
  if (isInit && c.restartPolicy !== undefined && c.restartPolicy !== 'Always') errs.push(notSupported(p.child('restartPolicy').path, c.restartPolicy, ['Always']));
  if (!isInit && c.restartPolicy !== undefined) errs.push(forbidden(p.child('restartPolicy').path, 'may not be set for non-init containers'));
  return errs;
}

function validateVolumes(volumes: unknown, p: FieldPath): { errs: FieldError[]; names: Set<string> } {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  arr(volumes).forEach((raw, i) => {
    const v = obj(raw) ?? {};
    const vp = p.index(i);
    const name = str(v.name);
    if (!name) errs.push(required(vp.child('name').path));
    else {
      errs.push(...nameErrors(vp.child('name'), name, isDns1123Label));
      if (names.has(name)) errs.push(duplicate(vp.child('name').path, name));
      names.add(name);
    }
    const sources = VOLUME_SOURCES.filter((s) => v[s] !== undefined && v[s] !== null);
    if (sources.length === 0) errs.push(required(vp.path, 'must specify a volume type'));
    else if (sources.length > 1) errs.push(forbidden(vp.child(sources[1] ?? '').path, 'may not specify more than 1 volume type'));
    const hostPath = obj(v.hostPath);
    if (hostPath && !str(hostPath.path)) errs.push(required(vp.child('hostPath').child('path').path));
    const emptyDir = obj(v.emptyDir);
    if (emptyDir) {
      errs.push(...supported(emptyDir.medium, vp.child('emptyDir').child('medium'), ['', 'Memory', 'HugePages'], false));
      if (emptyDir.sizeLimit !== undefined && parseQuantity(emptyDir.sizeLimit) === undefined) errs.push(invalid(vp.child('emptyDir').child('sizeLimit').path, emptyDir.sizeLimit, QUANTITY_MESSAGE));
    }
    for (const [src, nameField] of [['configMap', 'name'], ['secret', 'secretName']] as const) {
      const s = obj(v[src]);
      if (!s) continue;
      const sp = vp.child(src);
      const ref = str(s[nameField]);
      if (src === 'secret' && !ref) errs.push(required(sp.child('secretName').path));
      else if (ref) errs.push(...nameErrors(sp.child(nameField), ref, isDns1123Subdomain));
      arr(s.items).forEach((it, j) => {
        const item = obj(it) ?? {};
        const ip = sp.child('items').index(j);
        if (!str(item.key)) errs.push(required(ip.child('key').path));
        const path = str(item.path);
        if (!path) errs.push(required(ip.child('path').path));
        else if (path.startsWith('/')) errs.push(invalid(ip.child('path').path, path, 'must be a relative path'));
        else if (path.split('/').includes('..')) errs.push(invalid(ip.child('path').path, path, "must not contain '..'"));
      });
      if (s.defaultMode !== undefined && (typeof s.defaultMode !== 'number' || s.defaultMode < 0 || s.defaultMode > 0o777)) {
        errs.push(invalid(sp.child('defaultMode').path, s.defaultMode, 'must be a number between 0 and 0777 (octal), both inclusive'));
      }
    }
    const pvc = obj(v.persistentVolumeClaim);
    if (pvc && !str(pvc.claimName)) errs.push(required(vp.child('persistentVolumeClaim').child('claimName').path));
  });
  return { errs, names };
}

function validateTolerations(tolerations: unknown, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  arr(tolerations).forEach((raw, i) => {
    const t = obj(raw) ?? {};
    const tp = p.index(i);
    const key = str(t.key) ?? '';
    if (key) errs.push(...nameErrors(tp.child('key'), key, isQualifiedName));
    errs.push(...supported(t.operator, tp.child('operator'), TOLERATION_OPERATORS, false));
    if (!key && t.operator !== 'Exists') errs.push(invalid(tp.child('operator').path, t.operator ?? '', 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    if (t.operator === 'Exists' && t.value !== undefined && t.value !== '') errs.push(invalid(tp.child('operator').path, t.value, 'value must be empty when `operator` is \'Exists\''));
    errs.push(...supported(t.effect, tp.child('effect'), TAINT_EFFECTS, false));
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute') errs.push(invalid(tp.child('effect').path, t.effect ?? '', 'effect must be \'NoExecute\' when `tolerationSeconds` is set'));
  });
  return errs;
}

export interface PodSpecOptions {
  /** Restart policies allowed here (a Deployment's template: only Always). */
  restartPolicies?: readonly string[];
}

export function validatePodSpec(specRaw: unknown, p: FieldPath, opts: PodSpecOptions = {}): FieldError[] {
  const spec = obj(specRaw);
  if (!spec) return [required(p.child('containers').path)];
  const errs: FieldError[] = [];
  const { errs: volErrs, names: volumes } = validateVolumes(spec.volumes, p.child('volumes'));
  errs.push(...volErrs);
  const hostNetwork = spec.hostNetwork === true;
  const containerNames = new Set<string>();
  const checkName = (c: Obj, cp: FieldPath): void => {
    const name = str(c.name);
    if (!name) { errs.push(required(cp.child('name').path)); return; }
    errs.push(...nameErrors(cp.child('name'), name, isDns1123Label));
    if (containerNames.has(name)) errs.push(duplicate(cp.child('name').path, name));
    containerNames.add(name);
  };
  arr(spec.initContainers).forEach((raw, i) => {
    const c = obj(raw) ?? {};
    const cp = p.child('initContainers').index(i);
    checkName(c, cp);
    errs.push(...validateContainer(c, cp, volumes, hostNetwork, true));
  });
  const containers = arr(spec.containers);
  if (containers.length === 0) errs.push(required(p.child('containers').path));
  containers.forEach((raw, i) => {
    const c = obj(raw) ?? {};
    const cp = p.child('containers').index(i);
    checkName(c, cp);
    errs.push(...validateContainer(c, cp, volumes, hostNetwork, false));
  });
  const allowedRestart = opts.restartPolicies ?? RESTART_POLICIES;
  errs.push(...supported(spec.restartPolicy, p.child('restartPolicy'), allowedRestart, opts.restartPolicies !== undefined));
  errs.push(...supported(spec.dnsPolicy, p.child('dnsPolicy'), DNS_POLICIES, false));
  if (spec.dnsPolicy === 'None' && !obj(spec.dnsConfig)) errs.push(required(p.child('dnsConfig').path, 'must provide `dnsConfig` when `dnsPolicy` is None'));
  errs.push(...validateLabels(spec.nodeSelector, p.child('nodeSelector')));
  errs.push(...nonNegative(spec.terminationGracePeriodSeconds, p.child('terminationGracePeriodSeconds')));
  errs.push(...positive(spec.activeDeadlineSeconds, p.child('activeDeadlineSeconds')));
  const nodeName = str(spec.nodeName);
  if (nodeName) errs.push(...nameErrors(p.child('nodeName'), nodeName, isDns1123Subdomain));
  const sa = str(spec.serviceAccountName);
  if (sa) errs.push(...nameErrors(p.child('serviceAccountName'), sa, isDns1123Subdomain));
  const hostname = str(spec.hostname);
  if (hostname) errs.push(...nameErrors(p.child('hostname'), hostname, isDns1123Label));
  errs.push(...validateTolerations(spec.tolerations, p.child('tolerations')));
  if (spec.priority !== undefined && num(spec.priority) === undefined) errs.push(invalid(p.child('priority').path, spec.priority, 'must be an integer'));
  return errs;
}
