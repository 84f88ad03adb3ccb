/**
 * A read-only driver for Google Cloud Storage (`gs://bucket/key`) and Azure
 * Blob Storage (`az://container/key`) objects that anyone may read: HEAD, GET
 * and ranged GET over the public HTTPS endpoints
 * (`https://storage.googleapis.com/BUCKET/KEY`,
 * `https://ACCOUNT.blob.core.windows.net/CONTAINER/KEY`), without
 * credentials, through the http driver. Writing, deleting and listing throw
 * `NotSupportedError`.
 *
 * Endpoints, as the Google and Azure clients name them:
 * - `gs`: the location's `store_endpoint_url`, else `STORAGE_EMULATOR_HOST`
 *   (the Google clients' emulator variable; `http://` when it has no scheme),
 *   else `https://storage.googleapis.com`.
 * - `az`: the account in an `abfs[s]://container@ACCOUNT.dfs.core.windows.net`
 *   container, else the location's `store_endpoint_url`, else
 *   `AZURE_STORAGE_ENDPOINT`, else `https://ACCOUNT.blob.core.windows.net` for
 *   `AZURE_STORAGE_ACCOUNT_NAME` (or `AZURE_STORAGE_ACCOUNT`).
 *
 * An endpoint may carry a path (an emulator's account path, e.g.
 * `http://127.0.0.1:10000/devstoreaccount1`): objects are at
 * `{endpoint}/{container}/{key}`.
 *
 * @module
 */
import { readEnv } from "../env.ts";
import { NotSupportedError } from "./errors.ts";
import { HttpStore } from "./http.ts";
import { encodeKeyPath, type Location, normalizeEndpoint } from "./location.ts";
import type { GetOptions, ListEntry, ObjectMeta, ObjectStore, PutResult } from "./store.ts";

/** The store types this driver reads. */
export type PublicBucketType = "gs" | "az";

/** The public endpoint of Google Cloud Storage. */
export const GCS_PUBLIC_ENDPOINT = "https://storage.googleapis.com";

/** The API version sent to Azure (fixes the semantics of ranges and ETags). */
const AZURE_API_VERSION = "2021-08-06";

/** Options of {@linkcode PublicBucketStore}. */
export interface PublicBucketStoreOptions {
  /** `gs` or `az`. */
  type: PublicBucketType;
  /** The bucket (gs) or container (az). */
  container: string;
  /** The HTTPS endpoint objects are read under (`{endpoint}/{container}/{key}`). */
  endpoint: string;
}

/** Where a `gs` or `az` location is read: the endpoint and the bare container name. */
export interface PublicBucketTarget {
  /** The endpoint, without a trailing `/`. */
  endpoint: string;
  /** The bucket or container name. */
  container: string;
}

/**
 * The endpoint and container a `gs` or `az` location is read through (see
 * the module documentation for the order).
 *
 * @example
 * ```ts
 * import { publicBucketTarget } from "./public_bucket.ts";
 * import { deepEqual } from "node:assert/strict";
 * const none = () => undefined;
 * deepEqual(
 *   publicBucketTarget({ store_type: "gs", store_container: "b", store_endpoint_url: null, key: "k" }, none),
 *   { endpoint: "https://storage.googleapis.com", container: "b" },
 * );
 * deepEqual(
 *   publicBucketTarget({
 *     store_type: "az", store_container: "c@acct.dfs.core.windows.net", store_endpoint_url: null, key: "k",
 *   }, none),
 *   { endpoint: "https://acct.blob.core.windows.net", container: "c" },
 * );
 * ```
 *
 * @param location A `gs` or `az` location.
 * @param env Where environment variables are read.
 * @returns The endpoint and container.
 * @throws {TypeError} For an `az` location whose account nothing names.
 */
export function publicBucketTarget(
  location: Location,
  env: (name: string) => string | undefined = readEnv,
): PublicBucketTarget {
  const container = location.store_container ?? "";
  if (location.store_type === "gs") {
    const emulator = env("STORAGE_EMULATOR_HOST");
    const endpoint = location.store_endpoint_url ??
      (emulator ? normalizeEndpoint(emulator, "http")! : GCS_PUBLIC_ENDPOINT);
    return { endpoint: endpoint.replace(/\/+$/, ""), container };
  }
  if (location.store_type !== "az") {
    throw new TypeError(`Invalid location: "${location.store_type}" is not gs or az`);
  }
  const at = container.indexOf("@");
  if (at !== -1) {
    // abfs[s]://container@ACCOUNT.dfs.core.windows.net: the blob endpoint of that account.
    const host = container.slice(at + 1).replace(".dfs.", ".blob.");
    return { endpoint: `https://${host}`, container: container.slice(0, at) };
  }
  const account = env("AZURE_STORAGE_ACCOUNT_NAME") ?? env("AZURE_STORAGE_ACCOUNT");
  const endpoint = normalizeEndpoint(
    location.store_endpoint_url ?? env("AZURE_STORAGE_ENDPOINT") ??
      (account ? `https://${account}.blob.core.windows.net` : undefined),
  );
  if (!endpoint) {
    throw new TypeError(
      `No Azure account for "az://${container}/${location.key}": set AZURE_STORAGE_ACCOUNT_NAME or AZURE_STORAGE_ENDPOINT, or record the row's store_endpoint_url (https://ACCOUNT.blob.core.windows.net)`,
    );
  }
  return { endpoint, container };
}

