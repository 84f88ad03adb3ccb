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
export {
  type AppendOptions,
  appendRefs,
  type AppendResult,
  compactManifest,
  type CompactOptions,
  type CompactReport,
  createShard,
  type CreateShardOptions,
  createShards,
  type CreateShardsOptions,
  deleteByManifest,
  type DeleteErrors,
  deleteKeys,
  deletePrefix,
  type DeleteReport,
  downloadManifest,
  downloadObjects,
  type DownloadReport,
  type ExchangeOptions,
  type FileEntry,
  getObject,
  inferIdFromKey,
  InvalidManifestError,
  iterObjects,
  type IterObjectsOptions,
  KeyScope,
  KeyTemplates,
  type KeyVars,
  type LineOrigin,
  type ListFilesOptions,
  listManifestFiles,
  type ManifestEntry,
  ManifestNotFoundError,
  type ManifestRefEntry,
  ManifestWriter,
  type ManifestWriterOptions,
  MissingPlaceholderError,
  normalizeKey,
  type ObjectWithEntry,
  openShardMember,
  parseEntries,
  parseEntry,
  parseShardSources,
  partKeyFor,
  putObject,
  type PutObjectOptions,
  type PutSource,
  readManifest,
  type ReadManifestOptions,
  readShardManifest,
  readShardMembers,
  type ResolvedItem,
  resolveTemplate,
  type RootUpdate,
  serializeEntry,
  type ShardEntry,
  shardEntryForKey,
  type ShardItem,
  type ShardMember,
  ShardReadError,
  type ShardReadOptions,
  type SourceObject,
  splitShardItems,
  type TarMember,
  type TarMemberHeader,
  writeManifest,
  type WriteMode,
  type WriteReport,
} from "./lib/exchange/mod.ts";
export { formatSize, parseSize } from "./lib/units.ts";
