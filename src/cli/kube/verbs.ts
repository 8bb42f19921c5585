// kubectl's everyday verbs for Bramble, one file each in verbs/: get, describe, create -f, apply -f,
// delete, scale, run, logs, exec, rollout status|restart|history|undo, top nodes|pods, api-resources,
// cluster-info. They speak HTTPS to any node's API with the kubeconfig (see kubeconfig.ts) and print
// what kubectl prints, using the server's Table for `get`. A new verb is a file in verbs/ and a line here.
import type { Command } from 'commander';
import { registerApiResources } from './verbs/api-resources.ts';
import { registerApply } from './verbs/apply.ts';
import { registerClusterInfo } from './verbs/cluster-info.ts';
import type { Io } from './verbs/common.ts';
import { registerCreate } from './verbs/create.ts';
import { registerDelete } from './verbs/delete.ts';
import { registerDescribe } from './verbs/describe.ts';
import { registerExec } from './verbs/exec.ts';
import { registerGet } from './verbs/get.ts';
import { registerLogs } from './verbs/logs.ts';
import { registerRollout } from './verbs/rollout.ts';
import { registerRun } from './verbs/run.ts';
import { registerScale } from './verbs/scale.ts';
import { registerTop } from './verbs/top.ts';

/** In the order `bramble --help` lists them. */
const verbs: readonly ((program: Command, io: Io) => void)[] = [registerGet, registerCreate, registerApply, registerDelete, registerScale, registerRun, registerLogs, registerExec, registerDescribe, registerRollout, registerTop, registerApiResources, registerClusterInfo];

export function registerKubeCommands(program: Command, io: Io): void {
  for (const register of verbs) register(program, io);
}
