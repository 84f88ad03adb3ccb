/**
 * The minimal contract every store driver implements. Conveniences built on
 * it live in `ext.ts`; optional abilities are small separate interfaces here,
 * each with a type guard.
 *
 * Keys are `/`-separated strings without a leading `/`; they may contain
 * spaces, unicode and `%`, which drivers encode on the wire as they need.
 *
 * @module
 */

/** Facts about one stored object. */
export interface ObjectMeta {
  /** The object's key within its store. */
  key: string;
  /** Size in bytes. */
  size: number;
  /** The ETag as the store reports it, without surrounding quotes. */
  etag?: string | undefined;
  /** When the object was last written. */
  lastModified?: Date | undefined;
  /** The stored content type. */
  contentType?: string | undefined;
}

/**
 * A byte range: `{ offset, length }` (length omitted: to the end) or
 * `{ suffix }` (the last `suffix` bytes).
 */
export type ByteRange =
  | { offset: number; length?: number | undefined }
  | { suffix: number };

/**
 * An ETag as ferry records and compares it: without surrounding quotes and
 * without a weak-validator `W/` prefix.
 *
 * @example
 * ```ts
 * import { normalizeEtag } from "./store.ts";
 * import { equal } from "node:assert/strict";
 * equal(normalizeEtag('W/"abc-2"'), "abc-2");
 * equal(normalizeEtag(null), undefined);
 * ```
 *
 * @param etag The ETag as a server or a lock spells it.
 * @returns The bare ETag, or undefined when there is none.
 */
