// The three PATCH bodies Kubernetes accepts: JSON Patch (RFC 6902), JSON Merge Patch (RFC 7386)
// and strategic merge patch, the one `kubectl apply` sends, which merges lists of our types by
// their merge keys and obeys the directives ($patch, $setElementOrder, $deleteFromPrimitiveList,
// $retainKeys). None of these mutate their inputs.
import type { ResourceInfo } from './catalog.ts';
import { clone, deepEqual, isObj, own, type Obj } from './json.ts';
import type { JsonValue } from './types.ts';

export class PatchError extends Error {
  override readonly name = 'PatchError';
  /** 400 when the patch itself is malformed, 413 when it has too many operations, 422 when it cannot apply to this object. */
  constructor(readonly code: 400 | 413 | 422, message: string) {
    super(message);
  }
}

/** Assigns without ever touching a prototype, whatever the key ("__proto__" included). */
function put(o: Obj, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

// ---- JSON Patch ----

export interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: JsonValue;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(400, `invalid JSON pointer ${JSON.stringify(pointer)}: must start with '/'`);
  return pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

type Container = Obj | unknown[];

function arrayIndex(arr: unknown[], token: string, forAdd: boolean, pointer: string): number {
  if (forAdd && token === '-') return arr.length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw new PatchError(422, `invalid array index ${JSON.stringify(token)} in ${JSON.stringify(pointer)}`);
  const i = Number(token);
  if (i > arr.length || (!forAdd && i === arr.length)) throw new PatchError(422, `doc is missing path: ${JSON.stringify(pointer)}: index out of range`);
  return i;
}

/** The container of the last token, and that token. */
function locate(doc: unknown, tokens: string[], pointer: string): { parent: Container; last: string } {
  let cur: unknown = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, t, false, pointer)];
    else if (isObj(cur) && Object.hasOwn(cur, t)) cur = cur[t];
    else throw new PatchError(422, `doc is missing path: ${JSON.stringify(pointer)}: missing value`);
  }
  if (!Array.isArray(cur) && !isObj(cur)) throw new PatchError(422, `doc is missing path: ${JSON.stringify(pointer)}: missing value`);
  return { parent: cur, last: tokens[tokens.length - 1] ?? '' };
}

function getAt(doc: unknown, pointer: string): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return doc;
  const { parent, last } = locate(doc, tokens, pointer);
  if (Array.isArray(parent)) return parent[arrayIndex(parent, last, false, pointer)];
  if (!Object.hasOwn(parent, last)) throw new PatchError(422, `doc is missing path: ${JSON.stringify(pointer)}: missing value`);
  return parent[last];
}

function removeAt(doc: unknown, pointer: string): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) throw new PatchError(422, 'cannot remove the whole document');
  const { parent, last } = locate(doc, tokens, pointer);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, last, false, pointer), 1)[0];
  if (!Object.hasOwn(parent, last)) throw new PatchError(422, `unable to remove nonexistent key: ${last}: missing value`);
  const v = parent[last];
  delete parent[last];
  return v;
}

function addAt(doc: unknown, pointer: string, value: unknown): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const { parent, last } = locate(doc, tokens, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, true, pointer), 0, value);
  else put(parent, last, value);
  return doc;
}

function replaceAt(doc: unknown, pointer: string, value: unknown): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const { parent, last } = locate(doc, tokens, pointer);
  if (Array.isArray(parent)) parent[arrayIndex(parent, last, false, pointer)] = value;
  else if (!Object.hasOwn(parent, last)) throw new PatchError(422, `replace operation does not apply: doc is missing key: ${pointer}: missing value`);
  else put(parent, last, value);
  return doc;
}

function checkOps(ops: unknown): JsonPatchOp[] {
  if (!Array.isArray(ops)) throw new PatchError(400, 'json patch must be a JSON array of operations');
  return ops.map((raw, i) => {
    if (!isObj(raw)) throw new PatchError(400, `json patch operation ${i} must be an object`);
    const op = raw.op;
    if (typeof op !== 'string' || !['add', 'remove', 'replace', 'move', 'copy', 'test'].includes(op)) throw new PatchError(400, `Unexpected kind: ${String(op)}`);
    if (typeof raw.path !== 'string') throw new PatchError(400, `json patch operation ${i} (${op}) is missing "path"`);
    if ((op === 'move' || op === 'copy') && typeof raw.from !== 'string') throw new PatchError(400, `json patch operation ${i} (${op}) is missing "from"`);
    if ((op === 'add' || op === 'replace' || op === 'test') && !Object.hasOwn(raw, 'value')) throw new PatchError(400, `json patch operation ${i} (${op}) is missing "value"`);
    return raw as unknown as JsonPatchOp;
  });
}

