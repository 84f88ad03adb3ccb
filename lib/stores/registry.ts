/**
 * The only scheme → driver table. {@linkcode openLocation} turns an href or a
 * location into a ready store (driver wrapped in retries) and the key to use
 * with it, reading credentials and endpoints from the environment.
 *
 * @module
 */
import { type EnvReader, readEnv } from "../env.ts";
import { FileStore } from "./file.ts";
import { HttpStore } from "./http.ts";
import { type Location, normalizeEndpoint, parseHref, resolvePosix } from "./location.ts";
import { MemoryStore } from "./memory.ts";
import { registerSecret } from "./redact.ts";
import { type RetryOptions, RetryStore } from "./retry_store.ts";
import type { S3StoreOptions } from "./s3/mod.ts";
import { S3_MIN_PART_BYTES, S3_UPLOAD_DEFAULTS, s3PutBufferBytes } from "./s3/_parts.ts";
import { LazyStore } from "./lazy_store.ts";
import type { ObjectStore } from "./store.ts";
import { PublicBucketStore, publicBucketTarget } from "./public_bucket.ts";
import { type SwiftAuthOptions, SwiftObjectStore } from "./swift/mod.ts";
import { authenticate } from "./swift/auth.ts";

/** Settings that apply to every store opened. */
export interface OpenOptions {
  /** Where configuration comes from. @default the process environment */
  env?: EnvReader | undefined;
  /** Retry behaviour. */
  retry?: RetryOptions | undefined;
  /** Swift SLO segment size. @default $FERRY_SWIFT_SEGMENT_SIZE or the driver's */
  swiftSegmentSizeBytes?: number | undefined;
  /** Multipart part size of uploads (S3 raises it to its 5 MiB minimum). @default the driver's */
  partSizeBytes?: number | undefined;
  /** Parts in flight per upload. @default the driver's */
  putMaxConcurrency?: number | undefined;
  /** Swift credentials to use instead of the environment's. @default from the environment */
  swiftAuth?: SwiftAuthOptions | undefined;
  /** Entries per listing request. @default the driver's */
  listingPageSize?: number | undefined;
}

/** A store and the key of one object (or prefix) in it. */
export interface OpenedLocation {
  /** The store, ready to use. */
  store: ObjectStore;
  /** The key inside `store`. */
  key: string;
  /** The parsed location, with the endpoint that applies filled in. */
  location: Location;
}

/**
 * Opened stores, by everything that makes them differ: the driver's target
 * and credentials, and every option the store is built with. Sharing a store
 * shares its connections and its Swift token.
 */
const cache = new Map<string, ObjectStore>();

/**
 * The env var suffix for a bucket: upper-cased, non-alphanumerics → `_`.
 *
 * @param bucket The bucket name.
 * @returns E.g. `MY_BUCKET` for `my-bucket`.
 */
export function bucketEnvSuffix(bucket: string): string {
  return bucket.toUpperCase().replace(/[^A-Z0-9]/g, "_");
}

/**
 * The env var suffix stacpkg uses for a bucket: runs of non-alphanumerics →
 * one `_`, outer `_` trimmed, upper-cased.
 *
 * @example
 * ```ts
 * import { stacpkgBucketEnvSuffix } from "./registry.ts";
 * import { equal } from "node:assert/strict";
 * equal(stacpkgBucketEnvSuffix("my..bucket-1."), "MY_BUCKET_1");
 * ```
 *
 * @param bucket The bucket name.
 * @returns E.g. `MY_BUCKET_1` for `my..bucket-1.`.
 */
export function stacpkgBucketEnvSuffix(bucket: string): string {
  return bucket.replace(/[^A-Za-z0-9]+/g, "_").replace(/^_+|_+$/g, "").toUpperCase();
}

