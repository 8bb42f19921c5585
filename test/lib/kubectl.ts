// The one runner of the real kubectl 1.32 in tests.
import { execFile } from 'node:child_process';

export const KUBECTL = '/usr/bin/kubectl';

export interface KubectlRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface KubectlOptions {
  /** Written to kubectl's stdin; stdin is closed either way, so kubectl never waits on a prompt. */
  input?: string;
  /** Kills a kubectl that hangs; generous, never a speed assertion. */
  timeoutMs?: number;
}

/**
 * Runs kubectl with exactly `args` (give --kubeconfig or --server and credentials) and reports its
 * exit code instead of throwing. HOME points nowhere so no user's ~/.kube/config is read.
 */
export function runKubectl(args: string[], opts: KubectlOptions = {}): Promise<KubectlRun> {
  return new Promise((resolve) => {
    const child = execFile(KUBECTL, args, { timeout: opts.timeoutMs ?? 90_000, env: { ...process.env, HOME: '/nonexistent' } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
    child.stdin?.end(opts.input ?? '');
  });
}

/** kubectl against one node's kubeconfig (its admin kubeconfig, or a user's). */
export function kubectl(kubeconfig: string, args: string[], input?: string, timeoutMs?: number): Promise<KubectlRun> {
  return runKubectl(['--kubeconfig', kubeconfig, ...args], { input, timeoutMs });
}

export async function kubectlOk(kubeconfig: string, args: string[], input?: string, timeoutMs?: number): Promise<string> {
  const run = await kubectl(kubeconfig, args, input, timeoutMs);
  if (run.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${run.code}): ${run.stderr}${run.stdout}`);
  return run.stdout;
}
