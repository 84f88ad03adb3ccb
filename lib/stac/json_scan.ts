/**
 * Strict byte-level JSON tokens for reading NDJSON lines straight into Arrow
 * columns. Each function takes the line and the index of a token and returns
 * the index after it, or -1 when the bytes are not that token (the caller
 * then hands the whole line to `JSON.parse`, which decides).
 *
 * A line is a `subarray` of its own: reading past its end gives `undefined`,
 * which no check accepts.
 *
 * @module
 */

/** Bit of {@linkcode stringFlags}: the string has a backslash escape. */
export const ESCAPED = 1;
/** Bit of {@linkcode stringFlags}: the string has bytes above 0x7f. */
export const NON_ASCII = 2;

/** What {@linkcode scanString} found in the last string it scanned. */
export let stringFlags = 0;
/** The value of the last number {@linkcode scanNumber} scanned. */
export let numberValue = 0;

const utf8 = new TextDecoder();

/** Powers of ten a double holds exactly (Clinger's fast path). */
const POW10 = [
  1e0,
  1e1,
  1e2,
  1e3,
  1e4,
  1e5,
  1e6,
  1e7,
  1e8,
  1e9,
  1e10,
  1e11,
  1e12,
  1e13,
  1e14,
  1e15,
  1e16,
  1e17,
  1e18,
  1e19,
  1e20,
  1e21,
  1e22,
];

/**
 * Skips JSON whitespace.
 *
 * @example
 * ```ts
 * import { skipWhitespace } from "./json_scan.ts";
 * import { equal } from "node:assert/strict";
 * equal(skipWhitespace(new TextEncoder().encode(" \t1"), 0), 2);
 * ```
 *
 * @param b The line.
 * @param i Where to start.
 * @returns The index of the next other byte (or the line's length).
 */
export function skipWhitespace(b: Uint8Array, i: number): number {
  // Small enough to be inlined: minified NDJSON has no whitespace.
  const c = b[i];
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 ? skipMore(b, i + 1) : i;
}

function skipMore(b: Uint8Array, i: number): number {
  for (;;) {
    const c = b[i];
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
    else return i;
  }
}

/**
 * Scans the string starting at `b[i]` (a `"`) and sets
 * {@linkcode stringFlags}. Escapes are not checked here: a string with one is
 * decoded by {@linkcode decodeString}, which does.
 *
 * @example
 * ```ts
 * import { scanString, stringFlags } from "./json_scan.ts";
 * import { equal } from "node:assert/strict";
 * equal(scanString(new TextEncoder().encode('"ab"'), 0), 4);
 * equal(stringFlags, 0);
 * ```
 *
 * @param b The line.
 * @param i The index of the opening quote.
 * @returns The index after the closing quote, or -1.
 */
export function scanString(b: Uint8Array, i: number): number {
  if (b[i] !== 0x22) return -1;
  const n = b.length;
  let flags = 0;
  let j = i + 1;
  while (j < n) {
    const c = b[j]!;
    // One comparison for the usual printable ASCII other than `"` and `\`.
    if (c > 0x5c ? c < 0x7f : c > 0x22 ? c !== 0x5c : c >= 0x20 && c !== 0x22) {
      j++;
      continue;
    }
    if (c === 0x22) {
      stringFlags = flags;
      return j + 1;
    }
    if (c < 0x20) return -1;
    if (c === 0x5c) {
      flags |= ESCAPED;
      j += 2;
    } else {
      flags |= NON_ASCII;
      j++;
    }
  }
  return -1;
}

/**
 * The text of a string scanned by {@linkcode scanString} (as `JSON.parse`
 * gives it: invalid UTF-8 becomes U+FFFD).
 *
 * @example
 * ```ts
 * import { decodeString, scanString } from "./json_scan.ts";
 * import { equal } from "node:assert/strict";
 * const b = new TextEncoder().encode('"a\\u00e9"');
 * equal(decodeString(b, 0, scanString(b, 0)), "aé");
 * ```
 *
 * @param b The line.
 * @param start The index of the opening quote.
 * @param end The index after the closing quote.
 * @returns The text, or undefined when an escape is invalid.
 */
