export { buildImageArchive, type ImageArchive, type ImageSpec, type LayerEntry } from './archive.ts';
export { busyboxLayer } from './busybox.ts';
export { formatPlatform, type ImagePlatform, platformOfNodeArch } from './platform.ts';
export { ensureImageLoaded, type LoadOutcome, localImageId } from './load.ts';
