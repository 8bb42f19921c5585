// The one runner of the real kubectl 1.32 in tests.
import { runCommand, type CommandOptions, type CommandRun } from './commands.ts';

export const KUBECTL = '/usr/bin/kubectl';

export type KubectlRun = CommandRun;

/**
 * Runs kubectl with exactly `args` (give --kubeconfig or --server and credentials) and reports its
 * exit code instead of throwing. HOME points nowhere so no user's ~/.kube/config is read.
 */
export function runKubectl(args: string[], opts: CommandOptions = {}): Promise<KubectlRun> {
  return runCommand(KUBECTL, args, { ...opts, env: { HOME: '/nonexistent', ...opts.env } });
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
