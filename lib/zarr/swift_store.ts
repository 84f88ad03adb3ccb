/**
 * `SwiftStore`: a zarr v3 store in an OpenStack Swift container, spoken to
 * natively (TempAuth v1.0 or a pre-authenticated token, no S3 layer), with
 * the options of the Python `zarr-swiftstore`.
 *
 * @module
 */
import { type EnvReader, readEnv } from "../env.ts";
import { NotFoundError } from "../stores/errors.ts";
import { registerSecret } from "../stores/redact.ts";
import { openLocation, swiftAuthFor } from "../stores/registry.ts";
import { type RetryOptions, withRetry } from "../stores/retry_store.ts";
import type { ObjectStore } from "../stores/store.ts";
import { classify, type SwiftAuthOptions, SwiftClient, swiftSession } from "../stores/swift/mod.ts";
import { ZarrStore, type ZarrStoreOptions } from "./store.ts";

/**
 * Swift credentials with zarr-swiftstore's names: `{ preauthurl,
 * preauthtoken }` (a storage URL and a token), or `{ authurl, user, key }`
 * (TempAuth v1.0). Unset, they come from `OS_STORAGE_URL` + `OS_AUTH_TOKEN`
 * or `ST_AUTH` + `ST_USER` + `ST_KEY`.
 */
export interface SwiftStorageOptions {
  /** The storage URL of a pre-authenticated token (`OS_STORAGE_URL`). */
  preauthurl?: string | undefined;
  /** A pre-authenticated token (`OS_AUTH_TOKEN`). */
  preauthtoken?: string | undefined;
  /** The TempAuth v1.0 URL (`ST_AUTH`). */
  authurl?: string | undefined;
  /** The user, `account:user` (`ST_USER`). */
  user?: string | undefined;
  /** The password (`ST_KEY`). */
  key?: string | undefined;
}

/** Options of {@linkcode SwiftStore.open}. */
export interface SwiftStoreOpenOptions extends ZarrStoreOptions {
  /** The container; created when missing (unless read-only). */
  container: string;
  /** Credentials. @default from the environment */
  storageOptions?: SwiftStorageOptions | undefined;
  /** Names per Swift listing page. @default the driver's (10,000) */
  listingPageSize?: number | undefined;
  /** Values larger than this are uploaded as SLO segments. @default the driver's */
  segmentSizeBytes?: number | undefined;
  /** Retries of transient failures; `false` for none. @default RetryStore's defaults */
  retry?: RetryOptions | false | undefined;
  /** Where environment variables are read. @default the process environment */
  env?: EnvReader | undefined;
}

/**
 * Resolves zarr-swiftstore style credentials: complete explicit options win
 * (a token pair before a TempAuth triple); without options, the environment
 * as ferry's `swift://` URLs read it (`ST_AUTH` + `ST_USER` + `ST_KEY` first,
 * since TempAuth can renew an expired token, with `OS_STORAGE_URL` as the
 * storage URL when set; then `OS_STORAGE_URL` + `OS_AUTH_TOKEN`).
 *
 * @example Explicit options and the environment
 * ```ts
 * import { swiftAuthFromStorageOptions } from "./swift_store.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(
 *   swiftAuthFromStorageOptions({ preauthurl: "http://s/v1/AUTH_t", preauthtoken: "tk" }),
 *   { storageUrl: "http://s/v1/AUTH_t", token: "tk" },
 * );
 * const env = { ST_AUTH: "http://s/auth/v1.0", ST_USER: "t:u", ST_KEY: "k" } as Record<string, string>;
 * deepEqual(
 *   swiftAuthFromStorageOptions({}, (name) => env[name]),
 *   { authUrl: "http://s/auth/v1.0", user: "t:u", key: "k", storageUrl: undefined },
 * );
 * ```
 *
 * @param options The storage options.
 * @param env Where environment variables are read.
 * @returns Driver auth options.
 * @throws {TypeError} When neither the options nor the environment are complete.
 */
export function swiftAuthFromStorageOptions(
  options: SwiftStorageOptions = {},
  env: EnvReader = readEnv,
): SwiftAuthOptions {
  const { preauthurl, preauthtoken, authurl, user, key } = options;
  registerSecret(preauthtoken);
  registerSecret(key);
  if (preauthurl && preauthtoken) return { storageUrl: preauthurl, token: preauthtoken };
  if (authurl && user && key) {
    return { authUrl: authurl, user, key, storageUrl: preauthurl || undefined };
  }
  const given = Object.entries(options).filter(([, v]) => v).map(([k]) => k);
  if (given.length > 0) {
    throw new TypeError(
      `Incomplete Swift storageOptions (${
        given.join(", ")
      }): expected { preauthurl, preauthtoken } or { authurl, user, key }`,
    );
  }
  // The environment, as ferry's swift:// URLs read it.
  return swiftAuthFor(null, env);
}

