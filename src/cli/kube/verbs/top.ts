// `bramble top nodes|pods`: usage from metrics.k8s.io (printed by ../top.ts).
import type { Command } from 'commander';
import type { KubeList } from '../../../api/resources/types.ts';
import { noResourcesMessage } from '../printer.ts';
import { topNodes, topPods } from '../top.ts';
import { type CommonFlags, connect, type Io, printingServerErrors, withConnectionFlags } from './common.ts';

export function registerTop(program: Command, io: Io): void {
  const top = program.command('top').description("live CPU and memory use, from the agents' metrics (metrics.k8s.io)");
  withConnectionFlags(top.command('nodes').alias('node').alias('no'))
    .description('CPU and memory of each board, and their share of what it can allocate')
    .addHelpText('after', '\nExample:\n  bramble top nodes\n')
    .action(printingServerErrors(io, async (flags: CommonFlags) => {
      const { api } = connect(flags);
      const metrics = await api.request<KubeList>('GET', '/apis/metrics.k8s.io/v1beta1/nodes');
      const nodes = await api.request<KubeList>('GET', '/api/v1/nodes');
      if (nodes.items.length === 0) io.err(noResourcesMessage(undefined));
      else io.out(topNodes(metrics.items, nodes.items));
    }));
  withConnectionFlags(top.command('pods').alias('pod').alias('po'))
    .description('CPU and memory of each pod (sum of its containers)')
    .option('-A, --all-namespaces', 'pods of every namespace')
    .option('-l, --selector <selector>', 'label selector')
    .addHelpText('after', '\nExamples:\n  bramble top pods\n  bramble top pods -A\n')
    .action(printingServerErrors(io, async (flags: CommonFlags & { allNamespaces?: boolean; selector?: string }) => {
      const { api, namespace } = connect(flags);
      const all = flags.allNamespaces === true;
      const path = all ? '/apis/metrics.k8s.io/v1beta1/pods' : `/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(namespace)}/pods`;
      const metrics = await api.request<KubeList>('GET', path, { query: { labelSelector: flags.selector } });
      if (metrics.items.length === 0) io.err(noResourcesMessage(all ? undefined : namespace));
      else io.out(topPods(metrics.items, all));
    }));
}