/**
 * Reads public Google Cloud Storage or Azure Blob objects anonymously over
 * HTTPS. Keys are object names as `gs://` and `az://` hrefs write them (each
 * character that a URL path cannot hold, and `%`, is percent-encoded on the
 * wire).
 *
 * @example Writing is refused
 * ```ts
 * import { PublicBucketStore } from "./public_bucket.ts";
 * import { NotSupportedError } from "./errors.ts";
 * import { equal, rejects } from "node:assert/strict";
 * const store = new PublicBucketStore({
 *   type: "gs", container: "public-data", endpoint: "https://storage.googleapis.com",
 * });
 * equal(store.urlOf("a b/100%.tif"), "https://storage.googleapis.com/public-data/a%20b/100%25.tif");
 * equal(String(store), "PublicBucketStore(gs://public-data via https://storage.googleapis.com)");
 * await rejects(store.put("k", new Blob([]).stream()), NotSupportedError);
 * ```
 */
export class PublicBucketStore implements ObjectStore {
  /** `gs` or `az`. */
  readonly type: PublicBucketType;
  /** The bucket or container. */
  readonly container: string;
  /** The endpoint. */
  readonly endpoint: string;
  readonly #http: HttpStore;

  /**
   * Makes a store reading `{endpoint}/{container}/{key}`.
   *
   * @param options Type, container, endpoint.
   * @throws {TypeError} For an empty container or an endpoint that is not http(s).
   */
  constructor(options: PublicBucketStoreOptions) {
    if (!options.container || options.container.includes("/")) {
      throw new TypeError(
        `Invalid ${options.type} container "${options.container}": expected a name without "/"`,
      );
    }
    this.type = options.type;
    this.container = options.container;
    this.endpoint = options.endpoint.replace(/\/+$/, "");
    this.#http = new HttpStore({
      baseUrl: `${this.endpoint}/${encodeURIComponent(options.container)}/`,
      headers: options.type === "az" ? { "x-ms-version": AZURE_API_VERSION } : {},
    });
  }

  /**
   * The HTTPS URL of an object.
   *
   * @param key The object name.
   * @returns The URL anyone can fetch when the object is public.
   */
  urlOf(key: string): string {
    return this.#http.urlOf(encodeKeyPath(key));
  }

  /**
   * Facts about one object: HEAD (or a 1-byte ranged GET where HEAD is refused).
   *
   * @param key The object name.
   * @param options Cancellation.
   * @returns Size, ETag, last-modified.
   * @throws {NotFoundError} When the object does not exist.
   * @throws {PermissionDeniedError} When it is not public.
   */
  head(key: string, options?: { signal?: AbortSignal | undefined }): Promise<ObjectMeta> {
    return this.#http.head(encodeKeyPath(key), options).then((meta) => ({ ...meta, key }));
  }

  /**
   * The object's bytes, whole or a range.
   *
   * @param key The object name.
   * @param options Range, cancellation.
   * @returns The bytes as a stream.
   * @throws {NotFoundError} When the object does not exist.
   */
  get(key: string, options?: GetOptions): Promise<ReadableStream<Uint8Array>> {
    return this.#http.get(encodeKeyPath(key), options);
  }

  /**
   * Not possible: public objects are read anonymously.
   *
   * @param key The key.
   * @param body The bytes (cancelled).
   * @throws {NotSupportedError} Always.
   */
  put(key: string, body?: ReadableStream<Uint8Array>): Promise<PutResult> {
    void body?.cancel().catch(() => {});
    return Promise.reject(this.#readOnly("write", key));
  }

  /**
   * Not possible: public objects are read anonymously.
   *
   * @param key The key.
   * @throws {NotSupportedError} Always.
   */
  delete(key: string): Promise<void> {
    return Promise.reject(this.#readOnly("delete", key));
  }

  /**
   * Not offered: listing is left to the clouds' own clients.
   *
   * @param prefix The prefix.
   * @throws {NotSupportedError} On iteration.
   */
  // deno-lint-ignore require-yield
  async *list(prefix: string): AsyncIterable<ListEntry> {
    throw new NotSupportedError(
      `Cannot list "${this.type}://${this.container}/${prefix}": ferry reads ${this.type} objects one by one over HTTPS`,
      { store: String(this), key: prefix },
    );
  }

  #readOnly(operation: string, key: string): NotSupportedError {
    return new NotSupportedError(
      `Cannot ${operation} "${this.type}://${this.container}/${key}": ferry reads ${this.type} objects anonymously over HTTPS and does not write them`,
      { store: String(this), key },
    );
  }

  /**
   * Names the store in messages.
   *
   * @returns `PublicBucketStore(gs://bucket via https://endpoint)`.
   */
  toString(): string {
    return `PublicBucketStore(${this.type}://${this.container} via ${this.endpoint})`;
  }
}