/** Kubernetes' bound on the operations of one JSON patch (413 past it). */
export const MAX_JSON_PATCH_OPS = 10_000;
/**
 * How much `copy` operations may add to the object, in JSON bytes, all together: each copy can
 * double it (22 copies of a 1 kB value reached 4 GB and killed the process). The body limit.
 */
export const MAX_JSON_PATCH_COPY_BYTES = 3 * 1024 * 1024;

/** The value at `from`, cloned, counted against the copy budget first. */
function copyOf(doc: unknown, from: string, budget: { copied: number }): unknown {
  const value = getAt(doc, from);
  budget.copied += JSON.stringify(value ?? null).length;
  if (budget.copied > MAX_JSON_PATCH_COPY_BYTES) {
    throw new PatchError(422, `Unable to complete the copy, the accumulated size increase of copy is ${budget.copied}, exceeding the limit ${MAX_JSON_PATCH_COPY_BYTES}`);
  }
  return clone(value);
}

/** RFC 6902. All operations apply or none (the input is never modified). */
export function applyJsonPatch<T>(doc: T, ops: unknown): T {
  if (Array.isArray(ops) && ops.length > MAX_JSON_PATCH_OPS) {
    throw new PatchError(413, `The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPS}, got ${ops.length}`);
  }
  let cur: unknown = clone(doc);
  const budget = { copied: 0 };
  for (const op of checkOps(ops)) {
    switch (op.op) {
      case 'add': cur = addAt(cur, op.path, clone(op.value)); break;
      case 'remove': removeAt(cur, op.path); break;
      case 'replace': cur = replaceAt(cur, op.path, clone(op.value)); break;
      case 'move': {
        const from = op.from ?? '';
        if (op.path.startsWith(`${from}/`)) throw new PatchError(422, `cannot move ${JSON.stringify(from)} into its own child ${JSON.stringify(op.path)}`);
        const v = removeAt(cur, from);
        cur = addAt(cur, op.path, v);
        break;
      }
      case 'copy': cur = addAt(cur, op.path, copyOf(cur, op.from ?? '', budget)); break;
      case 'test':
        if (!deepEqual(getAt(cur, op.path), op.value)) throw new PatchError(422, `testing value ${op.path} failed: test failed`);
        break;
    }
  }
  return cur as T;
}

// ---- JSON Merge Patch ----

/** RFC 7386: objects merge, null deletes, anything else (arrays included) replaces. */
export function applyMergePatch<T>(doc: T, patch: unknown): T {
  return mergePatchValue(doc, patch) as T;
}

function mergePatchValue(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return clone(patch);
  const out: Obj = isObj(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else put(out, k, mergePatchValue(out[k], v));
  }
  return out;
}

// ---- strategic merge patch ----

/** How a list at a path merges: by a key field, as a set of primitives, or replaced whole (atomic). */
export type ListStrategy = { mergeKey: string } | { primitiveSet: true } | undefined;

const POD_SPEC_LISTS: Record<string, string> = {
  volumes: 'name', initContainers: 'name', containers: 'name', ephemeralContainers: 'name', imagePullSecrets: 'name',
  hostAliases: 'ip', topologySpreadConstraints: 'topologyKey', resourceClaims: 'name', schedulingGates: 'name',
};
const CONTAINER_LISTS: Record<string, string> = { ports: 'containerPort', env: 'name', volumeMounts: 'mountPath', volumeDevices: 'devicePath' };
const CONTAINER_FIELDS = new Set(['initContainers', 'containers', 'ephemeralContainers']);

/** Where the PodSpec sits in each kind that has one. */
function podSpecPrefix(kind: string): string[] | undefined {
  if (kind === 'Pod') return ['spec'];
  if (['Deployment', 'ReplicaSet', 'DaemonSet', 'Job'].includes(kind)) return ['spec', 'template', 'spec'];
  return undefined;
}

const startsWith = (path: string[], prefix: string[]): boolean => prefix.every((p, i) => path[i] === p);

/** The patch strategy of the list at `path` (field names only, no indices) in objects of `info`. */
export function listStrategy(info: ResourceInfo, path: readonly string[]): ListStrategy {
  const p = [...path];
  const joined = p.join('.');
  if (joined === 'metadata.finalizers') return { primitiveSet: true };
  if (joined === 'metadata.ownerReferences') return { mergeKey: 'uid' };
  if (joined === 'status.conditions') return { mergeKey: 'type' };
  if (info.kind === 'Node' && joined === 'status.addresses') return { mergeKey: 'type' };
  if (info.kind === 'Node' && joined === 'status.images') return undefined;
  if (info.kind === 'Pod' && (joined === 'status.podIPs' || joined === 'status.hostIPs')) return { mergeKey: 'ip' };
  if (info.kind === 'Service' && joined === 'spec.ports') return { mergeKey: 'port' };
  const prefix = podSpecPrefix(info.kind);
  if (prefix && startsWith(p, prefix)) {
    const rest = p.slice(prefix.length);
    if (rest.length === 1) {
      const key = own(POD_SPEC_LISTS, rest[0] ?? '');
      return key ? { mergeKey: key } : undefined;
    }
    if (rest.length === 2 && CONTAINER_FIELDS.has(rest[0] ?? '')) {
      const key = own(CONTAINER_LISTS, rest[1] ?? '');
      return key ? { mergeKey: key } : undefined;
    }
  }
  return undefined;
}