export function decodeString(b: Uint8Array, start: number, end: number): string | undefined {
  if ((stringFlags & ESCAPED) === 0) return utf8.decode(b.subarray(start + 1, end - 1));
  try {
    return JSON.parse(utf8.decode(b.subarray(start, end)));
  } catch {
    return undefined;
  }
}

/**
 * An ASCII byte range as a string (short texts such as datetimes).
 *
 * @example
 * ```ts
 * import { asciiText } from "./json_scan.ts";
 * import { equal } from "node:assert/strict";
 * equal(asciiText(new TextEncoder().encode("xab"), 1, 3), "ab");
 * ```
 *
 * @param b The bytes.
 * @param start First byte.
 * @param end After the last byte.
 * @returns The text.
 */
export function asciiText(b: Uint8Array, start: number, end: number): string {
  // Through a reused array: twice as fast as a subarray or a decoder.
  const codes = charCodes;
  codes.length = end - start;
  for (let k = start; k < end; k++) codes[k - start] = b[k]!;
  return String.fromCharCode.apply(null, codes);
}

const charCodes: number[] = [];

/**
 * Scans a JSON number (strict grammar: no leading zeros, `+`, `.5` or `1.`)
 * and sets {@linkcode numberValue} to what `JSON.parse` gives for it.
 *
 * @example
 * ```ts
 * import { numberValue, scanNumber } from "./json_scan.ts";
 * import { equal } from "node:assert/strict";
 * equal(scanNumber(new TextEncoder().encode("-12.5e1,"), 0), 7);
 * equal(numberValue, -125);
 * equal(scanNumber(new TextEncoder().encode("01"), 0), 1);
 * equal(scanNumber(new TextEncoder().encode("1."), 0), -1);
 * ```
 *
 * @param b The line.
 * @param i The index of the first byte (`-` or a digit).
 * @returns The index after the number, or -1.
 */
export function scanNumber(b: Uint8Array, i: number): number {
  const start = i;
  let negative = false;
  let c = b[i];
  if (c === 0x2d) {
    negative = true;
    c = b[++i];
  }
  let mantissa = 0;
  let digits = 0;
  if (c === 0x30) c = b[++i];
  else if (c !== undefined && c >= 0x31 && c <= 0x39) {
    do {
      mantissa = mantissa * 10 + (c - 0x30);
      digits++;
      c = b[++i];
    } while (c !== undefined && c >= 0x30 && c <= 0x39);
  } else return -1;
  let exponent = 0;
  if (c === 0x2e) {
    c = b[++i];
    if (c === undefined || c < 0x30 || c > 0x39) return -1;
    do {
      mantissa = mantissa * 10 + (c - 0x30);
      digits++;
      exponent--;
      c = b[++i];
    } while (c !== undefined && c >= 0x30 && c <= 0x39);
  }
  if (c === 0x65 || c === 0x45) {
    c = b[++i];
    let sign = 1;
    if (c === 0x2b || c === 0x2d) {
      if (c === 0x2d) sign = -1;
      c = b[++i];
    }
    if (c === undefined || c < 0x30 || c > 0x39) return -1;
    let e = 0;
    do {
      if (e < 100000) e = e * 10 + (c - 0x30);
      c = b[++i];
    } while (c !== undefined && c >= 0x30 && c <= 0x39);
    exponent += sign * e;
  }
  // Up to 15 digits the mantissa is exact, and one multiplication or
  // division by an exact power of ten is correctly rounded.
  if (digits <= 15 && exponent >= -22 && exponent <= 22) {
    const v = exponent === 0
      ? mantissa
      : exponent > 0
      ? mantissa * POW10[exponent]!
      : mantissa / POW10[-exponent]!;
    numberValue = negative ? -v : v;
  } else numberValue = Number(asciiText(b, start, i));
  return i;
}

