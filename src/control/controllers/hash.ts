// The pod-template-hash: a short stable name for a pod template (keys sorted, FNV-1a 32), encoded
// with Kubernetes' "safe" alphabet (no vowels, so no words) as its label values look.
const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export const POD_TEMPLATE_HASH = 'pod-template-hash';

/** The hash of a template, ignoring a pod-template-hash label already in it (a ReplicaSet's copy). */
export function templateHash(template: unknown, collisionCount = 0): string {
  const t = structuredClone((template ?? {}) as { metadata?: { labels?: Record<string, string> } });
  if (t.metadata?.labels) delete t.metadata.labels[POD_TEMPLATE_HASH];
  let h = 0x811c9dc5;
  const text = canonical(t) + (collisionCount > 0 ? `#${collisionCount}` : '');
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  let out = '';
  let n = h;
  do {
    out += SAFE[n % SAFE.length];
    n = Math.floor(n / SAFE.length);
  } while (n > 0);
  return out;
}