/** The bucket's endpoint in `STACPKG_S3_ENDPOINTS_JSON` (`{"bucket": "https://endpoint"}`). */
function endpointFromJson(bucket: string, env: EnvReader): string | undefined {
  const text = env("STACPKG_S3_ENDPOINTS_JSON");
  if (!text) return undefined;
  let table: unknown;
  try {
    table = JSON.parse(text);
  } catch {
    table = undefined;
  }
  if (typeof table !== "object" || table === null || Array.isArray(table)) {
    throw new TypeError(
      'Invalid STACPKG_S3_ENDPOINTS_JSON: expected a JSON object of bucket endpoints, e.g. {"bucket": "https://endpoint"}',
    );
  }
  const value = (table as Record<string, unknown>)[bucket];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || value.trim() === "") {
    throw new TypeError(
      `Invalid STACPKG_S3_ENDPOINTS_JSON: the endpoint of bucket "${bucket}" is not a non-empty string`,
    );
  }
  return value;
}

/**
 * S3 settings for a bucket: `FERRY_S3_*_{BUCKET}` first, then stacpkg's
 * `STACPKG_S3_*_{BUCKET}` (`ENDPOINT`, `ACCESS_KEY_ID`, `SECRET_ACCESS_KEY`,
 * `SESSION_TOKEN`, `REGION`, `DEFAULT_REGION`; its bucket suffix) and
 * `STACPKG_S3_ENDPOINTS_JSON`, then the standard AWS variables
 * (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, `AWS_ENDPOINT`, the keys, the
 * region; `AWS_SKIP_SIGNATURE` for unsigned requests); the location's own
 * endpoint wins over all of them.
 *
 * @example stacpkg's variables
 * ```ts
 * import { s3OptionsFor } from "./registry.ts";
 * import { equal } from "node:assert/strict";
 * const vars: Record<string, string> = {
 *   STACPKG_S3_ENDPOINTS_JSON: '{"b": "minio.example:9000/"}', AWS_SKIP_SIGNATURE: "true",
 * };
 * const options = s3OptionsFor("b", null, (name) => vars[name]);
 * equal(options.endpoint, "https://minio.example:9000");
 * equal(options.anonymous, true);
 * ```
 *
 * @param bucket The bucket.
 * @param endpoint The location's endpoint, if any.
 * @param env Where to read variables.
 * @returns Driver options.
 * @throws {TypeError} For only one of stacpkg's bucket key pair, or a bad
 *   `STACPKG_S3_ENDPOINTS_JSON`.
 */
export function s3OptionsFor(
  bucket: string,
  endpoint: string | null,
  env: EnvReader = readEnv,
): S3StoreOptions {
  const suffix = bucketEnvSuffix(bucket);
  const stacpkgName = (name: string) => `STACPKG_S3_${name}_${stacpkgBucketEnvSuffix(bucket)}`;
  const perBucket = (name: string) =>
    env(`FERRY_S3_${name}_${suffix}`) ?? env(stacpkgName(name)) ?? undefined;
  const pick = (name: string, ...fallbacks: string[]) =>
    perBucket(name) ?? fallbacks.map((f) => env(f)).find((v) => v !== undefined);
  const truthy = (value: string | undefined) => /^(1|true|yes|on)$/i.test(value?.trim() ?? "");
  const flag = (name: string, ...fallbacks: string[]) =>
    truthy(pick(name, `FERRY_S3_${name}`, ...fallbacks));
  if (!env(stacpkgName("ACCESS_KEY_ID")) !== !env(stacpkgName("SECRET_ACCESS_KEY"))) {
    throw new TypeError(
      `Incomplete S3 credentials for bucket "${bucket}": set both ${
        stacpkgName("ACCESS_KEY_ID")
      } and ${stacpkgName("SECRET_ACCESS_KEY")}`,
    );
  }
  const accessKeyId = pick("ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID");
  const secretAccessKey = pick("SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY");
  const sessionToken = pick("SESSION_TOKEN", "AWS_SESSION_TOKEN");
  registerSecret(secretAccessKey);
  registerSecret(sessionToken);
  const configured = perBucket("ENDPOINT") ?? endpointFromJson(bucket, env) ??
    env("AWS_ENDPOINT_URL_S3") ?? env("AWS_ENDPOINT_URL") ?? env("AWS_ENDPOINT");
  const resolvedEndpoint = endpoint ?? normalizeEndpoint(configured) ?? undefined;
  const pathStyle = pick("PATH_STYLE", "FERRY_S3_PATH_STYLE");
  return {
    bucket,
    endpoint: resolvedEndpoint,
    // stacpkg's per-bucket DEFAULT_REGION stands where AWS_DEFAULT_REGION does, ahead of it.
    region: pick("REGION", "AWS_REGION") ?? env(stacpkgName("DEFAULT_REGION")) ??
      env("AWS_DEFAULT_REGION") ?? "us-east-1",
    forcePathStyle: pathStyle === undefined ? resolvedEndpoint !== undefined : truthy(pathStyle),
    credentials: accessKeyId && secretAccessKey
      ? { accessKeyId, secretAccessKey, sessionToken }
      : undefined,
    anonymous: flag("ANONYMOUS", "AWS_SKIP_SIGNATURE"),
    requesterPays: flag("REQUESTER_PAYS"),
  };
}