/** Whether the last number {@linkcode scanNumberKind} scanned is a safe integer for `JSON.parse`. */
export let numberIsSafeInteger = false;

/**
 * Scans a JSON number (the grammar of {@linkcode scanNumber}) and sets
 * {@linkcode numberIsSafeInteger}, computing the value only when its digits
 * do not tell: a number without exponent whose first non-zero fraction digit
 * comes within 15 significant digits is no integer; one without any
 * fraction and up to 15 digits is a safe integer.
 *
 * @example
 * ```ts
 * import { numberIsSafeInteger, scanNumberKind } from "./json_scan.ts";
 * import { equal } from "node:assert/strict";
 * const kind = (s: string) => (scanNumberKind(new TextEncoder().encode(s), 0), numberIsSafeInteger);
 * equal(kind("-66.04929875588759"), false);
 * equal(kind("2.000"), true);
 * equal(kind("1e2"), true);
 * equal(kind("9007199254740993"), false);
 * ```
 *
 * @param b The line.
 * @param i The index of the first byte (`-` or a digit).
 * @returns The index after the number, or -1.
 */
export function scanNumberKind(b: Uint8Array, i: number): number {
  const start = i;
  let c = b[i];
  if (c === 0x2d) c = b[++i];
  let integerDigits = 0;
  if (c === 0x30) {
    c = b[++i];
    integerDigits = 1;
  } else if (c !== undefined && c >= 0x31 && c <= 0x39) {
    do {
      integerDigits++;
      c = b[++i];
    } while (c !== undefined && c >= 0x30 && c <= 0x39);
  } else return -1;
  /** Position (1-based) of the first non-zero fraction digit, 0 when none. */
  let firstNonZero = 0;
  if (c === 0x2e) {
    c = b[++i];
    if (c === undefined || c < 0x30 || c > 0x39) return -1;
    let position = 0;
    do {
      position++;
      if (firstNonZero === 0 && c !== 0x30) firstNonZero = position;
      c = b[++i];
    } while (c !== undefined && c >= 0x30 && c <= 0x39);
  }
  let exponent = false;
  if (c === 0x65 || c === 0x45) {
    exponent = true;
    c = b[++i];
    if (c === 0x2b || c === 0x2d) c = b[++i];
    if (c === undefined || c < 0x30 || c > 0x39) return -1;
    do c = b[++i]; while (c !== undefined && c >= 0x30 && c <= 0x39);
  }
  if (!exponent && firstNonZero !== 0 && integerDigits + firstNonZero <= 15) {
    numberIsSafeInteger = false;
  } else if (!exponent && firstNonZero === 0 && integerDigits <= 15) numberIsSafeInteger = true;
  else numberIsSafeInteger = Number.isSafeInteger(Number(asciiText(b, start, i)));
  return i;
}

/**
 * Whether `b[i..]` is the literal `null`.
 *
 * @example
 * ```ts
 * import { isNull } from "./json_scan.ts";
 * import { equal } from "node:assert/strict";
 * equal(isNull(new TextEncoder().encode("null"), 0), true);
 * ```
 *
 * @param b The line.
 * @param i Where the literal would start.
 * @returns True for `null`.
 */
export function isNull(b: Uint8Array, i: number): boolean {
  return b[i] === 0x6e && b[i + 1] === 0x75 && b[i + 2] === 0x6c && b[i + 3] === 0x6c;
}

/**
 * Finds the end of any JSON value (its grammar is checked by whoever
 * `JSON.parse`s the range afterwards).
 *
 * @example
 * ```ts
 * import { skipValue } from "./json_scan.ts";
 * import { equal } from "node:assert/strict";
 * equal(skipValue(new TextEncoder().encode('{"a":[1,"]"]},'), 0), 13);
 * ```
 *
 * @param b The line.
 * @param i The index of the value's first byte.
 * @returns The index after the value, or -1.
 */
