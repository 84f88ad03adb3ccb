/**
 * Reading an object only to learn its checksums (deep validation, deriving
 * a lock's checksums, proving a destination already holds the right bytes):
 * streamed through {@linkcode HashStream}, never held, and retried whole on
 * transient failures, including a body that breaks off while it streams.
 *
 * @module
 */
import { type RetryOptions, withRetry } from "../stores/retry_store.ts";
import { noteReleasedBytes } from "../reclaim.ts";
import { type ExpectedDigest, HashStream, type StreamDigest } from "./hash_stream.ts";
import type { ObjectRef } from "../stores/store.ts";

/** Options of {@linkcode digestObject}. */
export interface DigestOptions {
  /** Compute MD5 as well as SHA-256. @default false */
  md5?: boolean | undefined;
  /**
   * Facts the bytes must match; a mismatch rejects with a
   * `ChecksumMismatchError` (never retried: the bytes are what they are).
   */
  expected?: ExpectedDigest | undefined;
  /** Whole-read retries on transient errors. */
  retry?: RetryOptions | undefined;
  /** Cancels the read. */
  signal?: AbortSignal | undefined;
  /** Called with the byte count of each piece read. */
  onBytes?: ((bytes: number) => void) | undefined;
}

/**
 * Reads an object once and returns its size, SHA-256 (and MD5 when asked).
 *
 * @example
 * ```ts
 * import { digestObject } from "./digest.ts";
 * import { MemoryStore } from "../stores/memory.ts";
 * import { putBytes } from "../stores/ext.ts";
 * import { equal } from "node:assert/strict";
 * const store = new MemoryStore();
 * await putBytes(store, "k", new TextEncoder().encode("abc"));
 * const digest = await digestObject({ store, key: "k" });
 * equal(digest.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
 * equal(digest.size, 3);
 * ```
 *
 * @param object The object.
 * @param options MD5, expected facts, retries, signal.
 * @returns The digest of the bytes read.
 * @throws {ChecksumMismatchError} When the bytes differ from `expected`.
 */
export function digestObject(
  object: ObjectRef,
  options: DigestOptions = {},
): Promise<StreamDigest> {
  const { signal } = options;
  return withRetry(async () => {
    const hash = new HashStream({
      md5: options.md5,
      expected: options.expected,
      key: object.key,
      onBytes: options.onBytes,
    });
    const body = await object.store.get(object.key, { signal });
    // Each chunk is garbage once hashed: let the runtime free it early.
    await body.pipeThrough(hash, { signal }).pipeTo(
      new WritableStream({ write: (chunk) => void noteReleasedBytes(chunk.byteLength) }),
    );
    return await hash.digest;
  }, { ...options.retry, signal });
}
