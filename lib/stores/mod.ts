/**
 * The store layer: one {@linkcode ObjectStore} contract, drivers for files,
 * memory, HTTP(S), S3, Swift and public gs/az objects, wrappers, locations and the registry that
 * opens a store for an href.
 *
 * @example Opening a store for an href and reading an object
 * ```ts
 * import { openLocation, putBytes, getBytes } from "./mod.ts";
 * import { equal } from "node:assert/strict";
 * const { store, key } = openLocation("memory://docs/hello.txt");
 * await putBytes(store, key, new TextEncoder().encode("hello"));
 * equal(new TextDecoder().decode(await getBytes(store, key)), "hello");
 * ```
 *
 * @module
 */
export * from "./store.ts";
export * from "./errors.ts";
export * from "./ext.ts";
export * from "./location.ts";
export * from "./registry.ts";
export { redact, registerSecret } from "./redact.ts";
export { type RetryOptions, RetryStore, withRetry } from "./retry_store.ts";
export { LimitStore, type LimitStoreOptions, Semaphore } from "./limit_store.ts";
export { MetricsStore, type StoreMetrics } from "./metrics_store.ts";
export { MemoryStore, type MemoryStoreOptions } from "./memory.ts";
export { FileStore, type FileStoreOptions } from "./file.ts";
export { HttpStore, type HttpStoreOptions } from "./http.ts";
export {
  GCS_PUBLIC_ENDPOINT,
  PublicBucketStore,
  type PublicBucketStoreOptions,
  type PublicBucketTarget,
  publicBucketTarget,
  type PublicBucketType,
} from "./public_bucket.ts";
// The S3 driver (lib/stores/s3/mod.ts) is not re-exported here: it loads the
// AWS SDK, which registry.ts loads only when an s3:// location is opened.
export {
  type SwiftAuthOptions,
  SwiftObjectStore,
  type SwiftObjectStoreOptions,
} from "./swift/mod.ts";
