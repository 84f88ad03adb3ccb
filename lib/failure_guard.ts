/**
 * A pass-through stream that fails as soon as a failure elsewhere (e.g. the
 * input of a Parquet writer that streams its file out) is recorded, so that
 * a sink gets the failure instead of a file that ends early.
 *
 * @module
 */

/**
 * The guard.
 *
 * @example
 * ```ts
 * import { failureGuard } from "./failure_guard.ts";
 * import { rejects } from "node:assert/strict";
 * let failure: { error: unknown } | undefined;
 * const out = new Blob(["a"]).stream().pipeThrough(failureGuard(() => failure));
 * failure = { error: new Error("input broke") };
 * await rejects(new Response(out).arrayBuffer(), /input broke/);
 * ```
 *
 * @param failed What failed so far, if anything.
 * @returns A stream passing chunks through until `failed()` says otherwise.
 */
export function failureGuard(
  failed: () => { error: unknown } | undefined,
): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      const f = failed();
      if (f) controller.error(f.error);
      else controller.enqueue(chunk);
    },
    flush(controller) {
      const f = failed();
      if (f) controller.error(f.error);
    },
  });
}