/**
 * Swift credentials from the environment, with python-swiftclient's names:
 * `OS_STORAGE_URL` + `OS_AUTH_TOKEN`, or `ST_AUTH` + `ST_USER` + `ST_KEY`.
 *
 * @param endpoint The location's storage URL, if any (wins over the env).
 * @param env Where to read variables.
 * @returns Auth options.
 * @throws {TypeError} When no credentials are configured.
 */
export function swiftAuthFor(endpoint: string | null, env: EnvReader = readEnv): SwiftAuthOptions {
  const storageUrl = endpoint ?? env("OS_STORAGE_URL");
  const token = env("OS_AUTH_TOKEN");
  const authUrl = env("ST_AUTH");
  const user = env("ST_USER");
  const key = env("ST_KEY");
  registerSecret(token);
  registerSecret(key);
  if (authUrl && user && key) return { authUrl, user, key, storageUrl: storageUrl ?? undefined };
  if (storageUrl && token) return { storageUrl, token };
  throw new TypeError(
    "No Swift credentials: set OS_STORAGE_URL and OS_AUTH_TOKEN, or ST_AUTH, ST_USER and ST_KEY",
  );
}

/**
 * TempAuth v1.0 credentials from the environment (`ST_AUTH`, `ST_USER`,
 * `ST_KEY`), for commands that must log in (`ferry swift auth`).
 *
 * @example
 * ```ts
 * import { swiftTempAuthFromEnv } from "./registry.ts";
 * import { throws } from "node:assert/strict";
 * throws(() => swiftTempAuthFromEnv(() => undefined), /unset: ST_AUTH, ST_USER, ST_KEY/);
 * ```
 *
 * @param env Where to read variables.
 * @returns The auth URL, user and key.
 * @throws {TypeError} Naming the variables that are unset.
 */
export function swiftTempAuthFromEnv(
  env: EnvReader = readEnv,
): { authUrl: string; user: string; key: string } {
  const names = ["ST_AUTH", "ST_USER", "ST_KEY"] as const;
  const [authUrl, user, key] = names.map((name) => env(name));
  registerSecret(key);
  const missing = names.filter((_, i) => ![authUrl, user, key][i]);
  if (missing.length > 0) {
    throw new TypeError(
      `Missing TempAuth credentials: set ST_AUTH, ST_USER and ST_KEY (unset: ${
        missing.join(", ")
      })`,
    );
  }
  return { authUrl: authUrl!, user: user!, key: key! };
}

/**
 * The Swift storage URL of the environment's account: `OS_STORAGE_URL`, or
 * the one a TempAuth login (`ST_AUTH`, `ST_USER`, `ST_KEY`) returns.
 *
 * @param env Where to read variables.
 * @returns The storage URL.
 * @throws {TypeError} When neither is configured.
 */
export async function swiftStorageUrlFromEnv(env: EnvReader = readEnv): Promise<string> {
  const configured = env("OS_STORAGE_URL");
  if (configured) return configured;
  const { authUrl, user, key } = swiftTempAuthFromEnv(env);
  return (await authenticate(authUrl, user, key)).storageUrl;
}

/**
 * Resolves an href or location to a store and key. Stores are cached per
 * container and endpoint, so one process shares connections and tokens.
 *
 * @example A memory location
 * ```ts
 * import { openLocation } from "./registry.ts";
 * import { equal } from "node:assert/strict";
 * const { store, key } = openLocation("memory://scratch/a/b.txt");
 * equal(key, "a/b.txt");
 * equal(String(store), "RetryStore(MemoryStore(scratch))");
 * ```
 *
 * @param target An href (URL or plain path) or a location.
 * @param options Environment and tuning.
 * @returns The store, the key and the location.
 */
