/**
 * Copying one object between stores through a memory budget, with its
 * checksums computed in flight and checked before anything becomes visible.
 *
 * ## How the destination's content is known (resume)
 *
 * Before copying, the destination is looked up. When it exists with the
 * expected size, ferry decides whether it already holds the right bytes:
 *
 * 1. When an MD5 is expected (given in the task, or the source's ETag when
 *    that is a plain MD5) and the destination's ETag is a plain MD5 (Swift
 *    non-SLO objects, single-part S3 uploads, the memory store), the two are
 *    compared: no bytes are read.
 * 2. Otherwise, when a SHA-256 (or MD5) is expected, the destination is read
 *    once and hashed (cheaper than a copy: one read, no write).
 * 3. Otherwise nothing proves the content, and the object is copied again.
 *
 * `existingCheck: "read"` skips step 1 (a deep check). Whatever the path, a
 * file store's ETag (inode-mtime-size) is never taken for an MD5.
 *
 * ## Nothing partial is visible
 *
 * The bytes flow source → {@linkcode HashStream} → {@linkcode ChunkStream} →
 * `put`. A size overrun errors the stream at once, a short body or a checksum
 * mismatch errors it at its end instead of closing it, so the driver's `put`
 * aborts (temp file removed, multipart aborted, SLO manifest never written).
 * After a successful put, a destination ETag that is a plain MD5 is compared
 * with the MD5 computed in flight; on a mismatch the object is deleted again.
 *
 * @module
 */
export type { ObjectRef } from "../stores/store.ts";
import { headOrUndefined } from "../stores/ext.ts";
import { type RetryOptions, withRetry } from "../stores/retry_store.ts";
import { normalizeEtag, type ObjectMeta, type ObjectRef, putCheckOf } from "../stores/store.ts";
import {
  ChecksumMismatchError,
  type ExpectedDigest,
  md5OfEtag,
  multihashOf,
  sha256HexOf,
} from "./hash_stream.ts";
import type { MemoryBudget } from "./memory_budget.ts";
import { digestObject } from "./digest.ts";
import { budgetedPut } from "./budgeted_put.ts";

/** What to do when the destination key exists already. */
export type IfExists = "verify" | "overwrite" | "keep";

/** One object to copy. */
export interface TransferTask<T = unknown> {
  /** Where the bytes are. */
  source: ObjectRef;
  /** Where they go. */
  destination: ObjectRef;
  /**
   * Facts the bytes must match (e.g. from a lock): `size`, `sha256` (hex or
   * multihash `1220…`), `md5`. A mismatch fails the object and writes nothing.
   */
  expected?: ExpectedDigest | undefined;
  /**
   * `verify`: skip when the destination already has the expected size and
   * checksum, copy otherwise; `overwrite`: always copy; `keep`: skip whenever
   * the destination exists.
   * @default "verify"
   */
  ifExists?: IfExists | undefined;
  /** Content type for the destination. @default the source's */
  contentType?: string | undefined;
  /** Anything the caller wants back in the result (e.g. a lock row). */
  data?: T;
}

/** What happened to one object. */
export interface TransferResult<T = unknown> {
  /** The task. */
  task: TransferTask<T>;
  /** `copied`, `skipped` (already there) or `failed`. */
  status: "copied" | "skipped" | "failed";
  /** Bytes of the object, when known. */
  size?: number | undefined;
  /** Multihash hex (`1220` + SHA-256), when known. */
  checksum?: string | undefined;
  /** MD5 hex, when computed or proven. */
  md5?: string | undefined;
  /** The destination's facts after the copy (or as found, when skipped). */
  destination?: ObjectMeta | undefined;
  /** Attempts made (1 when the first one succeeded). */
  attempts: number;
  /** Why it failed. */
  error?: Error | undefined;
}