const DELETE = Symbol('delete');

const SET_ORDER = '$setElementOrder/';
const DELETE_FROM = '$deleteFromPrimitiveList/';

/**
 * Strategic merge patch as kubectl apply/patch send it. Lists with a merge key merge item by item
 * (`{"$patch":"delete", name: x}` removes one, `{"$patch":"replace"}` replaces the list); other
 * lists are replaced; null deletes a field.
 */
export function applyStrategicMergePatch<T>(info: ResourceInfo, doc: T, patch: unknown): T {
  if (!isObj(patch)) throw new PatchError(400, 'strategic merge patch must be a JSON object');
  const out = mergeMap(info, isObj(doc) ? doc : {}, patch, []);
  return (out === DELETE ? {} : out) as T;
}

function mergeMap(info: ResourceInfo, original: Obj, patch: Obj, path: string[]): Obj | typeof DELETE {
  const directive = patch.$patch;
  if (directive !== undefined) {
    if (directive === 'delete') return DELETE;
    if (directive === 'replace') return stripDirectives(patch) as Obj;
    if (directive !== 'merge') throw new PatchError(400, `Unknown patch type: ${String(directive)} at ${path.join('.') || '<root>'}`);
  }
  const out: Obj = clone(original);
  const retainKeys = patch.$retainKeys;
  const orders: [string, unknown][] = [];
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys') continue;
    if (key.startsWith(SET_ORDER)) { orders.push([key.slice(SET_ORDER.length), value]); continue; }
    if (key.startsWith(DELETE_FROM)) {
      const field = key.slice(DELETE_FROM.length);
      if (!Array.isArray(value)) throw new PatchError(400, `${key} must be a list`);
      const cur = out[field];
      const doomed = new Set(value.map(identity));
      if (Array.isArray(cur)) put(out, field, cur.filter((x) => !doomed.has(identity(x))));
      continue;
    }
    if (key.startsWith('$')) throw new PatchError(400, `unknown directive ${JSON.stringify(key)} at ${path.join('.') || '<root>'}`);
    if (value === null) { delete out[key]; continue; }
    const childPath = [...path, key];
    const cur = out[key];
    if (isObj(value)) {
      const merged = mergeMap(info, isObj(cur) ? cur : {}, value, childPath);
      if (merged === DELETE) delete out[key];
      else put(out, key, merged);
    } else if (Array.isArray(value)) {
      put(out, key, mergeList(info, Array.isArray(cur) ? cur : [], value, childPath));
    } else {
      put(out, key, value);
    }
  }
  for (const [field, order] of orders) {
    const cur = out[field];
    if (!Array.isArray(order)) throw new PatchError(400, `${SET_ORDER}${field} must be a list`);
    const before = original[field];
    if (Array.isArray(cur)) put(out, field, applyOrder(info, cur, order, Array.isArray(before) ? before : [], [...path, field]));
  }
  if (retainKeys !== undefined) {
    if (!Array.isArray(retainKeys)) throw new PatchError(400, '$retainKeys must be a list of field names');
    const retained = new Set<unknown>(retainKeys);
    for (const k of Object.keys(out)) if (!retained.has(k)) delete out[k];
  }
  return out;
}

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => !(isObj(x) && x.$patch === 'replace' && Object.keys(x).length === 1)).map(stripDirectives);
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) put(out, k, stripDirectives(x));
  return out;
}

/**
 * A string equal for two values exactly when deepEqual says they are equal, so list items can be
 * found through a Map: a search per item made merging two lists of n items n² (8 000 containers
 * took 1.3 s, 33 000, which fit in a body, would take about 20 s).
 */