export function skipValue(b: Uint8Array, i: number): number {
  const c = b[i];
  if (c === 0x22) return scanString(b, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (;;) {
      const d = b[i];
      if (d === undefined) return -1;
      if (d === 0x22) {
        i = scanString(b, i);
        if (i < 0) return -1;
        continue;
      }
      if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        if (--depth === 0) return i + 1;
      }
      i++;
    }
  }
  // A number or a literal: up to the next delimiter.
  let j = i;
  for (;;) {
    const d = b[j];
    if (
      d === undefined || d === 0x2c || d === 0x7d || d === 0x5d || d === 0x20 || d === 0x09 ||
      d === 0x0a || d === 0x0d
    ) break;
    j++;
  }
  return j > i ? j : -1;
}

/**
 * The index of the name equal to `b[start..end)` (tried from `hint` on, as
 * keys usually come in the same order item after item), or -1.
 *
 * @example
 * ```ts
 * import { findName } from "./json_scan.ts";
 * import { equal } from "node:assert/strict";
 * const names = ["id", "bbox"].map((n) => new TextEncoder().encode(n));
 * equal(findName(names, new TextEncoder().encode('"bbox"'), 1, 5, 0), 1);
 * ```
 *
 * @param names The names as UTF-8.
 * @param b The line.
 * @param start First byte of the key.
 * @param end After its last byte.
 * @param hint Where to start looking.
 * @returns The index or -1.
 */
export function findName(
  names: readonly Uint8Array[],
  b: Uint8Array,
  start: number,
  end: number,
  hint: number,
): number {
  const m = names.length;
  const len = end - start;
  for (let t = 0; t < m; t++) {
    let j = hint + t;
    if (j >= m) j -= m;
    const name = names[j]!;
    if (name.length !== len) continue;
    let k = 0;
    while (k < len && name[k] === b[start + k]) k++;
    if (k === len) return j;
  }
  return -1;
}

/** Per byte: 1 for printable ASCII other than `"` and `\` (a string's bytes as they are). */
export const PLAIN_ASCII: Uint8Array = new Uint8Array(256);
for (let c = 0x20; c < 0x7f; c++) if (c !== 0x22 && c !== 0x5c) PLAIN_ASCII[c] = 1;

/**
 * The index of the name the key at `b[i]` is, when the key is a string of
 * printable ASCII without escapes (tried from `hint` on, as keys usually
 * come in the same order item after item), else -1: one pass over the key,
 * where {@linkcode scanString} then {@linkcode findName} take two. The key
 * ends at `i + names[j].length + 2`.
 *
 * @example
 * ```ts
 * import { plainKeyIndex } from "./json_scan.ts";
 * import { equal } from "node:assert/strict";
 * const names = ["id", "bbox"].map((n) => new TextEncoder().encode(n));
 * equal(plainKeyIndex(names, new TextEncoder().encode('"bbox":1'), 0, 0), 1);
 * equal(plainKeyIndex(names, new TextEncoder().encode('"bbo\\x":1'), 0, 0), -1);
 * ```
 *
 * @param names The names as UTF-8.
 * @param b The line.
 * @param i The index of the key's opening quote.
 * @param hint Where to start looking.
 * @returns The index or -1.
 */
export function plainKeyIndex(
  names: readonly Uint8Array[],
  b: Uint8Array,
  i: number,
  hint: number,
): number {
  if (b[i] !== 0x22) return -1;
  const from = i + 1;
  const m = names.length;
  for (let t = 0; t < m; t++) {
    let j = hint + t;
    if (j >= m) j -= m;
    const name = names[j]!;
    const n = name.length;
    if (b[from + n] !== 0x22) continue;
    let k = 0;
    for (; k < n; k++) {
      const c = b[from + k]!;
      if (c !== name[k] || PLAIN_ASCII[c] !== 1) break;
    }
    if (k === n) return j;
  }
  return -1;
}
