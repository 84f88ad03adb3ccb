/**
 * The orders Python sorts strings and paths in, for output that must match
 * stacpkg's (OCI layer order, `inspect`'s file list).
 *
 * @module
 */

/**
 * Code point order of two strings (what Python's string order is; UTF-16
 * order differs above U+D7FF).
 *
 * @param a A string.
 * @param b Another string.
 * @returns Negative, zero or positive.
 */
export function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/**
 * Orders `/`-separated paths part by part, each part in code point order:
 * how Python sorts `pathlib` paths (`a/b/c` before `a/b-c`).
 *
 * @example
 * ```ts
 * import { comparePaths } from "./path_order.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(["a/b-c", "a/b/c", "B", "a"].sort(comparePaths), ["B", "a", "a/b/c", "a/b-c"]);
 * ```
 *
 * @param a A path.
 * @param b Another path.
 * @returns Negative, zero or positive.
 */
export function comparePaths(a: string, b: string): number {
  const x = a.split("/");
  const y = b.split("/");
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = compareCodePoints(x[i]!, y[i]!);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
