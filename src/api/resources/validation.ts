// Entry points of validation: metadata rules shared by all kinds, the per-kind rules, the rules of
// an update (immutable fields), and the 422 Status that carries the errors to the client.
import type { ResourceInfo } from './catalog.ts';
import { fieldErrorString, FieldPath, forbidden, immutable, invalid, required, root, tooLong } from './field-errors.ts';
import { arr, deepEqual, isObj, obj, str, type Obj } from './json.ts';
import { isDns1123Label, isQualifiedName, validateObjectName, type NameRule } from './names.ts';
import type { FieldError, KubeObject, Status } from './types.ts';
import * as kinds from './validation-kinds.ts';
import { validateLabels, validatePodSpec } from './validation-pod.ts';

import { typeErrors } from './schema.ts';

export { typeErrors, unknownFields } from './schema.ts';

/** Kubernetes' cap on the total size of an object's annotations. */
export const MAX_ANNOTATIONS_BYTES = 256 * 1024;

const NAME_RULES: Record<string, NameRule> = {
  Namespace: 'label',
  Service: 'dns1035',
  Role: 'path-segment',
  RoleBinding: 'path-segment',
  ClusterRole: 'path-segment',
  ClusterRoleBinding: 'path-segment',
};

export function nameRule(info: ResourceInfo): NameRule {
  return NAME_RULES[info.kind] ?? 'subdomain';
}

/** Problems with an object name for this kind (also used for names in URLs). Empty = valid. */
export function validateName(info: ResourceInfo, name: string): string[] {
  return validateObjectName(name, nameRule(info));
}

function validateMeta(info: ResourceInfo, o: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const p = root('metadata');
  const m = o.metadata;
  if (!isObj(m)) return [required(p.path)];
  const name = m.name;
  const generateName = m.generateName;
  if (name === undefined || name === '') {
    if (!generateName) errs.push(required(p.child('name').path, 'name or generateName is required'));
  } else if (typeof name !== 'string') {
    errs.push(invalid(p.child('name').path, name, 'must be a string'));
  } else {
    errs.push(...validateName(info, name).map((msg) => invalid(p.child('name').path, name, msg)));
  }
  if (typeof generateName === 'string' && generateName !== '') {
    // The server appends 5 characters; the prefix itself must be a valid start of a name.
    const probe = `${generateName.replace(/-$/, '')}a`;
    errs.push(...validateName(info, probe).map((msg) => invalid(p.child('generateName').path, generateName, msg)));
  }
  const ns = m.namespace;
  if (info.namespaced) {
    if (ns === undefined || ns === '') errs.push(required(p.child('namespace').path));
    else if (typeof ns !== 'string') errs.push(invalid(p.child('namespace').path, ns, 'must be a string'));
    else errs.push(...isDns1123Label(ns).map((msg) => invalid(p.child('namespace').path, ns, msg)));
  } else if (ns !== undefined && ns !== '') {
    errs.push(forbidden(p.child('namespace').path, 'not allowed on this type'));
  }
  errs.push(...validateLabels(m.labels, p.child('labels')));
  errs.push(...validateAnnotations(m.annotations, p.child('annotations')));
  errs.push(...validateOwnerReferences(m.ownerReferences, p.child('ownerReferences')));
  arr(m.finalizers).forEach((f, i) => {
    const fp = p.child('finalizers').index(i);
    if (typeof f !== 'string') errs.push(invalid(fp.path, f, 'must be a string'));
    else errs.push(...isQualifiedName(f).map((msg) => invalid(fp.path, f, msg)));
  });
  if (m.generation !== undefined && (typeof m.generation !== 'number' || m.generation < 0)) {
    errs.push(invalid(p.child('generation').path, m.generation, 'must be greater than or equal to 0'));
  }
  return errs;
}

