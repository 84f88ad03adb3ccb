/**
 * Packages through OCI registries, compatible with stacpkg 0.1.x: push a
 * package folder as stacpkg's artifact, pull one back (every blob verified
 * before anything lands), inspect one from its manifest. ferry's own
 * distribution client over `fetch`: Docker config credentials, Basic and
 * Bearer-token auth, HEAD before upload, cross-repository mount, monolithic
 * and chunked uploads that resume, ranged GETs that resume.
 *
 * @example The layers a package folder becomes
 * ```ts
 * import { layerMediaTypeOf, parseReference } from "./mod.ts";
 * import { equal } from "node:assert/strict";
 * equal(parseReference("oci://127.0.0.1:5000/team/pkg").tag, "latest");
 * equal(layerMediaTypeOf("README.md"), "text/markdown");
 * ```
 *
 * @module
 */
export { formatReference, type OciReference, parseReference } from "./reference.ts";
export * from "./media_types.ts";
export {
  checkSafePath,
  comparePaths,
  type LayerSource,
  type PlannedLayer,
  planPackageLayers,
  type ZipSourceFile,
} from "./artifact.ts";
export type { RetryOptions } from "../stores/retry_store.ts";
export { readZipEntries, writeDeterministicZip, type ZipEntryInfo } from "./zip.ts";
export {
  type AuthBackend,
  type AuthChallenge,
  type CredentialSources,
  loadCredentials,
  parseChallenge,
  RegistryAuth,
  type RegistryCredentials,
} from "./auth.ts";
export {
  type FetchedManifest,
  openRegistry,
  RegistryClient,
  type RegistryClientOptions,
  type RegistryOptions,
  type RequestOptions,
} from "./client.ts";
export {
  type Descriptor,
  type PackageManifest,
  packageManifestBytes,
  parsePackageManifest,
} from "./manifest.ts";
export { type PushedLayer, type PushOptions, pushPackage, type PushReport } from "./push.ts";
export {
  type LayerTarget,
  layerTargets,
  type PullOptions,
  pullPackage,
  type PullReport,
} from "./pull.ts";
export {
  formatRemotePackageInfo,
  inspectRemotePackage,
  type RemotePackageFile,
  type RemotePackageInfo,
} from "./inspect.ts";
