// storage-gateway: owns the storage backends in cluster mode and serves them on the storage commands.
import { z } from 'zod';
import { serveObjectStore } from '@tresor/messaging';
import { baseConfigSchema, loadConfig, runService, start } from '@tresor/service';
import { LocalStore, tracedStore } from '@tresor/storage';

const configSchema = baseConfigSchema.extend({
  /** The local backend's directory (other backends come with the storage issue). */
  TRESOR_STORAGE_PATH: z.string().min(1),
  TRESOR_UPLOAD_IDLE_MS: z.coerce.number().int().min(1000).default(60_000),
});

start(async () => {
  const config = loadConfig(configSchema);
  const store = await LocalStore.open({ path: config.TRESOR_STORAGE_PATH });
  await runService({
    name: 'storage-gateway',
    config,
    async setup({ bus }) {
      // Each storage command is a server span (Bus); the backend call under it is a client span.
      const stop = serveObjectStore(bus, tracedStore(store, 'local'), { idleUploadMs: config.TRESOR_UPLOAD_IDLE_MS });
      return { stop: async () => stop() };
    },
  });
});
