/**
 * ferry: package STAC items and their assets into verifiable artifacts, and
 * move data between object stores (files, HTTP, S3, OpenStack Swift) without
 * losing a byte or a fact about it.
 *
 * @example Copying an object between two stores
 * ```ts
 * import { copyObject, getBytes, openLocation, putBytes } from "./mod.ts";
 * import { equal } from "node:assert/strict";
 * const a = openLocation("memory://a/x.bin");
 * const b = openLocation("memory://b/y.bin");
 * await putBytes(a.store, a.key, new Uint8Array([1, 2, 3]));
 * await copyObject(a, b);
 * equal((await getBytes(b.store, b.key)).length, 3);
 * ```
 *
 * @module
 */
export * from "./lib/stores/mod.ts";
export * from "./lib/stac/mod.ts";
export * from "./lib/lock/mod.ts";
export * from "./lib/package/mod.ts";
export * from "./lib/zarr/mod.ts";
export * from "./lib/pipeline/mod.ts";
export {
  type AuthBackend,
  type CredentialSources,
  type Descriptor,
  formatReference,
  formatRemotePackageInfo,
  inspectRemotePackage,
  loadCredentials,
  type OciReference,
  parseReference,
  type PullOptions,
  pullPackage,
  type PullReport,
  type PushedLayer,
  type PushOptions,
  pushPackage,
  type PushReport,
  type RegistryCredentials,
  type RegistryOptions,
  type RemotePackageFile,
  type RemotePackageInfo,
} from "./lib/oci/mod.ts";
export { formatSize, parseSize } from "./lib/units.ts";
