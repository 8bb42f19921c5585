import type { Logger } from 'pino';
import { Coalescer } from './coalescer.ts';
import { IMAGE_PLATFORMS_ANNOTATION, IMAGE_PLATFORMS_OMITTED_ANNOTATION, defaultImagePlatformsLimits, imagePlatformsAnnotations, type ImagePlatformsLimits } from './image-platforms.ts';
import type { Runtime } from './runtime/runtime.ts';

export interface ImageWatchOptions {
  logger: Logger;
  limits?: ImagePlatformsLimits;
  /** The safety net: the images are listed this often even without an engine event. */
  refreshIntervalMs: number;
  /** Called when the annotation text changed (the Node should be written). */
  onChange: () => void;
}

export interface ImageWatch {
  /** The image-platforms annotations of the last listing; null before the first one succeeded. */
  annotations(): Record<string, string> | null;
  stop(): Promise<void>;
}

/** How long after the first image event of a burst (a `docker load` sends several) the images are listed. */
const burstMs = 500;

/**
 * Keeps the node's image-platforms annotation in line with the engine's images: listed once now,
 * again after each burst of image events, and every `refreshIntervalMs` in case an event was lost.
 */
export async function watchImagePlatforms(runtime: Runtime, options: ImageWatchOptions): Promise<ImageWatch> {
  let current: Record<string, string> | null = null;
  const refresh = async (): Promise<void> => {
    const next = imagePlatformsAnnotations(await runtime.listImages(), options.limits ?? defaultImagePlatformsLimits);
    if (JSON.stringify(next) === JSON.stringify(current)) return;
    current = next;
    const published = next[IMAGE_PLATFORMS_ANNOTATION];
    options.logger.info(
      { references: published ? Object.keys(JSON.parse(published) as object).length : 0, omittedImages: Number(next[IMAGE_PLATFORMS_OMITTED_ANNOTATION] ?? 0) },
      'local image platforms changed; the Node annotation follows',
    );
    options.onChange();
  };
  const listing = new Coalescer(refresh, (error) => options.logger.debug({ err: error }, 'listing local images failed; tried again at the next image event or interval'));
  await listing.run();
  const stopEvents = runtime.watchImages(() => listing.runSoon(burstMs));
  const timer = setInterval(() => void listing.run(), options.refreshIntervalMs);
  timer.unref();
  return {
    annotations: () => current,
    stop: async () => {
      clearInterval(timer);
      stopEvents();
      await listing.stop();
    },
  };
}