export function openLocation(target: string | Location, options: OpenOptions = {}): OpenedLocation {
  const env = options.env ?? readEnv;
  const location = typeof target === "string" ? parseHref(target) : { ...target };
  const container = location.store_container ?? "";
  let key = location.key;
  let cacheKey: string;
  let make: () => ObjectStore;
  switch (location.store_type) {
    case "file": {
      const path = resolvePosix(key.startsWith("/") ? "/" : Deno.cwd(), key).slice(1);
      key = path + (key.endsWith("/") && path !== "" ? "/" : "");
      cacheKey = "file:/";
      make = () => new FileStore({ root: "/" });
      break;
    }
    case "memory":
      cacheKey = `memory:${container}`;
      make = () => new MemoryStore({ name: container });
      break;
    case "http":
    case "https":
      cacheKey = `http:${container}`;
      make = () => new HttpStore({ baseUrl: container });
      break;
    case "s3": {
      const s3 = s3OptionsFor(container, location.store_endpoint_url, env);
      if (options.partSizeBytes !== undefined) {
        s3.partSizeBytes = Math.max(S3_MIN_PART_BYTES, options.partSizeBytes);
      }
      s3.putMaxConcurrency = options.putMaxConcurrency;
      s3.listingPageSize = options.listingPageSize;
      cacheKey = `s3:${
        JSON.stringify([
          container,
          s3.endpoint,
          s3.region,
          s3.forcePathStyle,
          s3.credentials?.accessKeyId,
          s3.anonymous,
          s3.requesterPays,
          s3.partSizeBytes,
          s3.putMaxConcurrency,
          s3.listingPageSize,
        ])
      }`;
      const sizing = {
        multipartThresholdBytes: S3_UPLOAD_DEFAULTS.multipartThresholdBytes,
        partSizeBytes: s3.partSizeBytes ?? S3_UPLOAD_DEFAULTS.partSizeBytes,
        putMaxConcurrency: s3.putMaxConcurrency ?? S3_UPLOAD_DEFAULTS.putMaxConcurrency,
      };
      make = () =>
        new LazyStore(
          `S3Store(s3://${container})`,
          async () => new (await import("./s3/mod.ts")).S3Store(s3),
          {
            putBufferBytes: (size, bufferLimitBytes) =>
              s3PutBufferBytes(size, sizing, bufferLimitBytes),
            exclusiveCreate: true,
          },
        );
      break;
    }
    case "gs":
    case "az": {
      const target = publicBucketTarget(location, env);
      cacheKey = `${location.store_type}:${JSON.stringify([target.endpoint, target.container])}`;
      make = () =>
        new PublicBucketStore({
          type: location.store_type as "gs" | "az",
          container: target.container,
          endpoint: target.endpoint,
        });
      break;
    }
    case "swift": {
      const auth = options.swiftAuth ?? swiftAuthFor(location.store_endpoint_url, env);
      const segment = options.swiftSegmentSizeBytes ??
        (env("FERRY_SWIFT_SEGMENT_SIZE") ? Number(env("FERRY_SWIFT_SEGMENT_SIZE")) : undefined);
      const identity = "token" in auth
        ? [auth.storageUrl, auth.token]
        : [auth.authUrl, auth.user, auth.key, auth.storageUrl];
      cacheKey = `swift:${
        JSON.stringify([container, ...identity, segment, options.listingPageSize])
      }`;
      make = () =>
        new SwiftObjectStore({
          container,
          auth,
          segmentSizeBytes: segment,
          listingPageSize: options.listingPageSize,
        });
      break;
    }
  }
  // The retry policy wraps the driver: stores that differ only in it share the driver.
  let driver = cache.get(cacheKey);
  if (!driver) cache.set(cacheKey, driver = make());
  const retryKey = `${cacheKey}|retry:${JSON.stringify(options.retry ?? {})}`;
  let store = cache.get(retryKey);
  if (!store) cache.set(retryKey, store = new RetryStore(driver, options.retry));
  return { store, key, location };
}

/** Drops cached stores (tests that change the environment call this). */
export function clearStoreCache(): void {
  cache.clear();
}