/**
 * A zarr v3 store in a Swift container, under an optional prefix. Usable by
 * zarrita as is, with the zarr-python method set of {@linkcode ZarrStore}.
 *
 * @example Opening a store on the test server and writing an array with zarrita
 * ```ts ignore
 * import * as zarr from "zarrita";
 * import { SwiftStore } from "./swift_store.ts";
 * const store = await SwiftStore.open({
 *   container: "climate",
 *   prefix: "runs/2024",
 *   storageOptions: { authurl: "http://127.0.0.1:8080/auth/v1.0", user: "test:tester", key: "testing" },
 * });
 * const arr = await zarr.create(zarr.root(store).resolve("t2m"), {
 *   shape: [365, 180, 360], chunkShape: [1, 180, 360], dtype: "float32",
 * });
 * ```
 */
export class SwiftStore extends ZarrStore {
  /** The container. */
  readonly container: string;

  /**
   * Prefer {@linkcode SwiftStore.open}, which also creates the container.
   *
   * @param store The Swift object store (possibly wrapped) of `container`.
   * @param container The container's name, for `toString()`.
   * @param options Prefix, read-only mode, concurrency.
   */
  constructor(store: ObjectStore, container: string, options: ZarrStoreOptions = {}) {
    super(store, options);
    this.container = container;
  }

  /**
   * Opens a zarr store in a Swift container, creating the container when it
   * is missing (a read-only store never creates; it throws `NotFoundError`).
   * Auth failures are thrown here, not at the first read.
   *
   * @param options Container, prefix, credentials, tuning.
   * @returns The store.
   * @throws {TypeError} On missing or incomplete credentials, or an empty container name.
   * @throws {PermissionDeniedError} When the credentials are refused.
   * @throws {NotFoundError} When a read-only store's container is missing.
   */
  static async open(options: SwiftStoreOpenOptions): Promise<SwiftStore> {
    const { container } = options;
    if (!container || container.includes("/")) {
      throw new TypeError(
        `Invalid Swift container ${
          JSON.stringify(container)
        }: expected a non-empty name without "/"`,
      );
    }
    const env = options.env ?? readEnv;
    const auth = swiftAuthFromStorageOptions(options.storageOptions, env);
    const retry = options.retry === false ? { maxAttempts: 1 } : options.retry;
    const { store } = openLocation(
      { store_type: "swift", store_container: container, store_endpoint_url: null, key: "" },
      {
        env,
        retry,
        swiftAuth: auth,
        swiftSegmentSizeBytes: options.segmentSizeBytes,
        listingPageSize: options.listingPageSize,
      },
    );
    await withRetry(
      () => ensureContainer(auth, container, options.readOnly ?? false, String(store)),
      retry,
    );
    return new SwiftStore(store, container, options);
  }

  /**
   * The same store, read-only or writable.
   *
   * @param readOnly Whether writes are refused.
   * @returns A new store over the same container and prefix.
   */
  override withReadOnly(readOnly = false): SwiftStore {
    return new SwiftStore(this.store, this.container, {
      prefix: this.prefix,
      readOnly,
      maxConcurrency: this.maxConcurrency,
    });
  }

  /**
   * A short description, with no secret in it
   *
   * @returns `SwiftStore(swift://container/prefix)`, with `read-only` when it is.
   */
  override toString(): string {
    return `SwiftStore(swift://${this.container}/${this.prefix}${
      this.readOnly ? ", read-only" : ""
    })`;
  }
}

/** HEADs the container and PUTs it when missing (unless read-only). */
async function ensureContainer(
  auth: SwiftAuthOptions,
  container: string,
  readOnly: boolean,
  store: string,
): Promise<void> {
  const client = new SwiftClient(swiftSession(auth));
  const head = await client.request({ method: "HEAD", container });
  await head.body?.cancel();
  if (head.ok) return;
  if (head.status !== 404) {
    throw await classify(head, { operation: "HEAD", container, store });
  }
  if (readOnly) {
    throw new NotFoundError(`Swift container not found: "${container}"`, { store });
  }
  const put = await client.request({ method: "PUT", container });
  if (!put.ok) throw await classify(put, { operation: "PUT", container, store });
  await put.body?.cancel();
}