export function normalizeEtag(etag: string | null | undefined): string | undefined {
  if (etag === null || etag === undefined || etag === "") return undefined;
  return etag.replace(/^W\//, "").replace(/^"(.*)"$/, "$1");
}

/** Options of {@linkcode ObjectStore.get}. */
export interface GetOptions {
  /** Only these bytes. @default the whole object */
  range?: ByteRange | undefined;
  /** Cancels the request and the body stream. */
  signal?: AbortSignal | undefined;
}

/** Options of {@linkcode ObjectStore.put}. */
export interface PutOptions {
  /** The body's size in bytes when known; lets drivers pick single-request uploads. */
  size?: number | undefined;
  /** Content type to store. @default "application/octet-stream" */
  contentType?: string | undefined;
  /** Cancels the upload; nothing becomes visible at the key. */
  signal?: AbortSignal | undefined;
  /**
   * The most bytes the driver may hold in memory on its own for this put (a
   * caller's memory budget): a driver that buffers parts sends fewer at once
   * to stay within it (see {@linkcode PutBufferReporter}).
   * @default the driver's own settings
   */
  bufferLimitBytes?: number | undefined;
}

/** What a completed put reports. */
export interface PutResult {
  /** The ETag the store assigned, unquoted, when it reports one. */
  etag?: string | undefined;
  /** Bytes written. */
  size: number;
}

/** Options of {@linkcode ObjectStore.list}. */
export interface ListOptions {
  /** Group keys by this separator into `prefix` entries. @default none (recursive) */
  delimiter?: string | undefined;
  /** Cancels the listing. */
  signal?: AbortSignal | undefined;
}

/** One listing entry: an object, or a common prefix when a delimiter was given. */
export type ListEntry =
  | ({ kind: "object" } & ObjectMeta)
  | { kind: "prefix"; prefix: string };

/** One object in one store. */
export interface ObjectRef {
  /** The store. */
  store: ObjectStore;
  /** The key in it. */
  key: string;
}

/** The contract of every store driver. */
export interface ObjectStore {
  /** Facts about one object; throws `NotFoundError` when it is missing. */
  head(key: string, options?: { signal?: AbortSignal | undefined }): Promise<ObjectMeta>;
  /** The object's bytes, whole or a range, as a web stream. */
  get(key: string, options?: GetOptions): Promise<ReadableStream<Uint8Array>>;
  /**
   * Writes the stream to `key`, atomically: readers see the old object or the
   * whole new one, never a part.
   */
  put(key: string, body: ReadableStream<Uint8Array>, options?: PutOptions): Promise<PutResult>;
  /** Deletes `key`; a missing key is not an error. */
  delete(key: string, options?: { signal?: AbortSignal | undefined }): Promise<void>;
  /** Every object under `prefix` (all pages), in key order. */
  list(prefix: string, options?: ListOptions): AsyncIterable<ListEntry>;
  /** Short description of the store, with no secret in it. */
  toString(): string;
}

/** A store that deletes many keys in few requests (S3 DeleteObjects, Swift bulk delete). */
export interface BulkDeleter {
  /**
   * Deletes every key; missing keys are not errors.
   * @returns The keys that failed, with the reason.
   */
  deleteMany(
    keys: string[],
    options?: { signal?: AbortSignal | undefined },
  ): Promise<{ key: string; error: Error }[]>;
}

/** True when `store` implements {@linkcode BulkDeleter}. */
export function isBulkDeleter(store: ObjectStore): store is ObjectStore & BulkDeleter {
  return typeof (store as Partial<BulkDeleter>).deleteMany === "function";
}

/**
 * What a caller can check after a `put`, so it hashes only what proves
 * something:
 *
 * - `verified`: the put itself compares the server's checksum of what it
 *   stored with the bytes sent, and fails on a mismatch (Swift: the ETag is
 *   their MD5, per segment for large objects);
 * - `md5-etag`: the ETag a put returns is the MD5 of the bytes (memory);
 * - `none`: a put's ETag says nothing about the bytes (files: inode, mtime, size).
 *
 * A store without the ability may return either (S3: single-part uploads
 * have MD5 ETags, multipart ones do not).
 */
export type PutCheck = "verified" | "md5-etag" | "none";

/** A store that says what a caller can check after a `put`. */
export interface PutChecker {
  /** See {@linkcode PutCheck}. */
  readonly putCheck: PutCheck;
}

/**
 * What a caller can check after a `put` to `store`, when the store says
 * (wrappers forward it).
 *
 * @param store The store.
 * @returns Its {@linkcode PutCheck}, or undefined when it may vary.
 */
export function putCheckOf(store: ObjectStore): PutCheck | undefined {
  return (store as Partial<PutChecker>).putCheck;
}

/** Preconditions of a conditional put. */
export type PutCondition = { ifNoneMatch: "*" } | { ifMatch: string };

/** A store that can refuse a put whose precondition fails (compare-and-swap). */
export interface ConditionalPutter {
  /**
   * Whether the server decides a create-only put (`{ ifNoneMatch: "*" }`)
   * atomically, so that of two concurrent creators one gets `ConflictError`.
   * Native Swift checks `If-None-Match` before it takes the body: concurrent
   * creators may all succeed, the last write winning (measured: 18 of 40
   * PUTs in rounds of 8). Locks and compare-and-swap must not rest on such a
   * store's create-only put.
   */
  readonly exclusiveCreate: boolean;
  /** Like `put`, but throws `ConflictError` when `condition` does not hold. */
  putIf(
    key: string,
    body: ReadableStream<Uint8Array>,
    condition: PutCondition,
    options?: PutOptions,
  ): Promise<PutResult>;
}

/** True when `store` implements {@linkcode ConditionalPutter}. */
export function isConditionalPutter(store: ObjectStore): store is ObjectStore & ConditionalPutter {
  return typeof (store as Partial<ConditionalPutter>).putIf === "function";
}

/**
 * A store whose `put` holds bytes in memory on its own, beyond the chunk it is
 * handed (S3 parts in flight, Swift's look-ahead): callers that bound memory
 * (the transfer pipeline) charge this to their budget.
 */
export interface PutBufferReporter {
  /**
   * Bytes a `put` of `size` bytes (undefined: unknown) holds at most, given
   * `bufferLimitBytes` as passed in {@linkcode PutOptions} (it may exceed
   * the limit when even the least the driver needs does).
   *
   * @param size The body's size, when known.
   * @param bufferLimitBytes The caller's limit, if any.
   * @returns Bytes held by the driver during the put.
   */
  putBufferBytes(size: number | undefined, bufferLimitBytes?: number): number;
}

/**
 * The bytes `store`'s `put` of `size` bytes holds in memory on its own (0 for
 * stores that write each chunk as it comes, such as files).
 *
 * @example
 * ```ts
 * import { putBufferBytesOf } from "./store.ts";
 * import { FileStore } from "./file.ts";
 * import { equal } from "node:assert/strict";
 * equal(putBufferBytesOf(new FileStore({ root: "/tmp" }), 123), 0);
 * ```
 *
 * @param store The destination.
 * @param size The body's size, when known.
 * @param bufferLimitBytes The limit the put will be given (`PutOptions.bufferLimitBytes`).
 * @returns Bytes to reserve for the put.
 */
export function putBufferBytesOf(
  store: ObjectStore,
  size: number | undefined,
  bufferLimitBytes?: number,
): number {
  const report = (store as Partial<PutBufferReporter>).putBufferBytes;
  return typeof report === "function" ? report.call(store, size, bufferLimitBytes) : 0;
}

/** A store that copies between two of its own keys without moving the bytes through us. */
export interface ServerCopier {
  /** Copies `from` to `to` inside the store. */
  copyWithin(
    from: string,
    to: string,
    options?: { signal?: AbortSignal | undefined },
  ): Promise<void>;
}

/** True when `store` implements {@linkcode ServerCopier}. */
export function isServerCopier(store: ObjectStore): store is ObjectStore & ServerCopier {
  return typeof (store as Partial<ServerCopier>).copyWithin === "function";
}

/** A store whose objects have a URL another client can fetch. */
export interface UrlProvider {
  /** The full URL of `key` (no credentials in it). */
  urlOf(key: string): string;
}

/** True when `store` implements {@linkcode UrlProvider}. */
export function isUrlProvider(store: ObjectStore): store is ObjectStore & UrlProvider {
  return typeof (store as Partial<UrlProvider>).urlOf === "function";
}

/**
 * Resolves a {@linkcode ByteRange} against an object size into a start and an
 * exclusive end, clamped to the object.
 *
 * @param range The requested range.
 * @param size The object's size.
 * @returns `[start, end)`.
 */
export function resolveRange(range: ByteRange, size: number): [number, number] {
  if ("suffix" in range) return [Math.max(0, size - range.suffix), size];
  const start = Math.min(range.offset, size);
  const end = range.length === undefined ? size : Math.min(size, range.offset + range.length);
  return [start, Math.max(start, end)];
}

/**
 * Checks a range for values no driver accepts.
 *
 * @param range The range to check.
 * @throws {RangeError} On a negative or non-integer bound.
 */
export function checkRange(range: ByteRange): void {
  const values = "suffix" in range ? [range.suffix] : [range.offset, range.length ?? 0];
  for (const v of values) {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new RangeError(`Invalid byte range: ${JSON.stringify(range)}`);
    }
  }
}

/**
 * The HTTP `Range` header for a {@linkcode ByteRange}, or undefined when the
 * range is empty (length 0), which needs no request at all.
 *
 * @param range The range.
 * @returns `bytes=…` or undefined.
 */
export function httpRangeHeader(range: ByteRange): string | undefined {
  if ("suffix" in range) return range.suffix === 0 ? undefined : `bytes=-${range.suffix}`;
  if (range.length === 0) return undefined;
  return range.length === undefined
    ? `bytes=${range.offset}-`
    : `bytes=${range.offset}-${range.offset + range.length - 1}`;
}
