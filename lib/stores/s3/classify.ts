/**
 * How the S3 driver maps the SDK's failures onto ferry's store errors, with
 * no secret in a message.
 *
 * @module
 */
import {
  ConflictError,
  errorFromStatus,
  InvalidInputError,
  isTransportFailure,
  NotFoundError,
  NotSupportedError,
  PermissionDeniedError,
  StoreError,
  type StoreErrorOptions,
  TransientError,
} from "../errors.ts";
import { redact } from "../redact.ts";

const NOT_FOUND = new Set([
  "NoSuchKey",
  "NotFound",
  "NoSuchBucket",
  "NoSuchUpload",
  "NoSuchVersion",
]);
const DENIED = new Set([
  "AccessDenied",
  "Forbidden",
  "SignatureDoesNotMatch",
  "InvalidAccessKeyId",
  "ExpiredToken",
  "InvalidToken",
  "TokenRefreshRequired",
  "AllAccessDisabled",
  "AccountProblem",
  "InvalidSecurity",
  "CredentialsProviderError",
]);
const CONFLICT = new Set([
  "PreconditionFailed",
  "ConditionalRequestConflict",
  "OperationAborted",
  "BucketAlreadyExists",
]);
const TRANSIENT = new Set([
  "SlowDown",
  "Throttling",
  "ThrottlingException",
  "TooManyRequests",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "BandwidthLimitExceeded",
  "RequestTimeout",
  "RequestTimeoutException",
  "InternalError",
  "ServiceUnavailable",
  "TimeoutError",
]);
const NOT_SUPPORTED = new Set(["NotImplemented"]);
const STATUS_CODES: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  409: "Conflict",
  412: "PreconditionFailed",
  416: "InvalidRange",
  500: "InternalError",
  501: "NotImplemented",
  503: "ServiceUnavailable",
};

/** What {@linkcode classify} needs to name the failed operation. */
export interface S3ErrorContext {
  /** The operation, as a verb: "head", "get", "put", "list", … */
  op: string;
  /** The bucket. */
  bucket: string;
  /** The key (or prefix), when the operation had one. */
  key?: string | undefined;
  /** The store, as its `toString()` prints it. */
  store?: string | undefined;
}

/**
 * Maps an `@aws-sdk/client-s3` failure onto the store error family. The
 * message names the bucket and key, the error code and HTTP status; it is
 * redacted, and the SDK error (which can carry the signature and string to
 * sign) is replaced by a plain, redacted `cause`. Store errors and aborts are
 * returned unchanged.
 *
 * @example A missing key
 * ```ts
 * import { classify } from "./classify.ts";
 * import { NotFoundError } from "../errors.ts";
 * import { equal, ok } from "node:assert/strict";
 * const sdkError = Object.assign(new Error("The specified key does not exist."), {
 *   name: "NoSuchKey", $metadata: { httpStatusCode: 404 },
 * });
 * const error = classify(sdkError, { op: "get", bucket: "b", key: "a.txt" });
 * ok(error instanceof NotFoundError);
 * equal(error.message, 'Cannot get "s3://b/a.txt": NoSuchKey (HTTP 404): The specified key does not exist.');
 * ```
 *
 * @param error What the SDK threw.
 * @param context The operation, bucket and key.
 * @returns The error to throw.
 */
export function classify(error: unknown, context: S3ErrorContext): Error {
  if (error instanceof StoreError) return error;
  if (error instanceof Error && error.name === "AbortError") return error;
  const e = (error ?? {}) as {
    name?: string;
    message?: string;
    Code?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
  };
  const status = e.$metadata?.httpStatusCode;
  let code = e.Code ?? e.name ?? "Error";
  // Bodiless answers (HEAD) give the SDK no error code: name the status.
  if ((code === "Unknown" || code === "Error") && status !== undefined) {
    code = STATUS_CODES[status] ?? `HTTP ${status}`;
  }
  const where = `s3://${context.bucket}/${context.key ?? ""}`;
  const detail = e.message && e.message !== "UnknownError" && e.message !== code
    ? `: ${e.message}`
    : "";
  const statusText = status !== undefined && !code.startsWith("HTTP ") ? ` (HTTP ${status})` : "";
  const message = `Cannot ${context.op} "${where}": ${code}${statusText}${detail}`;
  const options: StoreErrorOptions = {
    store: context.store,
    key: context.key,
    cause: new Error(redact(`${code}: ${e.message ?? String(error)}`)),
  };
  if (NOT_FOUND.has(code)) return new NotFoundError(message, options);
  if (DENIED.has(code)) return new PermissionDeniedError(message, options);
  if (CONFLICT.has(code)) return new ConflictError(message, options);
  if (NOT_SUPPORTED.has(code)) return new NotSupportedError(message, options);
  if (TRANSIENT.has(code)) return new TransientError(message, options);
  if (status !== undefined && status >= 400) return errorFromStatus(status, message, options);
  if (isTransportFailure(error) || e.$retryable) return new TransientError(message, options);
  if (error instanceof TypeError || error instanceof RangeError) {
    return new InvalidInputError(message, options);
  }
  return new StoreError(message, options);
}
