import { MemoryPoolStore } from '../../src/pool/store/memory-pool.store';
import { poolStoreContract } from '../support/pool-store.contract';

poolStoreContract('MemoryPoolStore', async (now) => ({ store: new MemoryPoolStore(now), dispose: async () => undefined }));