/** Settings of {@linkcode transferObject}. */
export interface TransferOptions {
  /** The shared memory budget every object draws from. */
  budget: MemoryBudget;
  /** Bytes per chunk. @default 256 KiB (`PIPELINE_DEFAULTS`) */
  chunkSizeBytes?: number | undefined;
  /** See {@linkcode ChunkStreamOptions.consumerHoldsChunks}. @default 2 */
  consumerHoldsChunks?: number | undefined;
  /**
   * Bytes the destination's `put` may buffer on its own for this object (S3
   * parts in flight, Swift's look-ahead); reserved from the budget for the put.
   * @default as the destination's driver reports (`putBufferBytesOf`)
   */
  putBufferBytes?: number | ((task: TransferTask, size: number) => number) | undefined;
  /**
   * Compute MD5 as well as SHA-256: `true` always, `false` never. By default
   * only where it checks something: an expected MD5 (given, or the source's
   * plain-MD5 ETag) that no expected SHA-256 already proves, or a
   * destination ETag that may be the MD5 of the bytes and that the
   * destination's put does not check itself (see `PutCheck`).
   * @default undefined (where it checks something)
   */
  md5?: boolean | undefined;
  /**
   * Compare plain-MD5 ETags (source before, destination after) with the MD5
   * computed in flight. Turn off for stores whose 32-hex ETags are not MD5s
   * (S3 SSE-KMS).
   * @default true
   */
  etagCheck?: boolean | undefined;
  /** How an existing destination is checked; see the module doc. @default "auto" */
  existingCheck?: "auto" | "read" | undefined;
  /** Retry settings for whole-object attempts (on transient errors only). @default 6 attempts */
  retry?: RetryOptions | undefined;
  /** Cancels the transfer (and the source stream). */
  signal?: AbortSignal | undefined;
  /** Called with the byte count of each piece read from the source. */
  onBytes?: ((bytes: number) => void) | undefined;
}

/**
 * Whole-object attempts by default. An attempt is several requests (HEADs,
 * the GET, the PUT), any of which a flaky network may fail: at 10 % faults
 * per request about a quarter of attempts fail, and six attempts bring a
 * 30-object run's chance of a failed object to about 1 %.
 */
const OBJECT_ATTEMPTS = 6;

/**
 * Copies one object. Never throws for a failure of the object itself: it is
 * reported in the result (`status: "failed"`, `error`, `attempts`). Each
 * attempt (HEADs, GET, PUT of the whole object) is idempotent, so a transient
 * failure retries the whole object with jittered back-off.
 *
 * @example Copying between memory stores
 * ```ts
 * import { transferObject } from "./transfer.ts";
 * import { MemoryBudget } from "./memory_budget.ts";
 * import { MemoryStore } from "../stores/memory.ts";
 * import { putBytes } from "../stores/ext.ts";
 * import { equal } from "node:assert/strict";
 * const [a, b] = [new MemoryStore(), new MemoryStore()];
 * await putBytes(a, "x", new TextEncoder().encode("abc"));
 * const budget = new MemoryBudget(1024);
 * const task = { source: { store: a, key: "x" }, destination: { store: b, key: "y" } };
 * const result = await transferObject(task, { budget, chunkSizeBytes: 256 });
 * equal(result.status, "copied");
 * equal(result.checksum, "1220ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
 * equal((await transferObject(task, { budget, chunkSizeBytes: 256 })).status, "skipped");
 * ```
 *
 * @param task What to copy where.
 * @param options Budget, chunking, checks, retries, signal.
 * @returns What happened.
 */
export async function transferObject<T>(
  task: TransferTask<T>,
  options: TransferOptions,
): Promise<TransferResult<T>> {
  let attempts = 0;
  try {
    const result = await withRetry(async (attempt) => {
      attempts = attempt;
      return await attemptTransfer(task, options);
    }, { maxAttempts: OBJECT_ATTEMPTS, ...options.retry, signal: options.signal });
    return { ...result, task, attempts };
  } catch (error) {
    return {
      task,
      status: "failed",
      attempts,
      error: error instanceof Error ? error : new Error(String(error)),
    };
  }
}

type Outcome = Omit<TransferResult, "task" | "attempts">;

