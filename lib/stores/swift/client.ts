/**
 * The Swift wire client: URLs with percent-encoded keys, the `X-Auth-Token`
 * header, one re-authentication on 401, and {@linkcode classify} from an
 * HTTP answer to the store error family.
 *
 * @module
 */
import {
  errorFromStatus,
  isRuntimePermissionFailure,
  PermissionDeniedError,
  type StoreError,
  TransientError,
} from "../errors.ts";
import { encodeKeyPath } from "../location.ts";
import type { SwiftCredentials, SwiftSession } from "./auth.ts";

/** One request against the account, a container or an object. */
export interface SwiftRequest {
  /** HTTP method. */
  method: string;
  /** The container; omitted for account requests. */
  container?: string | undefined;
  /** The object key (unencoded); omitted for container requests. */
  key?: string | undefined;
  /** Query parameters. */
  query?: Record<string, string> | undefined;
  /** Request headers (the token is added). */
  headers?: Record<string, string> | undefined;
  /** The body: bytes and text can be re-sent after a re-authentication, a stream cannot. */
  body?: Uint8Array | string | ReadableStream<Uint8Array> | null | undefined;
  /** Cancels the request. */
  signal?: AbortSignal | undefined;
}

/**
 * A streamed body is sent only with a token that has at least this long to
 * live, because it cannot be re-sent after a 401.
 */
const STREAM_MIN_VALIDITY_MS = 10_000;

/**
 * The path of a container or object below the storage URL, each key segment
 * percent-encoded.
 *
 * @example Encoding
 * ```ts
 * import { swiftPath } from "./client.ts";
 * import { equal } from "node:assert/strict";
 * equal(swiftPath("c", "a b/100%?#.txt"), "/c/a%20b/100%25%3F%23.txt");
 * ```
 *
 * @param container The container, or undefined for the account.
 * @param key The object key, or undefined for the container.
 * @returns The encoded path, starting with `/` (empty for the account).
 */
export function swiftPath(container?: string, key?: string): string {
  if (container === undefined) return "";
  const base = `/${encodeURIComponent(container)}`;
  return key === undefined ? base : `${base}/${encodeKeyPath(key)}`;
}

/** Sends requests with the session's token, renewing it once on a 401. */
export class SwiftClient {
  /** The shared session. */
  readonly session: SwiftSession;

  /**
   * Creates a `SwiftClient`
   *
   * @param session The session that supplies tokens.
   */
  constructor(session: SwiftSession) {
    this.session = session;
  }

  /**
   * The full URL of the account, a container or an object.
   *
   * @param container The container.
   * @param key The object key.
   * @returns The URL (authenticating first when the storage URL is not known yet).
   */
  async url(container?: string, key?: string): Promise<string> {
    const { storageUrl } = await this.session.credentials();
    return storageUrl + swiftPath(container, key);
  }

  /**
   * Sends `request` and returns the response whatever its status, except that
   * a 401 is answered by one re-authentication and one retry when the body
   * can be re-sent and the credentials allow it.
   *
   * @param request The request.
   * @returns The response (its body not yet read).
   * @throws {TransientError} When the server cannot be reached.
   */
  async request(request: SwiftRequest): Promise<Response> {
    const streaming = request.body instanceof ReadableStream;
    let credentials = await this.session.credentials(streaming ? STREAM_MIN_VALIDITY_MS : 0);
    for (let attempt = 0;; attempt++) {
      const response = await this.#send(request, credentials);
      if (response.status === 401 && attempt === 0 && !streaming && this.session.canRenew) {
        await response.body?.cancel();
        credentials = await this.session.renew(credentials.token);
        continue;
      }
      return response;
    }
  }

  async #send(request: SwiftRequest, credentials: SwiftCredentials): Promise<Response> {
    const query = request.query && Object.keys(request.query).length > 0
      ? `?${new URLSearchParams(request.query)}`
      : "";
    const url = credentials.storageUrl + swiftPath(request.container, request.key) + query;
    const init: RequestInit & { duplex?: "half" } = {
      method: request.method,
      headers: { ...request.headers, "X-Auth-Token": credentials.token },
      signal: request.signal,
    };
    if (request.body !== undefined && request.body !== null) {
      init.body = request.body as BodyInit;
      if (request.body instanceof ReadableStream) init.duplex = "half";
    }
    try {
      return await fetch(url, init);
    } catch (error) {
      if (request.signal?.aborted) throw error;
      const message = `Swift ${request.method} ${describe(request)} failed: ${
        (error as Error).message
      }`;
      const options = { cause: error, key: request.key };
      throw isRuntimePermissionFailure(error)
        ? new PermissionDeniedError(message, options)
        : new TransientError(message, options);
    }
  }
}

/**
 * `container/key` (or the container, or `account`) for messages.
 *
 * @param target What a request is about.
 * @returns A short description.
 */
export function describe(target: { container?: string | undefined; key?: string | undefined }) {
  if (target.container === undefined) return "account";
  return JSON.stringify(
    target.key === undefined ? target.container : `${target.container}/${target.key}`,
  );
}

/**
 * The one mapping from a failed Swift response to the store error family;
 * consumes the (short) body for detail. Honours `Retry-After`.
 *
 * @example A 404 becomes a NotFoundError
 * ```ts
 * import { classify } from "./client.ts";
 * import { NotFoundError } from "../errors.ts";
 * import { ok } from "node:assert/strict";
 * const error = await classify(new Response("<h1>Not Found</h1>", { status: 404 }), {
 *   operation: "GET", container: "c", key: "k",
 * });
 * ok(error instanceof NotFoundError);
 * ```
 *
 * @param response The failed response.
 * @param context What the request was, for the message.
 * @returns The error to throw.
 */
export async function classify(
  response: Response,
  context: {
    operation: string;
    container?: string | undefined;
    key?: string | undefined;
    store?: string | undefined;
  },
): Promise<StoreError> {
  let detail = "";
  try {
    detail = (await response.text()).replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim()
      .slice(0, 200);
  } catch {
    // the body is only detail
  }
  const status = `${response.status} ${response.statusText}`.trim();
  const message = `Swift ${context.operation} ${describe(context)} failed: ${status}${
    detail && !status.includes(detail) ? `: ${detail}` : ""
  }`;
  return errorFromStatus(response.status, message, {
    store: context.store,
    key: context.key,
    retryAfter: response.headers.get("retry-after"),
  });
}
