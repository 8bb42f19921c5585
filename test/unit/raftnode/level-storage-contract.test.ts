import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LevelStorage } from '../../../src/raftnode/level-storage.ts';
import { storageContract } from '../raft/storage-contract.ts';

storageContract('LevelStorage', async () => {
  const root = mkdtempSync(join(tmpdir(), 'bramble-level-contract-'));
  const dir = join(root, 'raft');
  let current = await LevelStorage.open(dir);
  return {
    get storage() {
      return current;
    },
    reopen: async () => {
      await current.close();
      current = await LevelStorage.open(dir);
      return current;
    },
    close: async () => {
      await current.close().catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
});
