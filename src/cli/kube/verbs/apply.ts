// `bramble apply -f`: creates, or patches with kubectl's last-applied annotation and a strategic merge patch.
import type { Command } from 'commander';
import { isDeepStrictEqual } from 'node:util';
import { applyStrategicMergePatch } from '../../../api/resources/patch.ts';
import type { KubeObject } from '../../../api/resources/types.ts';
import { UsageError } from '../../output.ts';
import { KubeApi, KubeApiError } from '../api.ts';
import { applyPatch, withLastApplied } from '../apply-patch.ts';
import { resourceName } from '../printer.ts';
import { eachManifest, type FileFlags, fileOptions, fillKind, type Io, printingServerErrors } from './common.ts';

export function registerApply(program: Command, io: Io): void {
  fileOptions(program.command('apply'))
    .description('create the objects of manifests, or bring existing ones in line with them')
    .addHelpText(
      'after',
      `
Examples:
  bramble apply -f deployment.yaml          # first time: created; after an edit: configured
  bramble apply -f ./manifests/ -R

As kubectl, apply records the manifest in the kubectl.kubernetes.io/last-applied-configuration
annotation: a field removed from the manifest is removed from the object at the next apply, fields
set by others stay. The patch is a strategic merge patch (containers merged by name, so server
defaults stay); an element removed from such a list is not removed.`,
    )
    .action(printingServerErrors(io, async (flags: FileFlags) => {
      await eachManifest(io, flags, async ({ object, source, info, ns, api }) => {
        const name = object.metadata.name;
        if (name === undefined || name === '') throw new UsageError(`${source}: apply needs metadata.name`);
        let existing: KubeObject | undefined;
        try {
          existing = await api.request<KubeObject>('GET', KubeApi.path(info, ns, name));
        } catch (err) {
          if (!(err instanceof KubeApiError && err.code === 404)) throw err;
        }
        if (existing === undefined) {
          const created = await api.request<KubeObject>('POST', KubeApi.path(info, ns), { body: withLastApplied(object) });
          io.out(`${resourceName(fillKind(info, created))} created\n`);
          return;
        }
        const patch = applyPatch(existing, object);
        // Like kubectl, a patch that would change nothing is not sent.
        if (isDeepStrictEqual(applyStrategicMergePatch(info, existing, patch), existing)) {
          io.out(`${resourceName(fillKind(info, existing))} unchanged\n`);
          return;
        }
        const patched = await api.request<KubeObject>('PATCH', KubeApi.path(info, ns, name), { body: patch, contentType: 'application/strategic-merge-patch+json' });
        io.out(`${resourceName(fillKind(info, patched))} configured\n`);
      });
    }));
}
