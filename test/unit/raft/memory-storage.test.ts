import { MemoryStorage } from '../../../src/raft/memory-storage.ts';
import { storageContract } from './storage-contract.ts';

storageContract('MemoryStorage', async () => ({ storage: new MemoryStorage(), close: async () => {} }));
