/**
 * The process-wide default store: a {@link FileStore} at `GPU_DAG_HOME` (or `~/.gpu-dag`).
 *
 * @module
 */
import { defaultStoreHome, FileStore } from "./file-store.js";
import type { Store } from "./store.js";

const stores = new Map<string, FileStore>();

/** The file store at `GPU_DAG_HOME` as it is now; one instance per directory. */
export function defaultStore(): Store {
  const home = defaultStoreHome();
  let store = stores.get(home);
  if (!store) {
    store = new FileStore({ home });
    stores.set(home, store);
  }
  return store;
}
