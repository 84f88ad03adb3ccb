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
 * import { s3PartSizeFor } from "./_parts.ts";
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
 * Parts a multipart upload sends at once: the configured number, fewer when
 * a buffer limit allows fewer (each part in flight is held twice, by the
 * driver for a resend and by the HTTP client while it sends; one more is
 * being filled), at least one.
 *
 * @example
 * ```ts
 * import { s3PartsInFlight } from "./_parts.ts";
 * import { equal } from "node:assert/strict";
 * equal(s3PartsInFlight(5 << 20, 4, undefined), 4);
 * equal(s3PartsInFlight(5 << 20, 4, 32 << 20), 2);
 * equal(s3PartsInFlight(5 << 20, 4, 1 << 20), 1);
 * ```
 *
 * @param partSize The part size of this upload.
 * @param configured The configured parts in flight.
 * @param bufferLimitBytes The most the upload may hold, if limited.
 * @returns Parts in flight.
 */
export function s3PartsInFlight(
  partSize: number,
  configured: number,
  bufferLimitBytes: number | undefined,
): number {
  if (bufferLimitBytes === undefined) return configured;
  const fit = Math.floor((bufferLimitBytes / partSize - 1) / 2);
  return Math.max(1, Math.min(configured, fit));
}

/**
 * What one put holds in memory: nothing for a streamed single PutObject; for
 * a multipart upload, each part in flight twice (see
 * {@linkcode s3PartsInFlight}) and the one being filled.
 *
 * @example
 * ```ts
 * import { s3PutBufferBytes } from "./_parts.ts";
 * import { equal } from "node:assert/strict";
 * const sizing = { multipartThresholdBytes: 5 << 20, partSizeBytes: 5 << 20, putMaxConcurrency: 3 };
 * equal(s3PutBufferBytes(1 << 20, sizing), 0);
 * equal(s3PutBufferBytes(100 << 20, sizing), 35 << 20);
 * equal(s3PutBufferBytes(100 << 20, sizing, 32 << 20), 25 << 20);
 * ```
 *
 * @param size The body's size, when known.
 * @param sizing The driver's sizing.
 * @param bufferLimitBytes The most the put may hold, if limited.
 * @returns Bytes held during the put.
 */
export function s3PutBufferBytes(
  size: number | undefined,
  sizing: S3UploadSizing,
  bufferLimitBytes?: number,
): number {
  if (size !== undefined && size <= sizing.multipartThresholdBytes) return 0;
  const part = s3PartSizeFor(size, sizing.partSizeBytes);
  return part * (2 * s3PartsInFlight(part, sizing.putMaxConcurrency, bufferLimitBytes) + 1);
}
