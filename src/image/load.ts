import { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import type { ImageArchive } from './archive.ts';

export type LoadOutcome = 'loaded' | 'already-present';

/** The id the engine has for `reference`, or null when it has no such image. */
export async function localImageId(docker: Dockerode, reference: string): Promise<string | null> {
  try {
    const info = await docker.getImage(reference).inspect();
    return info.Id;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return null;
    throw error;
  }
}

/**
 * Loads the archive unless every tag already names exactly this image id, so repeated
 * provisioning (and an agent starting again) costs one inspect per tag.
 */
export async function ensureImageLoaded(
  docker: Dockerode,
  archive: ImageArchive,
  repoTags: string[],
): Promise<LoadOutcome> {
  const current = await Promise.all(repoTags.map((tag) => localImageId(docker, tag)));
  if (repoTags.length > 0 && current.every((id) => id === archive.imageId)) return 'already-present';
  const response = await docker.loadImage(Readable.from([archive.tarball]), { quiet: true });
  const body = await new Promise<string>((resolve, reject) => {
    const parts: Buffer[] = [];
    response.on('data', (chunk: Buffer) => parts.push(chunk));
    response.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    response.on('error', reject);
  });
  // The engine reports a bad archive inside a 200 response, as a JSON line with "error".
  for (const line of body.split('\n')) {
    if (!line.trim()) continue;
    const message = JSON.parse(line) as { error?: string };
    if (message.error) throw new Error(`docker load failed: ${message.error}`);
  }
  const loadedId = await localImageId(docker, archive.imageId);
  if (loadedId !== archive.imageId) throw new Error(`docker load reported success but image ${archive.imageId} is missing`);
  return 'loaded';
}