function validateAnnotations(annotations: unknown, p: FieldPath): FieldError[] {
  if (annotations === undefined || annotations === null) return [];
  if (!isObj(annotations)) return [invalid(p.path, annotations, 'must be a map of string keys to string values')];
  const errs: FieldError[] = [];
  let bytes = 0;
  for (const [k, v] of Object.entries(annotations)) {
    errs.push(...isQualifiedName(k.toLowerCase()).map((msg) => invalid(p.path, k, msg)));
    if (typeof v !== 'string') errs.push(invalid(p.key(k).path, v, 'must be a string'));
    else bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (bytes > MAX_ANNOTATIONS_BYTES) errs.push({ ...tooLong(p.path, MAX_ANNOTATIONS_BYTES), message: `Too long: must have at most ${MAX_ANNOTATIONS_BYTES} bytes` });
  return errs;
}

function validateOwnerReferences(refs: unknown, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const controllers: string[] = [];
  arr(refs).forEach((raw, i) => {
    const r = obj(raw) ?? {};
    const rp = p.index(i);
    for (const f of ['apiVersion', 'kind', 'name', 'uid']) if (!str(r[f])) errs.push(required(rp.child(f).path));
    if (r.controller === true) controllers.push(`${String(r.kind)}/${String(r.name)}`);
  });
  // One error per extra controller, each naming the first one, as Kubernetes reports them.
  for (const extra of controllers.slice(1)) {
    errs.push(invalid(p.path, refs, `Only one reference can have Controller set to true. Found "true" in references for ${controllers[0] ?? ''} and ${extra}`));
  }
  return errs;
}

type KindValidator = (o: KubeObject) => FieldError[];

const podValidator: KindValidator = (o) => validatePodSpec(o.spec, root('spec'));

const KIND_VALIDATORS: Record<string, KindValidator> = {
  Pod: podValidator,
  Service: kinds.validateService,
  ConfigMap: kinds.validateConfigMap,
  Secret: kinds.validateSecret,
  Deployment: kinds.validateDeployment,
  ReplicaSet: kinds.validateReplicaSet,
  DaemonSet: kinds.validateDaemonSet,
  Job: kinds.validateJob,
  Role: kinds.validateRole,
  ClusterRole: kinds.validateClusterRole,
  RoleBinding: kinds.validateRoleBinding,
  ClusterRoleBinding: kinds.validateClusterRoleBinding,
  Endpoints: kinds.validateEndpoints,
  EndpointSlice: kinds.validateEndpointSlice,
  Event: kinds.validateEvent,
  Node: kinds.validateNode,
  Namespace: kinds.validateNamespace,
};

/** Field errors of a new object (after defaulting). Empty = valid. */
export function validateCreate(info: ResourceInfo, o: KubeObject): FieldError[] {
  const errs = typeErrors(info, o);
  const shapeErrorCount = errs.length;
  errs.push(...validateMeta(info, o));
  if (o.apiVersion !== info.apiVersion) errs.push(invalid('apiVersion', o.apiVersion, `must be ${JSON.stringify(info.apiVersion)}`));
  if (o.kind !== info.kind) errs.push(invalid('kind', o.kind, `must be ${JSON.stringify(info.kind)}`));
  const validator = KIND_VALIDATORS[info.kind];
  if (validator) errs.push(...validator(o));
  // A field of the wrong JSON type is reported once, by the type check, not again by the rules.
  const typed = new Set(errs.filter((e, i) => i < shapeErrorCount && e.field).map((e) => e.field));
  return errs.filter((e, i) => i < shapeErrorCount || !typed.has(e.field));
}

const s = (o: KubeObject): Obj => obj(o.spec) ?? {};

function podSpecUpdate(spec: Obj, old: Obj, p: FieldPath): FieldError[] {
  // Only images, activeDeadlineSeconds and added tolerations may change in a running pod.
  const strip = (x: Obj): Obj => {
    const copy: Obj = { ...x };
    copy.containers = arr(x.containers).map((c) => ({ ...(obj(c) ?? {}), image: undefined }));
    copy.initContainers = arr(x.initContainers).map((c) => ({ ...(obj(c) ?? {}), image: undefined }));
    delete copy.activeDeadlineSeconds;
    delete copy.tolerations;
    delete copy.terminationGracePeriodSeconds;
    return copy;
  };
  const errs: FieldError[] = [];
  if (!deepEqual(strip(spec), strip(old))) {
    errs.push(forbidden(p.path, 'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)'));
  }
  // tolerationSeconds may change (the node lifecycle shortens it); nothing else of an existing one.
  const withoutSeconds = (t: unknown): unknown => ({ ...(obj(t) ?? {}), tolerationSeconds: undefined });
  const oldTolerations = arr(old.tolerations).map(withoutSeconds);
  const newTolerations = arr(spec.tolerations).map(withoutSeconds);
  if (!oldTolerations.every((t) => newTolerations.some((n) => deepEqual(n, t)))) {
    errs.push(forbidden(p.child('tolerations').path, 'existing toleration can not be modified except its tolerationSeconds'));
  }
  return errs;
}

function immutableField(errs: FieldError[], path: string, now: unknown, before: unknown): void {
  if (!deepEqual(now, before)) errs.push(immutable(path, now ?? null));
}

/** Field errors of an update: the create rules plus what may not change. */
export function validateUpdate(info: ResourceInfo, o: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateCreate(info, o);
  immutableField(errs, 'metadata.name', o.metadata.name, old.metadata.name);
  if (info.namespaced) immutableField(errs, 'metadata.namespace', o.metadata.namespace, old.metadata.namespace);
  switch (info.kind) {
    case 'Pod':
      errs.push(...podSpecUpdate(s(o), s(old), root('spec')));
      break;
    case 'Service': {
      // As Kubernetes: a changed clusterIP with clusterIPs left as they were stands for clusterIPs
      // [clusterIP], and the first cluster IP may not change (ExternalName has none).
      const oldIPs = arr(s(old).clusterIPs);
      let ips = arr(s(o).clusterIPs);
      if ((s(o).clusterIP !== s(old).clusterIP && deepEqual(ips, oldIPs)) || ips.length === 0) ips = str(s(o).clusterIP) ? [s(o).clusterIP] : [];
      const oldIP = str(s(old).clusterIP) ?? str(oldIPs[0]);
      if (oldIP && s(old).type !== 'ExternalName' && s(o).type !== 'ExternalName' && ips[0] !== oldIP) {
        errs.push(invalid('spec.clusterIPs[0]', ips, 'may not change once set'));
      }
      break;
    }
    case 'ConfigMap':
    case 'Secret':
      if (old.immutable === true) {
        if (o.immutable !== true) errs.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
        const fields = info.kind === 'Secret' ? ['data'] : ['data', 'binaryData'];
        for (const f of fields) if (!deepEqual(o[f] ?? {}, old[f] ?? {})) errs.push(forbidden(f, 'field is immutable when `immutable` is set'));
      }
      if (info.kind === 'Secret') immutableField(errs, 'type', o.type, old.type);
      break;
    case 'Deployment':
    case 'ReplicaSet':
    case 'DaemonSet':
      immutableField(errs, 'spec.selector', s(o).selector, s(old).selector);
      break;
    case 'Job':
      immutableField(errs, 'spec.selector', s(o).selector, s(old).selector);
      immutableField(errs, 'spec.template', s(o).template, s(old).template);
      immutableField(errs, 'spec.completionMode', s(o).completionMode, s(old).completionMode);
      break;
    case 'RoleBinding':
    case 'ClusterRoleBinding':
      if (!deepEqual(o.roleRef, old.roleRef)) errs.push(invalid('roleRef', o.roleRef, 'cannot change roleRef'));
      break;
  }
  return errs;
}

/** `Deployment.apps`, or just `Pod` for the core group: how Kubernetes names a kind in messages. */
export function qualifiedKind(info: ResourceInfo): string {
  return info.group === '' ? info.kind : `${info.kind}.${info.group}`;
}

/** The 422 Invalid Status of Kubernetes for these errors. */
export function invalidStatus(info: ResourceInfo, name: string, errors: readonly FieldError[]): Status {
  const list = errors.map(fieldErrorString);
  const body = list.length === 1 ? (list[0] ?? '') : `[${list.join(', ')}]`;
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `${qualifiedKind(info)} ${JSON.stringify(name)} is invalid: ${body}`,
    reason: 'Invalid',
    details: {
      name,
      ...(info.group === '' ? {} : { group: info.group }),
      kind: info.kind,
      causes: errors.map((e) => ({ reason: e.type, message: e.message, field: e.field })),
    },
    code: 422,
  };
}
