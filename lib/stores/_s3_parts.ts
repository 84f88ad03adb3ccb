/**
 * S3 multipart sizing shared by the S3 driver and the pipeline's memory
 * accounting (kept apart from the driver, which loads the AWS SDK).
 *
 * @module
 */

/** The most parts one S3 multipart upload may have. */
export const S3_MAX_PARTS = 10_000;

/** The smallest part S3 accepts (all parts but the last). */
export const S3_MIN_PART_BYTES = 5 * 1024 * 1024;

/**
 * The part size for a body of `size` bytes: the configured one, raised when
 * the body would otherwise need more than {@linkcode S3_MAX_PARTS} parts.
 *
 * @example
 * ```ts
 * import { s3PartSizeFor } from "./_s3_parts.ts";
 * import { equal } from "node:assert/strict";
 * equal(s3PartSizeFor(10 * 2 ** 20, 8 * 2 ** 20), 8 * 2 ** 20);
 * equal(s3PartSizeFor(100 * 2 ** 30, 8 * 2 ** 20), Math.ceil(100 * 2 ** 30 / 10_000));
 * ```
 *
 * @param size The body's size in bytes, when known.
 * @param configuredBytes The configured part size.
 * @returns Bytes per part.
 */
export function s3PartSizeFor(size: number | undefined, configuredBytes: number): number {
  if (size === undefined) return configuredBytes;
  return Math.max(configuredBytes, Math.ceil(size / S3_MAX_PARTS));
}
