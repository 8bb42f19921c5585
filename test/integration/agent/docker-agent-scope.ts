import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { DockerRuntime, type DockerRuntimeOptions } from '../../../src/agent/runtime/docker-runtime.ts';
import { labels } from '../../../src/agent/runtime/labels.ts';
import { buildPauseImage } from '../../../src/agent/runtime/pause-image.ts';
import { busyboxCacheDir } from '../../lib/images.ts';

export const engine = new Dockerode();
export const pauseBusyboxPath = join(busyboxCacheDir(), 'amd64', 'bin', 'busybox');

/**
 * DockerRuntimes for one test file: node names unique to the run, and a pause image of the run's
 * own (a label changes its id), so that `cleanup` can remove every container of those nodes and
 * that image by id while other test files keep theirs.
 */
export class AgentDockerScope {
  readonly run = randomUUID().slice(0, 8);
  private readonly nodeNames = new Set<string>();
  private readonly pauseImageLabels = { 'io.bramble.test-run': this.run };

  nodeName(suffix: string): string {
    return `${suffix}-${this.run}`;
  }

  async runtime(nodeName: string, options: Partial<DockerRuntimeOptions> = {}): Promise<DockerRuntime> {
    this.nodeNames.add(nodeName);
    return DockerRuntime.create({ docker: engine, nodeName, pauseBusyboxPath, pauseImageLabels: this.pauseImageLabels, ...options });
  }

  async cleanup(): Promise<void> {
    for (const nodeName of this.nodeNames) {
      for (const c of await engine.listContainers({ all: true, filters: { label: [`${labels.node}=${nodeName}`] } })) {
        await engine.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
      }
    }
    const pause = await buildPauseImage(await readFile(pauseBusyboxPath), { os: 'linux', architecture: 'amd64' }, pauseBusyboxPath, this.pauseImageLabels);
    await engine.getImage(pause.archive.imageId).remove({ force: true }).catch(() => undefined);
  }
}