async function attemptTransfer<T>(
  task: TransferTask<T>,
  options: TransferOptions,
): Promise<Outcome> {
  const { source, destination } = task;
  const signal = options.signal;
  signal?.throwIfAborted();
  const expected = task.expected ?? {};
  const sourceMeta = await source.store.head(source.key, { signal });
  if (expected.size !== undefined && sourceMeta.size !== expected.size) {
    throw new ChecksumMismatchError("size", expected.size, sourceMeta.size, source.key);
  }
  const size = sourceMeta.size;
  const etagCheck = options.etagCheck ?? true;
  const sourceMd5 = etagCheck ? md5OfEtag(sourceMeta.etag) : undefined;
  const givenMd5 = normalizeEtag(expected.md5)?.toLowerCase();
  const wantMd5 = givenMd5 ?? sourceMd5;
  const wantSha = expected.sha256 === undefined ? undefined : sha256HexOf(expected.sha256);
  // MD5 costs three times SHA-256's CPU: compute it only where it proves something.
  const checkMd5 = givenMd5 ?? (wantSha === undefined ? sourceMd5 : undefined);
  const destinationCheck = putCheckOf(destination.store);
  const md5ForDestination = etagCheck && destinationCheck !== "verified" &&
    destinationCheck !== "none";
  const computeMd5 = options.md5 ?? (checkMd5 !== undefined || md5ForDestination);

  const ifExists = task.ifExists ?? "verify";
  if (ifExists !== "overwrite") {
    const existing = await headOrUndefined(destination.store, destination.key);
    if (existing && ifExists === "keep") {
      return { status: "skipped", size: existing.size, destination: existing };
    }
    if (existing && existing.size === size) {
      const proof = await proveExisting(existing, { wantMd5, wantSha, size }, destination, options);
      if (proof) return { status: "skipped", ...proof, destination: existing };
    }
  }

  const putBuffer = typeof options.putBufferBytes === "function"
    ? options.putBufferBytes(task, size)
    : options.putBufferBytes;
  const { put, digest } = await budgetedPut(
    destination,
    () => source.store.get(source.key, { signal }),
    {
      budget: options.budget,
      chunkSizeBytes: options.chunkSizeBytes,
      consumerHoldsChunks: options.consumerHoldsChunks,
      size,
      expected: { sha256: wantSha, md5: computeMd5 ? checkMd5 : undefined },
      md5: computeMd5,
      sourceName: source.key,
      contentType: task.contentType ?? sourceMeta.contentType,
      putBufferBytes: putBuffer,
      etagCheck,
      signal,
      onBytes: options.onBytes,
    },
  );
  const putMd5 = md5OfEtag(put.etag);
  const after = await destination.store.head(destination.key, { signal });
  if (after.size !== digest.size) {
    await destination.store.delete(destination.key).catch(() => {});
    throw new ChecksumMismatchError("size", digest.size, after.size, destination.key);
  }
  // A put that checks itself proved its plain-MD5 ETag against the bytes sent.
  const provenMd5 = destinationCheck === "verified" ? putMd5 : undefined;
  return {
    status: "copied",
    size: digest.size,
    checksum: multihashOf(digest.sha256),
    md5: digest.md5 ?? provenMd5,
    destination: after,
  };
}

/** Proof that an existing destination object holds the expected bytes, or undefined. */
async function proveExisting(
  existing: ObjectMeta,
  want: { wantMd5: string | undefined; wantSha: string | undefined; size: number },
  destination: ObjectRef,
  options: TransferOptions,
): Promise<Pick<Outcome, "size" | "checksum" | "md5"> | undefined> {
  const { wantMd5, wantSha, size } = want;
  const checksum = wantSha === undefined ? undefined : multihashOf(wantSha);
  const existingMd5 = md5OfEtag(existing.etag);
  if (
    options.existingCheck !== "read" && (options.etagCheck ?? true) && wantMd5 !== undefined &&
    existingMd5 !== undefined
  ) {
    return existingMd5 === wantMd5 ? { size, checksum, md5: wantMd5 } : undefined;
  }
  if (wantSha === undefined && wantMd5 === undefined) return undefined;
  const digest = await digestObject(destination, {
    md5: wantMd5 !== undefined,
    // One read: a transient failure here is retried by the whole-object attempts around it.
    retry: { maxAttempts: 1 },
    signal: options.signal,
  });
  if (digest.size !== size) return undefined;
  if (wantSha !== undefined && digest.sha256 !== wantSha) return undefined;
  if (wantMd5 !== undefined && digest.md5 !== wantMd5) return undefined;
  return { size, checksum: multihashOf(digest.sha256), md5: digest.md5 };
}
