import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { ProcessGroup } from '../../test/lib/processes.ts';

/** One line naming the machine, so figures are never quoted without it. */
export function machineLine(): string {
  const cpu = cpus();
  return `machine: ${cpu.length} x ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, Node ${process.version}, data dirs under ${tmpdir()}, load average ${loadavg().map((value) => value.toFixed(2)).join(' ')} at start`;
}

const openGroups = new Set<ProcessGroup>();

async function cleanupAll(): Promise<void> {
  await Promise.all([...openGroups].map((group) => group.cleanup()));
  openGroups.clear();
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping every process this bench started and removing its data dirs`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

/**
 * Runs a bench's part with its own process group (every process it starts, by pid, and one temp
 * root for their data dirs) and removes all of it afterwards, also on Ctrl-C. A part that cannot
 * run (a cluster that does not start) is reported with its processes' last log lines and yields
 * undefined: the bench goes on with the other system and prints what it has.
 */
export async function withCluster<T>(label: string, body: (group: ProcessGroup) => Promise<T>): Promise<T | undefined> {
  const group = new ProcessGroup();
  openGroups.add(group);
  try {
    return await body(group);
  } catch (error) {
    const tail = group.logs().split('\n').slice(-40).join('\n');
    console.error(`${label}: ${(error as Error).message}\n--- last log lines ---\n${tail}\n---`);
    process.exitCode = 1;
    return undefined;
  } finally {
    await group.cleanup();
    openGroups.delete(group);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
