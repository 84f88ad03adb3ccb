/**
 * Native OpenStack Swift: the {@linkcode SwiftObjectStore} driver (TempAuth
 * v1.0 or pre-authenticated tokens, re-auth on 401, paged listings, SLO for
 * large objects, bulk delete), TempURL signing and container read ACLs.
 *
 * @example Signing a TempURL
 * ```ts
 * import { tempUrl } from "./mod.ts";
 * import { match } from "node:assert/strict";
 * const url = tempUrl("https://swift.example/v1/AUTH_a/c/o.bin", {
 *   key: "secret-key", method: "GET", expiresAt: 1700000000,
 * });
 * match(url, /^https:\/\/swift\.example\/v1\/AUTH_a\/c\/o\.bin\?temp_url_sig=[0-9a-f]{64}&temp_url_expires=1700000000$/);
 * ```
 *
 * @module
 */
export {
  authenticate,
  type SwiftAuthOptions,
  type SwiftCredentials,
  SwiftSession,
  swiftSession,
} from "./auth.ts";
export { classify, SwiftClient, swiftPath, type SwiftRequest } from "./client.ts";
export { SwiftObjectStore, type SwiftObjectStoreOptions } from "./store.ts";
export {
  TEMP_URL_METHODS,
  tempUrl,
  type TempUrlDigest,
  tempUrlKey,
  type TempUrlMethod,
  type TempUrlOptions,
} from "./tempurl.ts";
export {
  getContainerRead,
  isPublicReadAcl,
  PUBLIC_READ_ACL,
  setContainerPublic,
  setContainerRead,
  withoutPublicRead,
  withPublicRead,
} from "./acl.ts";
