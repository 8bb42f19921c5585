import type { ContainerId, ContainerStatus, PodSandboxStatus, Runtime, SandboxId } from '../runtime/runtime.ts';

export interface PodGarbage {
  containers: ContainerId[];
  sandboxes: SandboxId[];
}

/**
 * What of a live pod's engine objects may go, as the kubelet's container GC decides it (one dead
 * container kept per pod container, sandboxes with no containers left removed unless current):
 * - per container name, every dead attempt but the newest one: the newest dead attempt is what
 *   `lastState` and `kubectl logs --previous` show, and it keeps the attempt counter going;
 * - every sandbox that is not ready, not the newest, and holds no container that is kept.
 * A crash-looping pod then holds at most its sandbox, its live containers and one dead attempt
 * per container, however often it restarts (on a Pi's SD card that matters).
 */
export function planPodGarbage(containers: ContainerStatus[], sandboxes: PodSandboxStatus[]): PodGarbage {
  const ready = new Set(sandboxes.filter((s) => s.state === 'ready').map((s) => s.id));
  // A container created but never started counts as dead once its sandbox is gone.
  const dead = (c: ContainerStatus) => c.state.kind === 'terminated' || (c.state.kind === 'waiting' && !ready.has(c.sandboxId));
  const newestDead = new Map<string, ContainerStatus>();
  for (const c of containers) {
    if (!dead(c)) continue;
    const kept = newestDead.get(c.name);
    if (!kept || c.attempt > kept.attempt) newestDead.set(c.name, c);
  }
  const garbage = containers.filter((c) => dead(c) && newestDead.get(c.name) !== c);
  const removed = new Set(garbage.map((c) => c.id));
  const inUse = new Set(containers.filter((c) => !removed.has(c.id)).map((c) => c.sandboxId));
  const newest = sandboxes.reduce<PodSandboxStatus | null>((best, s) => (!best || s.attempt > best.attempt ? s : best), null);
  const deadSandboxes = sandboxes.filter((s) => s.state !== 'ready' && s !== newest && !inUse.has(s.id));
  return { containers: garbage.map((c) => c.id), sandboxes: deadSandboxes.map((s) => s.id) };
}

/** Removes what `planPodGarbage` chose; returns the lists without what was removed. */
export async function collectPodGarbage(
  runtime: Runtime,
  containers: ContainerStatus[],
  sandboxes: PodSandboxStatus[],
): Promise<{ containers: ContainerStatus[]; sandboxes: PodSandboxStatus[] }> {
  const garbage = planPodGarbage(containers, sandboxes);
  if (garbage.containers.length === 0 && garbage.sandboxes.length === 0) return { containers, sandboxes };
  for (const id of garbage.containers) await runtime.removeContainer(id);
  for (const id of garbage.sandboxes) await runtime.removePodSandbox(id);
  const gone = new Set([...garbage.containers, ...garbage.sandboxes]);
  return { containers: containers.filter((c) => !gone.has(c.id)), sandboxes: sandboxes.filter((s) => !gone.has(s.id)) };
}
