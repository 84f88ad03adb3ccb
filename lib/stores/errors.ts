/**
 * The one error family of the store layer. Every driver maps its wire failures
 * onto these classes; messages never carry secrets.
 *
 * @module
 */
import { redact } from "./redact.ts";

/** Options shared by every {@linkcode StoreError}. */
export interface StoreErrorOptions {
  /** The store, as its `toString()` prints it. */
  store?: string | undefined;
  /** The key the operation was about. */
  key?: string | undefined;
  /** The underlying error. */
  cause?: unknown;
  /** How many attempts were made before giving up. */
  attempts?: number | undefined;
}

/** Base class of every store failure. The message is redacted on construction. */
export class StoreError extends Error {
  /** The store the operation ran against. */
  readonly store: string | undefined;
  /** The key the operation was about. */
  readonly key: string | undefined;
  /** How many attempts were made. */
  attempts: number | undefined;

  /**
   * Creates a `StoreError`
   *
   * @param message What went wrong, sentence case.
   * @param options Store, key and cause.
   */
  constructor(message: string, options: StoreErrorOptions = {}) {
    super(redact(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "StoreError";
    this.store = options.store;
    this.key = options.key;
    this.attempts = options.attempts;
  }
}

/** The object or container does not exist. */
export class NotFoundError extends StoreError {
  /** Creates a `NotFoundError` */
  constructor(message: string, options: StoreErrorOptions = {}) {
    super(message, options);
    this.name = "NotFoundError";
  }
}

/** Credentials are missing, wrong or do not allow the operation. */
export class PermissionDeniedError extends StoreError {
  /** Creates a `PermissionDeniedError` */
  constructor(message: string, options: StoreErrorOptions = {}) {
    super(message, options);
    this.name = "PermissionDeniedError";
  }
}

/** A precondition failed: the object exists already or changed meanwhile. */
export class ConflictError extends StoreError {
  /** Creates a `ConflictError` */
  constructor(message: string, options: StoreErrorOptions = {}) {
    super(message, options);
    this.name = "ConflictError";
  }
}

/** A failure worth retrying: timeouts, resets, 5xx, throttling. */
export class TransientError extends StoreError {
  /** Seconds the server asked to wait before retrying, if it said. */
  readonly retryAfterSeconds: number | undefined;
  /** Creates a `TransientError` */
  constructor(message: string, options: StoreErrorOptions & { retryAfterSeconds?: number } = {}) {
    super(message, options);
    this.name = "TransientError";
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** The request itself is wrong: a bad key, range or argument the server refused. */
export class InvalidInputError extends StoreError {
  /** Creates a `InvalidInputError` */
  constructor(message: string, options: StoreErrorOptions = {}) {
    super(message, options);
    this.name = "InvalidInputError";
  }
}

/** The driver cannot do this operation at all (e.g. writing to an https store). */
export class NotSupportedError extends StoreError {
  /** Creates a `NotSupportedError` */
  constructor(message: string, options: StoreErrorOptions = {}) {
    super(message, options);
    this.name = "NotSupportedError";
  }
}

/**
 * Maps an HTTP status to the error class of the family; shared by every
 * driver that speaks HTTP.
 *
 * @param status The HTTP status code (>= 400).
 * @param message The message for the error.
 * @param options Store, key, cause.
 * @returns The error to throw.
 */
export function errorFromStatus(
  status: number,
  message: string,
  options: StoreErrorOptions & { retryAfter?: string | null } = {},
): StoreError {
  if (status === 404) return new NotFoundError(message, options);
  if (status === 401 || status === 403) return new PermissionDeniedError(message, options);
  if (status === 409 || status === 412) return new ConflictError(message, options);
  if (status === 501) return new NotSupportedError(message, options);
  if (status === 408 || status === 429 || status >= 500) {
    const seconds = options.retryAfter ? Number(options.retryAfter) : NaN;
    return new TransientError(message, {
      ...options,
      ...(Number.isFinite(seconds) ? { retryAfterSeconds: seconds } : {}),
    });
  }
  return new InvalidInputError(message, options);
}

/**
 * True when Deno's permissions refused the operation (`--allow-net`,
 * `--allow-read` missing): never retried, exit code 4.
 *
 * @example
 * ```ts
 * import { isRuntimePermissionFailure } from "./errors.ts";
 * import { equal } from "node:assert/strict";
 * equal(isRuntimePermissionFailure(new Deno.errors.NotCapable("Requires net access")), true);
 * equal(isRuntimePermissionFailure(new TypeError("fetch failed")), false);
 * ```
 *
 * @param error Anything thrown.
 * @returns Whether it is a runtime permission refusal.
 */
export function isRuntimePermissionFailure(error: unknown): boolean {
  return error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied;
}

/**
 * True for network-level failures (connection refused/reset, timeouts, a
 * body cut off mid-stream) that a retry may cure. Looks through `cause`s,
 * where runtimes put the real reason (Deno's `fetch failed`).
 *
 * @example
 * ```ts
 * import { isTransportFailure } from "./errors.ts";
 * import { equal } from "node:assert/strict";
 * equal(isTransportFailure(new TypeError("error reading a body from connection")), true);
 * const reset = new Error("connection reset", { cause: Object.assign(new Error("x"), { code: "ECONNRESET" }) });
 * equal(isTransportFailure(new TypeError("fetch failed", { cause: reset })), true);
 * equal(isTransportFailure(new TypeError("Invalid URL")), false);
 * ```
 *
 * @param error Anything thrown.
 * @returns Whether it looks like a transport failure.
 */
export function isTransportFailure(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (e.name === "AbortError") return false;
    const text = `${e.name} ${e.message} ${(e as { code?: string }).code ?? ""}`;
    if (TRANSPORT_FAILURE.test(text)) return true;
  }
  return false;
}

const TRANSPORT_FAILURE =
  /ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|connection (reset|closed|refused)|socket hang up|TimeoutError|error sending request|network error|broken pipe|error reading a body|IncompleteMessage|unexpected end of file|end of file before message length/i;

/**
 * True for a failure worth retrying: a {@linkcode TransientError}, or a
 * transport failure that no driver has classified yet. The one rule every
 * retry loop (`withRetry`, `RetryStore`) applies.
 *
 * @example
 * ```ts
 * import { isTransient, NotFoundError, TransientError } from "./errors.ts";
 * import { equal } from "node:assert/strict";
 * equal(isTransient(new TransientError("503")), true);
 * equal(isTransient(new TypeError("error reading a body from connection")), true);
 * equal(isTransient(new NotFoundError("gone")), false);
 * ```
 *
 * @param error Anything thrown.
 * @returns Whether a retry may cure it.
 */
export function isTransient(error: unknown): boolean {
  return error instanceof TransientError ||
    (!(error instanceof StoreError) && isTransportFailure(error));
}
