// `bramble api-resources`: the resource types from the API's discovery documents.
import type { Command } from 'commander';
import { formatColumns } from '../printer.ts';
import { type CommonFlags, connect, type Io, printingServerErrors, withConnectionFlags } from './common.ts';

export function registerApiResources(program: Command, io: Io): void {
  withConnectionFlags(program.command('api-resources'))
    .description('the resource types the API serves (from its discovery documents)')
    .option('--namespaced <bool>', 'only namespaced (true) or cluster-scoped (false) types')
    .addHelpText('after', '\nExamples:\n  bramble api-resources\n  bramble api-resources --namespaced=false\n')
    .action(printingServerErrors(io, async (flags: CommonFlags & { namespaced?: string }) => {
      const { api } = connect(flags);
      interface ApiResource {
        name: string;
        shortNames?: string[];
        namespaced: boolean;
        kind: string;
      }
      const groupVersions: string[] = ['v1'];
      const groups = await api.request<{ groups: { preferredVersion?: { groupVersion: string }; versions: { groupVersion: string }[] }[] }>('GET', '/apis');
      for (const g of groups.groups) {
        const gv = g.preferredVersion?.groupVersion ?? g.versions[0]?.groupVersion;
        if (gv !== undefined) groupVersions.push(gv);
      }
      const rows: string[][] = [['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND']];
      for (const gv of groupVersions) {
        const list = await api.request<{ resources: ApiResource[] }>('GET', gv === 'v1' ? '/api/v1' : `/apis/${gv}`);
        for (const r of list.resources) {
          if (r.name.includes('/')) continue; // subresources are not listed
          if (flags.namespaced !== undefined && String(r.namespaced) !== flags.namespaced) continue;
          rows.push([r.name, (r.shortNames ?? []).join(','), gv, String(r.namespaced), r.kind]);
        }
      }
      io.out(formatColumns(rows));
    }));
}
