// <data-dir>/members.json: where the other members listen, kept beside the log (see
// RaftNodeOptions.onMembersChanged): a restarted node must reach its peers before the log or a
// snapshot tells it where they are.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

export function readMembers(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  } catch (error) {
    throw new Error(`${file} is damaged (${(error as Error).message}); it lists where the other members listen. Restore it, or move the data dir aside and start this node with an empty --data-dir and --join <client address of a member> under a new --name.`);
  }
}

/** Written to a temporary file, synced and renamed: a crash leaves the old table or the new one. */
export function writeMembers(file: string, members: Record<string, string>): void {
  const temp = `${file}.tmp`;
  writeFileSync(temp, `${JSON.stringify(members, null, 2)}\n`);
  const fd = openSync(temp, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(temp, file);
}
