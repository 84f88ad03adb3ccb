/**
 * zarr v3 stores over every ferry object store: {@linkcode ZarrStore} wraps
 * any `ObjectStore` and a prefix; {@linkcode SwiftStore.open} opens one in an
 * OpenStack Swift container (the JavaScript counterpart of the Python
 * `zarr-swiftstore`). Both are used directly by `zarrita` (`get`, `getRange`,
 * `set` with absolute keys) and offer zarr-python's store method set (`exists`,
 * `delete`, `deleteDir`, `list`, `listPrefix`, `listDir`, `getSize`,
 * `getSizePrefix`, `isEmpty`, `clear`, read-only mode). Requests are bounded by
 * `maxConcurrency` (default 16) but never serialized.
 *
 * @example A zarrita array in a memory store
 * ```ts
 * import * as zarr from "zarrita";
 * import { MemoryStore } from "../stores/memory.ts";
 * import { ZarrStore } from "./mod.ts";
 * import { deepEqual } from "node:assert/strict";
 * const store = new ZarrStore(new MemoryStore(), { prefix: "datasets/demo" });
 * const arr = await zarr.create(zarr.root(store), { shape: [3], chunkShape: [3], dtype: "float32" });
 * await zarr.set(arr, null, { data: new Float32Array([1, 2, 3]), shape: [3], stride: [1] });
 * deepEqual((await Array.fromAsync(store.list())).sort(), ["c/0", "zarr.json"]);
 * ```
 *
 * @module
 */
export {
  DEFAULT_ZARR_MAX_CONCURRENCY,
  toByteRange,
  type ZarrByteRange,
  type ZarrDirListing,
  ZarrStore,
  type ZarrStoreOptions,
} from "./store.ts";
export { isPublic, setPublic, togglePublic } from "./container_acl.ts";
export {
  swiftAuthFromStorageOptions,
  type SwiftStorageOptions,
  SwiftStore,
  type SwiftStoreOpenOptions,
} from "./swift_store.ts";
