// `bramble top nodes|pods`: the agents' live usage from metrics.k8s.io (NodeMetrics, PodMetrics),
// in kubectl's columns: CPU in millicores, memory in Mi, node percentages of allocatable.

import { parseQuantity } from '../../api/resources/quantity.ts';
import { asNode, type KubeObject } from '../../client/index.ts';
import { formatColumns } from './printer.ts';

interface Usage {
  cpu?: string;
  memory?: string;
}

const millicores = (q: string | undefined): number => Math.round((parseQuantity(q ?? '0') ?? 0) * 1000);
const mebibytes = (q: string | undefined): number => Math.floor((parseQuantity(q ?? '0') ?? 0) / 2 ** 20);

function percent(used: number, of: number): string {
  return of > 0 ? `${Math.round((used / of) * 100)}%` : '<unknown>';
}

/** NAME CPU(cores) CPU(%) MEMORY(bytes) MEMORY(%); nodes without metrics are listed as kubectl does. */
export function topNodes(metrics: readonly KubeObject[], nodes: readonly KubeObject[]): string {
  const rows: string[][] = [['NAME', 'CPU(cores)', 'CPU(%)', 'MEMORY(bytes)', 'MEMORY(%)']];
  const byName = new Map(metrics.map((m) => [m.metadata.name ?? '', (m['usage'] ?? {}) as Usage]));
  for (const node of [...nodes].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''))) {
    const name = node.metadata.name ?? '';
    const usage = byName.get(name);
    const allocatable: Usage = asNode(node).status?.allocatable ?? {};
    if (usage === undefined) {
      rows.push([name, '<unknown>', '<unknown>', '<unknown>', '<unknown>']);
      continue;
    }
    const cpu = millicores(usage.cpu);
    const mem = mebibytes(usage.memory);
    rows.push([name, `${cpu}m`, percent(cpu, millicores(allocatable.cpu)), `${mem}Mi`, percent(mem, mebibytes(allocatable.memory))]);
  }
  return formatColumns(rows);
}

/** NAME CPU(cores) MEMORY(bytes), summed over the pod's containers; NAMESPACE first with -A. */
export function topPods(metrics: readonly KubeObject[], withNamespace: boolean): string {
  const rows: string[][] = [[...(withNamespace ? ['NAMESPACE'] : []), 'NAME', 'CPU(cores)', 'MEMORY(bytes)']];
  const sorted = [...metrics].sort((a, b) => `${a.metadata.namespace ?? ''}/${a.metadata.name ?? ''}`.localeCompare(`${b.metadata.namespace ?? ''}/${b.metadata.name ?? ''}`));
  for (const pod of sorted) {
    const containers = (pod['containers'] ?? []) as { usage?: Usage }[];
    const cpu = containers.reduce((sum, c) => sum + millicores(c.usage?.cpu), 0);
    const mem = containers.reduce((sum, c) => sum + (parseQuantity(c.usage?.memory ?? '0') ?? 0), 0);
    rows.push([...(withNamespace ? [pod.metadata.namespace ?? ''] : []), pod.metadata.name ?? '', `${cpu}m`, `${Math.floor(mem / 2 ** 20)}Mi`]);
  }
  return formatColumns(rows);
}
