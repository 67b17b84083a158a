export { clientNetwork } from './network.js';
export { type GreylistOptions, greylist } from './plugin.js';
export {
  type GreylistRecord,
  type GreylistRedisClient,
  type GreylistStore,
  MemoryGreylistStore,
  type MemoryGreylistStoreOptions,
  RedisGreylistStore,
  type RedisGreylistStoreOptions,
} from './store.js';
