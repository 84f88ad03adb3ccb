/**
 * Response bodies of the HTTP drivers, guarded: a body cut off by the network
 * fails as a {@linkcode TransientError} naming the object, never as a short
 * stream that a checksum downstream would call a mismatch.
 *
 * @module
 */
import { TransientError } from "./errors.ts";

/** What a guarded body is about, for its error. */
export interface BodyContext {
  /** The request, e.g. `Swift GET "c/k"`, for the message. */
  what: string;
  /** The bytes the response announced (`Content-Length`), when it did. */
  expectedBytes?: number | undefined;
  /** The store, as its `toString()` prints it. */
  store?: string | undefined;
  /** The key. */
  key?: string | undefined;
  /** The request's signal: a failure after it aborted is the abort, passed on as it is. */
  signal?: AbortSignal | undefined;
}

/**
 * Passes `body` through; a read that fails (connection reset or closed
 * mid-body), or an end before `expectedBytes`, errors the stream with a
 * {@linkcode TransientError} that says how far it got. Holds no bytes.
 *
 * @example A body shorter than announced
 * ```ts
 * import { guardBody } from "./_body.ts";
 * import { TransientError } from "./errors.ts";
 * import { rejects } from "node:assert/strict";
 * const body = guardBody(new Blob(["abc"]).stream(), { what: "GET x", expectedBytes: 5 });
 * await rejects(body.pipeTo(new WritableStream()), TransientError);
 * ```
 *
 * @param body The response body.
 * @param context The request, the announced size, store and key.
 * @returns The same bytes, or a transient error.
 */
export function guardBody(
  body: ReadableStream<Uint8Array>,
  context: BodyContext,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const expected = context.expectedBytes;
  let received = 0;
  const broken = (detail: string, cause?: unknown) =>
    new TransientError(
      `${context.what} broke off after ${received}${
        expected === undefined ? "" : ` of ${expected}`
      } bytes: ${detail}`,
      { store: context.store, key: context.key, cause },
    );
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (error) {
        const aborted = context.signal?.aborted || (error as Error)?.name === "AbortError";
        throw aborted ? error : broken((error as Error)?.message ?? String(error), error);
      }
      if (result.done) {
        if (expected !== undefined && received < expected) {
          throw broken("the connection closed early");
        }
        controller.close();
        return;
      }
      received += result.value.byteLength;
      controller.enqueue(result.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/**
 * The length of the body `fetch` will deliver, when the response says: its
 * `Content-Length`, unless a `Content-Encoding` makes that the length of the
 * encoded bytes (`fetch` decodes them).
 *
 * @param headers The response headers.
 * @returns The body's length, or undefined.
 */
export function contentLengthOf(headers: Headers): number | undefined {
  const encoding = headers.get("content-encoding");
  if (encoding && !/^\s*identity\s*$/i.test(encoding)) return undefined;
  const length = headers.get("content-length");
  return length !== null && /^\d+$/.test(length) ? Number(length) : undefined;
}
