// `bramble create -f`: POSTs each manifest's object; one that exists fails (apply updates it).
import type { Command } from 'commander';
import type { KubeObject } from '../../../api/resources/types.ts';
import { KubeApi } from '../api.ts';
import { resourceName } from '../printer.ts';
import { eachManifest, type FileFlags, fileOptions, fillKind, type Io, printingServerErrors } from './common.ts';

export function registerCreate(program: Command, io: Io): void {
  fileOptions(program.command('create'))
    .description('create the objects of manifests (fails for objects that exist; see apply)')
    .addHelpText('after', '\nExamples:\n  bramble create -f deployment.yaml\n  bramble create -f ./manifests/\n  cat pod.yaml | bramble create -f -\n')
    .action(printingServerErrors(io, async (flags: FileFlags) => {
      await eachManifest(io, flags, async ({ object, info, ns, api }) => {
        const created = await api.request<KubeObject>('POST', KubeApi.path(info, ns), { body: object });
        io.out(`${resourceName(fillKind(info, created))} created\n`);
      });
    }));
}
