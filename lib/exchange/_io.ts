/**
 * The exchange room's own put and get: every byte through `HashStream`
 * (size and SHA-256, MD5 where an ETag can be checked with it), puts through
 * a `ChunkStream` charged to the shared memory budget, whole puts of
 * replayable bodies retried.
 *
 * @module
 */
import {
  ChecksumMismatchError,
  ChunkStream,
  chunkStreamWorkingSet,
  HashStream,
  md5OfEtag,
  MemoryBudget,
  type StreamDigest,
} from "../pipeline/mod.ts";
import {
  type ByteRange,
  isConditionalPutter,
  type ObjectStore,
  putBufferBytesOf,
  putCheckOf,
  type PutCondition,
  streamOf,
  withRetry,
} from "../stores/mod.ts";
import type { ResolvedExchangeOptions } from "./options.ts";

/** What a verified put reports. */
export interface PutOutcome {
  /** The store's ETag, unquoted. */
  etag: string | undefined;
  /** Bytes written (counted in flight, checked against the store's count). */
  size: number;
  /** SHA-256 hex of the bytes. */
  sha256: string;
}

/** Options of {@linkcode putStream}. */
export interface PutStreamOptions {
  /** The body's size when known (a mismatch fails the put). */
  size?: number | undefined;
  /** Content type. */
  contentType?: string | undefined;
  /** Only write when this holds. */
  condition?: PutCondition | undefined;
  /** Bytes the body's producer buffers on its own (charged with the put). */
  producerBytes?: number | undefined;
}

/**
 * Writes a stream to `key` through `HashStream` and a budgeted `ChunkStream`:
 * nothing is visible at the key unless every byte arrived.
 *
 * @param store The destination.
 * @param key Its key.
 * @param body The bytes (consumed or cancelled).
 * @param options Size, content type, precondition, producer buffer.
 * @param io Budget, chunk size, signal.
 * @returns ETag, size and SHA-256.
 */
export async function putStream(
  store: ObjectStore,
  key: string,
  body: ReadableStream<Uint8Array>,
  options: PutStreamOptions,
  io: ResolvedExchangeOptions,
): Promise<PutOutcome> {
  const { budget, signal } = io;
  const size = options.size;
  const putBuffer = putBufferBytesOf(store, size);
  const producer = options.producerBytes ?? 0;
  const room = budget.limitBytes - putBuffer - producer;
  if (room < 1) {
    await body.cancel().catch(() => {});
    throw new RangeError(
      `Invalid memoryLimitBytes ${budget.limitBytes}: writing "${key}" buffers ${
        putBuffer + producer
      } bytes; raise the limit`,
    );
  }
  const forChunks = Math.min(
    room,
    chunkStreamWorkingSet(io.chunkSizeBytes, 2),
    Math.max(1, size ?? Number.MAX_SAFE_INTEGER),
  );
  const chunkSize = Math.max(1, Math.min(io.chunkSizeBytes, Math.floor(forChunks / 4) || 1));
  const lease = forChunks + putBuffer + producer;
  try {
    await budget.acquire(lease, { signal });
  } catch (error) {
    await body.cancel(error).catch(() => {});
    throw error;
  }
  const check = putCheckOf(store);
  const hash = new HashStream({
    md5: check !== "verified" && check !== "none",
    expected: { size },
    key,
  });
  const chunks = new ChunkStream({
    budget: new MemoryBudget(forChunks),
    chunkSizeBytes: chunkSize,
    totalBytes: size,
    signal,
  });
  let digest: StreamDigest;
  let etag: string | undefined;
  let stored: number;
  try {
    const readable = body.pipeThrough(hash, { signal }).pipeThrough(chunks);
    try {
      const putOptions = { size, contentType: options.contentType, signal };
      const result = options.condition
        ? await conditionalPut(store, key, readable, options.condition, putOptions)
        : await store.put(key, readable, putOptions);
      etag = result.etag;
      stored = result.size;
    } catch (error) {
      if (!readable.locked) await readable.cancel(error).catch(() => {});
      throw hash.mismatch ?? error;
    }
    digest = await hash.digest;
  } finally {
    chunks.releaseAll();
    budget.release(lease);
  }
  if (stored !== digest.size) {
    throw new ChecksumMismatchError("size", digest.size, stored, key);
  }
  const etagMd5 = md5OfEtag(etag);
  if (digest.md5 !== undefined && etagMd5 !== undefined && etagMd5 !== digest.md5) {
    await store.delete(key).catch(() => {});
    throw new ChecksumMismatchError("etag", digest.md5, etagMd5, key);
  }
  return { etag, size: digest.size, sha256: digest.sha256 };
}

function conditionalPut(
  store: ObjectStore,
  key: string,
  body: ReadableStream<Uint8Array>,
  condition: PutCondition,
  options: { size?: number | undefined; contentType?: string | undefined; signal?: AbortSignal },
) {
  if (!isConditionalPutter(store)) {
    throw new TypeError(`Store ${store} cannot write "${key}" conditionally`);
  }
  return store.putIf(key, body, condition, options);
}

/**
 * Writes bytes to `key`, retrying the whole put on transient failures (the
 * body can be replayed).
 *
 * @param store The destination.
 * @param key Its key.
 * @param bytes The content.
 * @param options Content type and precondition.
 * @param io Budget, chunk size, retries, signal.
 * @returns ETag, size and SHA-256.
 */
export function putBytesRetrying(
  store: ObjectStore,
  key: string,
  bytes: Uint8Array,
  options: Omit<PutStreamOptions, "size">,
  io: ResolvedExchangeOptions,
): Promise<PutOutcome> {
  return withRetry(
    () => putStream(store, key, streamOf(bytes), { ...options, size: bytes.byteLength }, io),
    { ...io.retry, signal: io.signal },
  );
}

/** A body being read and what it will prove. */
export interface VerifiedBody {
  /** The bytes, through `HashStream`. */
  stream: ReadableStream<Uint8Array>;
  /** Size and SHA-256 once the stream ends; rejects on a size mismatch. */
  digest: Promise<StreamDigest>;
}

/**
 * Opens `key` (the request retried on transient failures) with its bytes
 * counted and hashed; a size other than `expectedSize` errors the stream.
 *
 * @param store The store.
 * @param key The key.
 * @param options Expected size, range, signal.
 * @param io Retries.
 * @returns The stream and its digest.
 */
export async function getVerified(
  store: ObjectStore,
  key: string,
  options: { expectedSize?: number | undefined; range?: ByteRange | undefined },
  io: Pick<ResolvedExchangeOptions, "retry" | "signal">,
): Promise<VerifiedBody> {
  const body = await withRetry(
    () => store.get(key, { range: options.range, signal: io.signal }),
    { ...io.retry, signal: io.signal },
  );
  const hash = new HashStream({ expected: { size: options.expectedSize }, key });
  return { stream: body.pipeThrough(hash, { signal: io.signal }), digest: hash.digest };
}
