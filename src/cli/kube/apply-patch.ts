// What `apply` sends for an object that exists: like kubectl's client-side apply, it remembers the
// manifest it applied in the annotation kubectl.kubernetes.io/last-applied-configuration, so a
// field removed from the manifest since the last apply is removed from the object (null in a JSON
// merge patch), while fields set by others (controllers, `scale`) and never in the manifest stay.
// Sent as a strategic merge patch, lists with merge keys (containers by name) are merged, so
// server defaults inside them stay; unlike kubectl, no `$patch: delete` is computed for elements
// dropped from such a list.

import type { KubeObject } from '../../api/resources/types.ts';

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, Json> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Keys to set from `next`, and keys of `last` that `next` dropped set to null; recursive on objects. */
function diff(last: Record<string, Json> | undefined, next: Record<string, Json>): Record<string, Json> {
  const patch: Record<string, Json> = {};
  for (const [key, value] of Object.entries(next)) {
    const before = last?.[key];
    patch[key] = isObject(value) && isObject(before) ? diff(before, value) : value;
  }
  for (const key of Object.keys(last ?? {})) if (!(key in next)) patch[key] = null;
  return patch;
}

/** The manifest as it is recorded in the annotation (without the annotation itself). */
export function lastAppliedOf(manifest: KubeObject): string {
  const copy = structuredClone(manifest) as KubeObject;
  if (copy.metadata.annotations !== undefined) {
    delete copy.metadata.annotations[LAST_APPLIED];
    if (Object.keys(copy.metadata.annotations).length === 0) delete copy.metadata.annotations;
  }
  return JSON.stringify(copy);
}

/** The manifest to POST on first apply: with the annotation, so the next apply can compute removals. */
export function withLastApplied(manifest: KubeObject): KubeObject {
  const copy = structuredClone(manifest) as KubeObject;
  copy.metadata.annotations = { ...(copy.metadata.annotations ?? {}), [LAST_APPLIED]: lastAppliedOf(manifest) };
  return copy;
}

/** The JSON merge patch for an existing object, given what it carries from the previous apply. */
export function applyPatch(live: KubeObject, manifest: KubeObject): Record<string, Json> {
  const recorded = live.metadata.annotations?.[LAST_APPLIED];
  let last: Record<string, Json> | undefined;
  try {
    const parsed: unknown = recorded === undefined ? undefined : JSON.parse(recorded);
    last = isObject(parsed) ? parsed : undefined;
  } catch {
    last = undefined; // an unreadable annotation: behave as if never applied (nothing removed)
  }
  const next = JSON.parse(lastAppliedOf(manifest)) as Record<string, Json>;
  const patch = diff(last, next);
  const metadata = isObject(patch['metadata']) ? patch['metadata'] : {};
  const annotations = isObject(metadata['annotations']) ? metadata['annotations'] : {};
  annotations[LAST_APPLIED] = JSON.stringify(next);
  metadata['annotations'] = annotations;
  patch['metadata'] = metadata;
  return patch;
}
