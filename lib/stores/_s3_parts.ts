/**
 * S3 multipart sizing and what an upload holds in memory, shared by the S3
 * driver and the registry, which reports it for a driver not loaded yet (the
 * driver loads the AWS SDK).
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

/** How an S3 upload is cut, as the driver is configured. */
export interface S3UploadSizing {
  /** Bodies of known size up to this go in one PutObject, streamed. */
  multipartThresholdBytes: number;
  /** The configured multipart part size. */
  partSizeBytes: number;
  /** Parts in flight. */
  putMaxConcurrency: number;
}

/** The driver's defaults. */
export const S3_UPLOAD_DEFAULTS: Readonly<S3UploadSizing> = {
  multipartThresholdBytes: 16 * 1024 * 1024,
  partSizeBytes: 16 * 1024 * 1024,
  putMaxConcurrency: 4,
};

/**
 * What one put holds in memory: nothing for a streamed single PutObject; for
 * a multipart upload, the parts in flight plus the one being assembled.
 *
 * @example
 * ```ts
 * import { s3PutBufferBytes } from "./_s3_parts.ts";
 * import { equal } from "node:assert/strict";
 * const sizing = { multipartThresholdBytes: 5 << 20, partSizeBytes: 5 << 20, putMaxConcurrency: 3 };
 * equal(s3PutBufferBytes(1 << 20, sizing), 0);
 * equal(s3PutBufferBytes(100 << 20, sizing), 20 << 20);
 * ```
 *
 * @param size The body's size, when known.
 * @param sizing The driver's sizing.
 * @returns Bytes held during the put.
 */
export function s3PutBufferBytes(size: number | undefined, sizing: S3UploadSizing): number {
  if (size !== undefined && size <= sizing.multipartThresholdBytes) return 0;
  return s3PartSizeFor(size, sizing.partSizeBytes) * (sizing.putMaxConcurrency + 1);
}
