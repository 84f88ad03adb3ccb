/**
 * Size flags: `B`, `KB`/`MB`/`GB`/`TB` (decimal) and `KiB`/`MiB`/`GiB`/`TiB`
 * (binary), case-insensitive; a bare number is bytes.
 *
 * @module
 */

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/**
 * Parses a size.
 *
 * @example Decimal and binary units
 * ```ts
 * import { parseSize } from "./units.ts";
 * import { equal } from "node:assert/strict";
 * equal(parseSize("8MiB"), 8 * 1024 * 1024);
 * equal(parseSize("1.5 kb"), 1500);
 * ```
 *
 * @param text The size text.
 * @param name The flag it came from, for the error.
 * @returns Whole bytes.
 * @throws {SyntaxError} When it is not a size.
 */
export function parseSize(text: string, name = "size"): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const factor = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || factor === undefined) {
    throw new SyntaxError(
      `Invalid ${name} "${text}": expected a number with B, KB, MB, GB, TB, KiB, MiB, GiB or TiB`,
    );
  }
  const bytes = Math.round(Number(match[1]) * factor);
  if (!Number.isSafeInteger(bytes)) throw new RangeError(`Invalid ${name} "${text}": too large`);
  return bytes;
}

/**
 * Formats bytes for people: binary units, one decimal.
 *
 * @param bytes The count.
 * @returns E.g. `1.5 MiB`.
 */
export function formatSize(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}
