/**
 * The exchange room's put and get over the engine: puts through the
 * pipeline's `budgetedPut` (every byte hashed, charged to the shared memory
 * budget, MD5 where an ETag can be checked with it), whole puts of
 * replayable bodies retried, gets counted and hashed.
 *
 * @module
 */
import { budgetedPut, ChecksumMismatchError, sizeChecked } from "../pipeline/mod.ts";
import {
  type ByteRange,
  type ObjectStore,
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
  const check = putCheckOf(store);
  try {
    const { put, digest } = await budgetedPut({ store, key }, () => body, {
      budget: io.budget,
      chunkSizeBytes: io.chunkSizeBytes,
      size: options.size,
      md5: check !== "verified" && check !== "none",
      contentType: options.contentType,
      condition: options.condition,
      producerBytes: options.producerBytes,
      signal: io.signal,
    });
    if (put.size !== digest.size) {
      throw new ChecksumMismatchError("size", digest.size, put.size, key);
    }
    return { etag: put.etag, size: digest.size, sha256: digest.sha256 };
  } catch (error) {
    // A body never opened (no budget, a bad limit) is let go here.
    if (!body.locked) await body.cancel(error).catch(() => {});
    throw error;
  }
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

/** A body being read. */
export interface VerifiedBody {
  /** The bytes, size-checked when a size was expected. */
  stream: ReadableStream<Uint8Array>;
}

/**
 * Opens `key` (the request retried on transient failures); a size other
 * than `expectedSize` errors the stream. Nothing here hashes: no reader of
 * an exchange object has a checksum to compare with.
 *
 * @param store The store.
 * @param key The key.
 * @param options Expected size, range, signal.
 * @param io Retries.
 * @returns The stream.
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
  if (options.expectedSize === undefined) return { stream: body };
  return {
    stream: body.pipeThrough(sizeChecked(options.expectedSize, key), { signal: io.signal }),
  };
}
