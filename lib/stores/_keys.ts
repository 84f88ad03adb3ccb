import { InvalidInputError } from "./errors.ts";

/**
 * Checks a key against the invariants every driver relies on: not empty, no
 * leading `/`, no empty, `.` or `..` segment, no NUL.
 *
 * @param key The key.
 * @param store The store name for the error.
 */
export function checkKey(key: string, store?: string): void {
  const bad = key === "" || key.startsWith("/") || key.includes("\0") ||
    key.split("/").some((s) => s === "." || s === "..");
  if (bad) {
    throw new InvalidInputError(`Invalid object key ${JSON.stringify(key)}`, { store, key });
  }
}

/**
 * Folds sorted keys into listing entries under `prefix` with `delimiter`:
 * objects directly under it, and each deeper group once as a prefix.
 *
 * @param keys Keys in ascending order, all starting with `prefix`.
 * @param prefix The listing prefix.
 * @param delimiter The delimiter or undefined.
 * @returns The grouping key for `key`, or undefined when it is an object entry.
 */
export function commonPrefixOf(
  key: string,
  prefix: string,
  delimiter: string | undefined,
): string | undefined {
  if (!delimiter) return undefined;
  const at = key.indexOf(delimiter, prefix.length);
  return at === -1 ? undefined : key.slice(0, at + delimiter.length);
}

/** Compares strings by UTF-8 byte order (the order S3 and Swift list in). */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const ea = new TextEncoder().encode(a);
  const eb = new TextEncoder().encode(b);
  const n = Math.min(ea.length, eb.length);
  for (let i = 0; i < n; i++) {
    if (ea[i] !== eb[i]) return ea[i]! - eb[i]!;
  }
  return ea.length - eb.length;
}
