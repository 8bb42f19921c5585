// Stage "storage": the Raft log and the MVCC store in the data dir.
import { LevelStorage } from '../raftnode/level-storage.ts';
import { bootstrapSnapshotData } from '../raftnode/node.ts';
import { MvccStore } from '../store/index.ts';
import type { Stoppable } from './stages.ts';

export interface NodeStorage extends Stoppable {
  log: LevelStorage;
  mvcc: MvccStore;
}

/** Opens both; `bootstrapMembers` (name -> peer address) only for the first start of a new cluster. */
export async function openStorage(dirs: { raftDir: string; storeDir: string }, bootstrapMembers: Record<string, string> | null): Promise<NodeStorage> {
  const voters = bootstrapMembers ? Object.keys(bootstrapMembers) : [];
  const log = await LevelStorage.open(dirs.raftDir, { voters, learners: [] }, bootstrapMembers ? bootstrapSnapshotData(bootstrapMembers) : undefined);
  let mvcc: MvccStore;
  try {
    mvcc = await MvccStore.open(dirs.storeDir);
  } catch (error) {
    await log.close();
    throw error;
  }
  return {
    log,
    mvcc,
    stop: async () => {
      await mvcc.close();
      await log.close();
    },
  };
}