function identity(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(identity).join(',')}]`;
  if (isObj(value)) {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${identity(value[k])}`).join(',')}}`;
  }
  return `${typeof value}:${String(value)}`;
}

/** Where each identity first occurs in `xs` (items without one, e.g. non-objects in a keyed list, are left out). */
function firstIndexes(xs: readonly unknown[], idOf: (x: unknown) => string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  xs.forEach((x, i) => {
    const id = idOf(x);
    if (id !== undefined && !out.has(id)) out.set(id, i);
  });
  return out;
}

const REMOVED = Symbol('removed');

function mergeList(info: ResourceInfo, original: unknown[], patch: unknown[], path: string[]): unknown[] {
  const strategy = listStrategy(info, path);
  if (patch.some((x) => isObj(x) && x.$patch === 'replace')) return stripDirectives(patch) as unknown[];
  if (strategy === undefined) return stripDirectives(patch) as unknown[];
  // Without $setElementOrder, Kubernetes orders a merged list as if the patch's own items were the order.
  if ('primitiveSet' in strategy) {
    const out = clone(original);
    const present = new Set(out.map(identity));
    for (const v of patch) {
      const id = identity(v);
      if (present.has(id)) continue;
      present.add(id);
      out.push(v);
    }
    return applyOrder(info, out, patch, original, path);
  }
  const key = strategy.mergeKey;
  // Items are removed by marking them (so the indexes stay true) and dropped at the end; each key
  // keeps the queue of its items in list order, the first one being the one a patch item merges into.
  const out: unknown[] = clone(original);
  const byKey = new Map<string, number[]>();
  const enqueue = (x: unknown, i: number) => {
    if (!isObj(x)) return;
    const id = identity(x[key]);
    const queue = byKey.get(id);
    if (queue) queue.push(i);
    else byKey.set(id, [i]);
  };
  out.forEach(enqueue);
  for (const item of patch) {
    if (!isObj(item)) throw new PatchError(422, `${path.join('.')}: list items must be objects with the merge key "${key}"`);
    if (!Object.hasOwn(item, key)) throw new PatchError(422, `map: ${JSON.stringify(item)} does not contain declared merge key: ${key}`);
    const queue = byKey.get(identity(item[key]));
    const index = queue?.[0];
    if (item.$patch === 'delete') {
      if (index !== undefined) {
        out[index] = REMOVED;
        queue?.shift();
      }
      continue;
    }
    if (index !== undefined) {
      const merged = mergeMap(info, out[index] as Obj, item, path);
      if (merged === DELETE) {
        out[index] = REMOVED;
        queue?.shift();
      } else out[index] = merged;
    } else {
      out.push(stripDirectives(item));
      enqueue(out[out.length - 1], out.length - 1);
    }
  }
  const kept = out.filter((x) => x !== REMOVED);
  return applyOrder(info, kept, patch.filter((x) => !(isObj(x) && x.$patch === 'delete')), original, path);
}

/**
 * `$setElementOrder`: the items the order names come in that order; the items only the server had
 * are woven in where they stood relative to the named ones in the original list (an item the
 * original did not have goes before a server-only item), as Kubernetes does.
 */
function applyOrder(info: ResourceInfo, list: unknown[], order: unknown[], original: unknown[], path: string[]): unknown[] {
  const strategy = listStrategy(info, path);
  const keyOf = (x: unknown): unknown => (strategy && 'mergeKey' in strategy && isObj(x) ? x[strategy.mergeKey] : x);
  const idOf = (x: unknown) => identity(keyOf(x));
  const inList = firstIndexes(list, idOf);
  const inOrder = firstIndexes(order, idOf);
  const inOriginal = firstIndexes(original, idOf);
  const indexIn = (indexes: Map<string, number>, x: unknown): number => indexes.get(idOf(x)) ?? -1;
  const named: unknown[] = [];
  for (const k of order) {
    const at = indexIn(inList, k);
    if (at >= 0) named.push(list[at]);
  }
  const serverOnly = list.filter((x) => indexIn(inOrder, x) < 0).sort((a, b) => indexIn(inOriginal, a) - indexIn(inOriginal, b));
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < serverOnly.length || j < named.length) {
    if (j >= named.length) { out.push(serverOnly[i++]); continue; }
    if (i >= serverOnly.length) { out.push(named[j++]); continue; }
    const si = indexIn(inOriginal, serverOnly[i]);
    const ni = indexIn(inOriginal, named[j]);
    if (si >= 0 && ni >= 0 && si < ni) out.push(serverOnly[i++]);
    else out.push(named[j++]);
  }
  return out;
}

/**
 * Whether a patch names the resourceVersion it was computed against. Kubernetes applies a patch
 * that does not to the newest object, again after a conflict; one that does gets the 409.
 */
export function patchPinsResourceVersion(kind: 'json' | 'merge' | 'strategic', patch: unknown): boolean {
  if (kind === 'json') return Array.isArray(patch) && patch.some((op) => typeof op === 'object' && op !== null && (op as { path?: unknown }).path === '/metadata/resourceVersion');
  const metadata = typeof patch === 'object' && patch !== null ? (patch as { metadata?: unknown }).metadata : undefined;
  return typeof metadata === 'object' && metadata !== null && (metadata as { resourceVersion?: unknown }).resourceVersion !== undefined;
}
