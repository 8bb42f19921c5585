// What the node tells the scheduler about its local images: the annotation
// `bramble.io/image-platforms` = {"<image reference>": ["linux/arm64/v8"]} on its Node, read by the
// scheduler's imageArchitecture filter (src/control/scheduler/filters.ts), which looks the pod's
// `image` up exactly as written. So each tag is listed under the spellings a pod may use for it.
import type { ImageInfo } from './runtime/runtime.ts';
import { PAUSE_IMAGE_REPOSITORY } from './runtime/pause-image.ts';
import { NodeAnnotations } from '../client/index.ts';

export const IMAGE_PLATFORMS_ANNOTATION = NodeAnnotations.imagePlatforms;
export const IMAGE_PLATFORMS_OMITTED_ANNOTATION = NodeAnnotations.imagePlatformsOmitted;

export interface ImagePlatformsLimits {
  /** At most this many images are listed. */
  maxImages: number;
  /** The annotation's JSON stays within this many bytes (UTF-8). */
  maxBytes: number;
}

// Every Node read by the scheduler and every Raft entry carries the annotation: a few hundred
// images fit, and a node holding more says how many it left out rather than growing without end.
export const defaultImagePlatformsLimits: ImagePlatformsLimits = { maxImages: 256, maxBytes: 32 * 1024 };

/**
 * The spellings of one Docker tag that name the same image when a pod writes them: Docker's
 * familiar form ("busybox:latest", "team/app:1", "registry.lan:5000/app:2"), the docker.io and
 * library/ forms of Docker Hub images, and each of those without ":latest" — the forms the engine
 * resolves a pod's image to when the agent hands it over as written.
 */
export function imageReferenceAliases(repoTag: string): string[] {
  const at = repoTag.indexOf('@');
  const ref = at >= 0 ? repoTag.slice(0, at) : repoTag;
  const slash = ref.indexOf('/');
  const first = slash >= 0 ? ref.slice(0, slash) : '';
  const hasDomain = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const lastSlash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  const tagged = colon > lastSlash;
  const name = tagged ? ref.slice(0, colon) : ref;
  const tag = tagged ? ref.slice(colon + 1) : 'latest';
  let names: string[];
  if (hasDomain && first !== 'docker.io' && first !== 'index.docker.io') {
    names = [name];
  } else {
    let path = hasDomain ? name.slice(slash + 1) : name;
    if (!path.includes('/')) path = `library/${path}`;
    const familiar = path.startsWith('library/') && path.split('/').length === 2 ? path.slice('library/'.length) : path;
    names = [...new Set([familiar, path, `docker.io/${path}`])];
  }
  const out: string[] = [];
  for (const n of names) {
    out.push(`${n}:${tag}`);
    if (tag === 'latest') out.push(n);
  }
  return out;
}

/** "linux/arm64", "linux/arm/v7": arm64's only variant v8 is left out, as containerd normalises it. */
export function formatImagePlatform(platform: ImageInfo['platform']): string {
  if (platform.architecture === 'arm64' && platform.variant === 'v8') return `${platform.os}/arm64`;
  return `${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ''}`;
}

/** Whether the annotation should list this image (see the README: loaded images only, no pause image). */
export function listedImage(image: ImageInfo): boolean {
  // A pulled image's engine kept only the platform it pulled, while its registry may hold others:
  // listing it would keep other architectures away from a multi-platform image that they could
  // pull themselves. A loaded (or built) image is all there is, so its platform is the fact.
  if (image.repoDigests.length > 0) return false;
  return image.repoTags.some((tag) => !tag.startsWith(`${PAUSE_IMAGE_REPOSITORY}:`));
}

/** The annotations this module owns on the Node: those absent from a result are to be removed. */
export const IMAGE_ANNOTATIONS: readonly string[] = [IMAGE_PLATFORMS_ANNOTATION, IMAGE_PLATFORMS_OMITTED_ANNOTATION];

/**
 * The node's image annotations from its engine's images (none when no image is listed). Deterministic (images in the order of
 * their first tag, keys sorted), so an unchanged engine gives the same text and no write. Images
 * past `maxImages` or that would push the JSON past `maxBytes` are left out whole (all their
 * spellings), in that same order, and counted.
 */
export function imagePlatformsAnnotations(images: readonly ImageInfo[], limits: ImagePlatformsLimits = defaultImagePlatformsLimits): Record<string, string> {
  const candidates = images
    .filter(listedImage)
    .map((image) => ({ tags: image.repoTags.filter((t) => !t.startsWith(`${PAUSE_IMAGE_REPOSITORY}:`)).sort(), platform: formatImagePlatform(image.platform) }))
    .sort((a, b) => (a.tags[0]! < b.tags[0]! ? -1 : a.tags[0]! > b.tags[0]! ? 1 : 0));
  const entries = new Map<string, Set<string>>();
  let bytes = 2; // "{}"
  let listed = 0;
  let omitted = 0;
  for (const candidate of candidates) {
    const keys = [...new Set(candidate.tags.flatMap(imageReferenceAliases))];
    const fresh = keys.filter((k) => !entries.get(k)?.has(candidate.platform));
    // Each new key adds `,"<key>":["<platform>"]`; a key already present adds `,"<platform>"`.
    const cost = fresh.reduce((sum, k) => sum + (entries.has(k) ? Buffer.byteLength(JSON.stringify(candidate.platform)) + 1 : Buffer.byteLength(JSON.stringify(k)) + Buffer.byteLength(JSON.stringify([candidate.platform])) + 2), 0);
    if (listed >= limits.maxImages || bytes + cost > limits.maxBytes) {
      omitted++;
      continue;
    }
    for (const k of fresh) {
      const set = entries.get(k) ?? new Set<string>();
      set.add(candidate.platform);
      entries.set(k, set);
    }
    bytes += cost;
    listed++;
  }
  const sorted: Record<string, string[]> = {};
  for (const k of [...entries.keys()].sort()) sorted[k] = [...entries.get(k)!].sort();
  return {
    ...(entries.size > 0 ? { [IMAGE_PLATFORMS_ANNOTATION]: JSON.stringify(sorted) } : {}),
    ...(omitted > 0 ? { [IMAGE_PLATFORMS_OMITTED_ANNOTATION]: String(omitted) } : {}),
  };
}
