/**
 * Frees released chunk buffers at the pace bytes stream, not at V8's.
 *
 * A chunk buffer is external memory: V8 frees it only when a collection finds
 * its wrapper dead. With V8's default young generation (semi-spaces of up to
 * 16 MiB) a transfer that allocates few JS objects per chunk can keep tens of
 * MiB of released chunks alive between scavenges, past the memory limit the
 * budget promises. A smaller young generation
 * (`--max-semi-space-size=1`) fixes that for transfers, but it makes every
 * allocation-heavy command (JSON and Arrow in `items`) 20–30 % slower. So the
 * binary is built with `--expose-gc` instead, and whatever streams bytes
 * through (the transfer pipeline's memory budget, deep validation, checksums)
 * asks for a minor collection after each {@linkcode RECLAIM_EVERY_BYTES} of
 * chunk bytes it has let go of. Without `--expose-gc` (a library user's
 * process) this is a no-op.
 *
 * @module
 */

/** Released bytes between two requested minor collections. */
export const RECLAIM_EVERY_BYTES = 4 * 2 ** 20;

type Collect = (options: { type: "minor" | "major" }) => void;

let releasedSinceCollection = 0;
let longLivedSinceCollection = 0;

/**
 * Counts bytes whose buffers the pipeline has let go of and, every
 * {@linkcode RECLAIM_EVERY_BYTES}, asks V8 for a minor collection when the
 * runtime exposes `gc`.
 *
 * @example
 * ```ts
 * import { noteReleasedBytes, RECLAIM_EVERY_BYTES } from "./reclaim.ts";
 * import { equal } from "node:assert/strict";
 * equal(noteReleasedBytes(RECLAIM_EVERY_BYTES), true);
 * equal(noteReleasedBytes(1), false);
 * ```
 *
 * @param bytes Bytes just released.
 * @param held `long` for buffers held across many collections (an upload's
 *   parts): their wrappers have left the young generation, and only a major
 *   collection frees them. @default "short"
 * @returns Whether this call reached the threshold (and asked for a collection if it could).
 */
export function noteReleasedBytes(bytes: number, held: "short" | "long" = "short"): boolean {
  releasedSinceCollection += bytes;
  if (held === "long") longLivedSinceCollection += bytes;
  if (releasedSinceCollection < RECLAIM_EVERY_BYTES) return false;
  releasedSinceCollection = 0;
  const major = longLivedSinceCollection >= RECLAIM_EVERY_BYTES;
  if (major) longLivedSinceCollection = 0;
  (globalThis as { gc?: Collect }).gc?.({ type: major ? "major" : "minor" });
  return true;
}
