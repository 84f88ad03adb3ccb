/**
 * Byte helpers shared by the stores, the lock and the item readers.
 *
 * @module
 */

/**
 * The pieces as one array (the piece itself when there is only one).
 *
 * @example
 * ```ts
 * import { concatBytes } from "./bytes.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(concatBytes([new Uint8Array([1]), new Uint8Array([2, 3])]), new Uint8Array([1, 2, 3]));
 * ```
 *
 * @param parts The pieces, in order.
 * @returns Their bytes.
 */
export function concatBytes<T extends ArrayBufferLike>(
  parts: readonly Uint8Array<T>[],
): Uint8Array<T | ArrayBuffer> {
  if (parts.length === 1) return parts[0]!;
  let length = 0;
  for (const p of parts) length += p.byteLength;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
