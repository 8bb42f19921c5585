// `bramble cluster-info`: where the cluster's API answers, and its version.
import type { Command } from 'commander';
import { type CommonFlags, connect, type Io, printingServerErrors, withConnectionFlags } from './common.ts';

export function registerClusterInfo(program: Command, io: Io): void {
  withConnectionFlags(program.command('cluster-info'))
    .description('where the API of the cluster answers')
    .action(printingServerErrors(io, async (flags: CommonFlags) => {
      const { api } = connect(flags);
      const version = await api.request<{ gitVersion?: string }>('GET', '/version');
      io.out(`Kubernetes control plane is running at ${api.connection.server}${version.gitVersion === undefined ? '' : ` (version ${version.gitVersion})`}\n`);
    }));
}
