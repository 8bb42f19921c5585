import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export async function docker(args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync('docker', args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const failed = error as { stderr?: string; message: string };
    throw new Error(`docker ${args.join(' ')} failed: ${failed.stderr?.trim() || failed.message}`);
  }
}

/**
 * Containers and images one test creates with the real Docker CLI, removed by id at the end
 * (never by name or label pattern, so nothing else on the engine is touched).
 */
export class DockerScope {
  private readonly containerIds: string[] = [];
  private readonly imageIds: string[] = [];

  trackImage(imageId: string): void {
    this.imageIds.push(imageId);
  }

  /** Runs a command in a new container to completion and returns its stdout and exit code. */
  async run(image: string, command: string[], options: string[] = []): Promise<{ stdout: string; exitCode: number }> {
    const id = (await docker(['create', ...options, image, ...command])).trim();
    this.containerIds.push(id);
    const stdout = await docker(['start', '--attach', id]).catch(() => '');
    const exitCode = Number((await docker(['inspect', '--format', '{{.State.ExitCode}}', id])).trim());
    return { stdout, exitCode };
  }

  async cleanup(): Promise<void> {
    for (const id of this.containerIds.splice(0)) await docker(['rm', '--force', id]).catch(() => undefined);
    for (const id of this.imageIds.splice(0)) await docker(['image', 'rm', '--force', id]).catch(() => undefined);
  }
}

export async function withDocker<T>(body: (scope: DockerScope) => Promise<T>): Promise<T> {
  const scope = new DockerScope();
  try {
    return await body(scope);
  } finally {
    await scope.cleanup();
  }
}
