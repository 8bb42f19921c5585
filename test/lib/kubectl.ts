// The real kubectl 1.32 against a node's admin kubeconfig.
import { execFile } from 'node:child_process';

export const KUBECTL = '/usr/bin/kubectl';

export interface KubectlRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function kubectl(kubeconfig: string, args: string[], input?: string, timeoutMs = 90_000): Promise<KubectlRun> {
  return new Promise((resolve) => {
    const child = execFile(KUBECTL, ['--kubeconfig', kubeconfig, ...args], { timeout: timeoutMs, env: { ...process.env, HOME: '/nonexistent' } }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    child.stdin?.end(input ?? '');
  });
}

export async function kubectlOk(kubeconfig: string, args: string[], input?: string, timeoutMs?: number): Promise<string> {
  const run = await kubectl(kubeconfig, args, input, timeoutMs);
  if (run.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${run.code}): ${run.stderr}${run.stdout}`);
  return run.stdout;
}
