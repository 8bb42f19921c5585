// `bramble kubeconfig`: prints the admin kubeconfig a node wrote into its data dir at start.
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from './output.ts';
import { parseUpOptions, withEnvFlags } from './up-options.ts';

export function registerKubeconfigCommand(program: Command, io: { out(text: string): void }): void {
  program
    .command('kubeconfig')
    .description('print the admin kubeconfig of the node that uses this data dir (cluster CA, admin client certificate and token)')
    .option('--data-dir <dir>', 'data dir of the node, as given to bramble up (default: $BRAMBLE_DATA_DIR, else .bramble/<name>)')
    .option('--name <name>', 'node name, to find the default data dir (default: this host name)')
    .addHelpText(
      'after',
      `
Examples:
  bramble kubeconfig --data-dir /var/lib/bramble > ~/.kube/config
  kubectl --kubeconfig <(bramble kubeconfig --data-dir /var/lib/bramble) get nodes

The file grants cluster-admin: keep it private (it is written 0600 as <data-dir>/kubeconfig).`,
    )
    .action((flags: { dataDir?: string; name?: string }) => {
      const merged = withEnvFlags(flags, process.env);
      const dataDir = parseUpOptions({ ...(merged.dataDir !== undefined ? { dataDir: merged.dataDir } : {}), ...(merged.name !== undefined ? { name: merged.name } : {}) }, { hostname: hostname() }).dataDir;
      const path = join(dataDir, 'kubeconfig');
      if (!existsSync(path)) {
        throw new UsageError(`no kubeconfig in ${dataDir}: start the node first with \`bramble up --data-dir ${dataDir}\` (it writes ${path} once its API is up), or pass the right --data-dir`);
      }
      io.out(readFileSync(path, 'utf8'));
    });
}
