/**
 * The usual NDJSON line of a file once its first lines were read: an item
 * whose every key and value kind the shapes already hold. Confirming that
 * from the bytes changes no shape, so it needs neither the shape updates
 * nor the number kinds of `item_line_shapes.ts`: a check of the JSON
 * grammar, of the key names and of the value kinds, found in one pass over
 * a block of lines without cutting it into lines first. It gives up (and
 * changes nothing) wherever the shapes would change or the line is odd; the
 * caller then reads that line with `observeItemLine`, which decides. A line
 * confirmed here is one `observeItemLine` takes without changing a shape, so
 * the shapes come out the same either way.
 *
 * @module
 */
import { asciiText, isNull, plainKeyIndex } from "./json_scan.ts";
import { checkGeometryJson } from "./wkb.ts";
import {
  DATETIME_PROPERTIES,
  FEATURE_JSON,
  TOP_ASSETS,
  TOP_BBOX,
  TOP_COLLECTION,
  TOP_GEOMETRY,
  TOP_ID,
  TOP_KEYS,
  TOP_LINKS,
  TOP_PROPERTIES,
  TOP_STAC_VERSION,
  TOP_TYPE,
} from "./item_members.ts";
import type { ItemShapes } from "./item_shapes.ts";
import { STRING_SHAPE, type StructShape, type ValueShape } from "./value_shape.ts";

/** Each of the top keys read in the line, as a bit. */
const REQUIRED = (1 << TOP_TYPE) | (1 << TOP_PROPERTIES) | (1 << TOP_ID) | (1 << TOP_GEOMETRY);

/** Deeper values are left to `observeItemLine`. */
const MAX_DEPTH = 64;

/** Per byte in a string: 0 goes on; 1 `"`; 2 `\`; 3 a control byte. */
const STRING_BYTE = new Uint8Array(256);
STRING_BYTE.fill(3, 0, 0x20);
STRING_BYTE[0x22] = 1;
STRING_BYTE[0x5c] = 2;

/** Per byte after a `\`: 1 for the one-letter escapes JSON allows. */
const ESCAPE = new Uint8Array(256);
for (const c of '"\\/bfnrt') ESCAPE[c.charCodeAt(0)] = 1;

/** Per byte: 1 for a hex digit. */
const HEX = new Uint8Array(256);
for (const c of "0123456789abcdefABCDEF") HEX[c.charCodeAt(0)] = 1;

/** Whether a property (by its index in the shapes) holds datetimes; kept in step with the names. */
let datetimeFlags = new Uint8Array(0);
let datetimeNames: readonly string[] = [];

/** Properties read in the line, by index: the line's number where read. */
let propertyStamps = new Uint32Array(64);
let lineStamp = 0;

/** Datetime values of the line: property index, then start and end of the string (or -1, -1). */
const lineDatetimes: number[] = [];

/**
 * Confirms the item of the NDJSON line at `b[start]` against `shapes` and,
 * when it fits, takes it into account (its datetime values, a 3D bbox, a
 * foreign member): as `observeItemLine` does for such a line.
 *
 * @example
 * ```ts
 * import { ItemShapes } from "./item_shapes.ts";
 * import { observeItemLine } from "./item_line_shapes.ts";
 * import { confirmItemLine } from "./item_line_fit.ts";
 * import { equal } from "node:assert/strict";
 * const shapes = new ItemShapes();
 * const bytes = (s: string) => new TextEncoder().encode(s);
 * const item = (n: string) => `{"type":"Feature","id":"a","geometry":null,"properties":{"n":${n}}}`;
 * equal(confirmItemLine(shapes, bytes(item("1")), 0), -1);
 * equal(observeItemLine(shapes, bytes(item("1"))), true);
 * const block = bytes(item("2") + "\n" + item("2.5") + "\n");
 * equal(confirmItemLine(shapes, block, 0), block.indexOf(0x0a));
 * equal(confirmItemLine(shapes, block, block.indexOf(0x0a) + 1), -1);
 * ```
 *
 * @param shapes What was observed so far.
 * @param b A block of NDJSON lines.
 * @param start Where the line starts.
 * @returns The index of the line's newline (or the block's end), or -1
 *   when the line is left to `observeItemLine` (nothing changed then).
 */
export function confirmItemLine(shapes: ItemShapes, b: Uint8Array, start: number): number {
  const stamp = ++lineStamp;
  lineDatetimes.length = 0;
  let i = skipSpace(b, start);
  if (b[i] !== 0x7b) return -1;
  i = skipSpace(b, i + 1);
  let seen = 0;
  let foreign = false;
  let hasZ = false;
  let hint = 0;
  for (;;) {
    const key = plainKeyIndex(TOP_KEYS, b, i, hint);
    let keyEnd: number;
    if (key >= 0) {
      const bit = 1 << key;
      if ((seen & bit) !== 0) return -1;
      seen |= bit;
      hint = key + 1;
      keyEnd = i + TOP_KEYS[key]!.length + 2;
    } else {
      // A foreign member (its value is checked, whatever it is): overflow.
      keyEnd = skipString(b, i);
      if (keyEnd < 0 || !isForeignKey(b, i + 1, keyEnd - 1)) return -1;
      foreign = true;
    }
    i = skipSpace(b, keyEnd);
    if (b[i] !== 0x3a) return -1;
    i = skipSpace(b, i + 1);
    switch (key) {
      case TOP_TYPE:
        for (let k = 0; k < FEATURE_JSON.length; k++) if (b[i + k] !== FEATURE_JSON[k]) return -1;
        i += FEATURE_JSON.length;
        break;
      case TOP_ID:
        i = b[i + 1] !== 0x22 ? skipString(b, i) : -1;
        break;
      case TOP_STAC_VERSION:
      case TOP_COLLECTION:
        i = isNull(b, i) ? i + 4 : skipString(b, i);
        break;
      case TOP_GEOMETRY:
        i = isNull(b, i) ? i + 4 : checkGeometryJson(b, i);
        break;
      case TOP_BBOX:
        if (isNull(b, i)) i += 4;
        else {
          const end = skipBbox(b, i);
          if (end < 0) return -1;
          hasZ ||= bboxLength === 6;
          i = end;
        }
        break;
      case TOP_PROPERTIES:
        i = b[i] === 0x7b ? fitProperties(shapes.properties, b, i, stamp) : -1;
        break;
      case -1:
        i = fit(undefined, b, i, 0);
        break;
      case TOP_LINKS:
        i = b[i] === 0x5b ? fit(shapes.core.fields[1], b, i, 0) : -1;
        break;
      case TOP_ASSETS:
        i = b[i] === 0x7b ? fit(shapes.core.fields[2], b, i, 0) : -1;
        break;
      default:
        // `ItemShapes.core` holds stac_extensions, links and assets in this order.
        i = fit(shapes.core.fields[0], b, i, 0);
    }
    if (i < 0) return -1;
    i = skipSpace(b, i);
    if (b[i] === 0x7d) break;
    if (b[i] !== 0x2c) return -1;
    i = skipSpace(b, i + 1);
  }
  if ((seen & REQUIRED) !== REQUIRED) return -1;
  i = skipSpace(b, i + 1);
  if (i < b.length && b[i] !== 0x0a) return -1;
  if (foreign) shapes.needsOverflow = true;
  if (hasZ) shapes.hasZ = true;
  for (let k = 0; k < lineDatetimes.length; k += 3) {
    const from = lineDatetimes[k + 1]!;
    const to = lineDatetimes[k + 2]!;
    shapes.datetime(datetimeNames[lineDatetimes[k]!]!).add(
      from < 0 ? 0 : asciiText(b, from, to),
    );
  }
  return i;
}

/** Spaces, tabs and carriage returns (a newline ends the line). */
function skipSpace(b: Uint8Array, i: number): number {
  let c = b[i]!;
  while (c === 0x20 || c === 0x09 || c === 0x0d) c = b[++i]!;
  return i;
}

/**
 * The string at `b[i]` (a `"`), its escapes checked as `JSON.parse` does:
 * the index after it, or -1.
 */
function skipString(b: Uint8Array, i: number): number {
  if (b[i] !== 0x22) return -1;
  let j = i + 1;
  for (;;) {
    let t = STRING_BYTE[b[j]!];
    while (t === 0) t = STRING_BYTE[b[++j]!];
    if (t === 1) return j + 1;
    if (t !== 2) return -1;
    const e = b[j + 1]!;
    if (ESCAPE[e] === 1) j += 2;
    else if (
      e === 0x75 && HEX[b[j + 2]!] === 1 && HEX[b[j + 3]!] === 1 && HEX[b[j + 4]!] === 1 &&
      HEX[b[j + 5]!] === 1
    ) j += 6;
    else return -1;
  }
}

/** Whether a top-level key (its bytes) is a plain ASCII one other than the item's own. */
function isForeignKey(b: Uint8Array, from: number, to: number): boolean {
  for (let k = from; k < to; k++) {
    const c = b[k]!;
    if (c === 0x5c || c > 0x7e) return false;
  }
  return true;
}

/** How many numbers the bbox last read by {@linkcode skipBbox} has. */
let bboxLength = 0;

/** A bbox of 4 or 6 numbers: the index after it, or -1. */
function skipBbox(b: Uint8Array, i: number): number {
  if (b[i] !== 0x5b) return -1;
  let n = 0;
  i = skipSpace(b, i + 1);
  for (;;) {
    i = skipNumber(b, i);
    if (i < 0 || ++n > 6) return -1;
    i = skipSpace(b, i);
    if (b[i] === 0x5d) break;
    if (b[i] !== 0x2c) return -1;
    i = skipSpace(b, i + 1);
  }
  if (n !== 4 && n !== 6) return -1;
  bboxLength = n;
  return i + 1;
}

/** A JSON number (strict grammar): the index after it, or -1. */
function skipNumber(b: Uint8Array, i: number): number {
  let c = b[i]!;
  if (c === 0x2d) c = b[++i]!;
  if (c === 0x30) c = b[++i]!;
  else if (c >= 0x31 && c <= 0x39) {
    do c = b[++i]!; while (c >= 0x30 && c <= 0x39);
  } else return -1;
  if (c === 0x2e) {
    c = b[++i]!;
    if (!(c >= 0x30 && c <= 0x39)) return -1;
    do c = b[++i]!; while (c >= 0x30 && c <= 0x39);
  }
  if (c === 0x65 || c === 0x45) {
    c = b[++i]!;
    if (c === 0x2b || c === 0x2d) c = b[++i]!;
    if (!(c >= 0x30 && c <= 0x39)) return -1;
    do c = b[++i]!; while (c >= 0x30 && c <= 0x39);
  }
  return i;
}

/**
 * An integer of up to 15 digits, no fraction or exponent (a safe integer
 * by its digits alone): the index after it, or -1 (also for other numbers,
 * which `observeItemLine` tells apart).
 */
function skipSmallInteger(b: Uint8Array, i: number): number {
  let c = b[i]!;
  if (c === 0x2d) c = b[++i]!;
  const first = i;
  if (c === 0x30) c = b[++i]!;
  else if (c >= 0x31 && c <= 0x39) {
    do c = b[++i]!; while (c >= 0x30 && c <= 0x39);
  } else return -1;
  if (c === 0x2e || c === 0x65 || c === 0x45 || i - first > 15) return -1;
  return i;
}

/**
 * The value at `b[i]` when it fits `shape` as it is (`undefined`: any
 * valid value, as for a mixed shape): the index after it, else -1.
 */
function fit(shape: ValueShape | undefined, b: Uint8Array, i: number, depth: number): number {
  const c = b[i];
  const kind = shape === undefined ? "mixed" : shape.kind;
  if (c === 0x22) return kind === "string" || kind === "mixed" ? skipString(b, i) : -1;
  if (c === 0x7b) {
    if (depth >= MAX_DEPTH) return -1;
    if (kind === "struct") return fitObject(shape as StructShape, b, i, depth);
    return kind === "mixed" ? fitObject(undefined, b, i, depth) : -1;
  }
  if (c === 0x5b) {
    if (depth >= MAX_DEPTH) return -1;
    if (kind === "list") return fitArray((shape as { element: ValueShape }).element, b, i, depth);
    return kind === "mixed" ? fitArray(undefined, b, i, depth) : -1;
  }
  if (c === 0x6e) return isNull(b, i) ? i + 4 : -1;
  if (c === 0x74) {
    if (kind !== "bool" && kind !== "mixed") return -1;
    return b[i + 1] === 0x72 && b[i + 2] === 0x75 && b[i + 3] === 0x65 ? i + 4 : -1;
  }
  if (c === 0x66) {
    if (kind !== "bool" && kind !== "mixed") return -1;
    return b[i + 1] === 0x61 && b[i + 2] === 0x6c && b[i + 3] === 0x73 && b[i + 4] === 0x65
      ? i + 5
      : -1;
  }
  if (kind === "float" || kind === "mixed") return skipNumber(b, i);
  return kind === "int" ? skipSmallInteger(b, i) : -1;
}

function fitArray(
  element: ValueShape | undefined,
  b: Uint8Array,
  i: number,
  depth: number,
): number {
  i = skipSpace(b, i + 1);
  if (b[i] === 0x5d) return i + 1;
  for (;;) {
    i = fit(element, b, i, depth + 1);
    if (i < 0) return -1;
    i = skipSpace(b, i);
    if (b[i] === 0x5d) return i + 1;
    if (b[i] !== 0x2c) return -1;
    i = skipSpace(b, i + 1);
  }
}

function fitObject(
  struct: StructShape | undefined,
  b: Uint8Array,
  i: number,
  depth: number,
): number {
  i = skipSpace(b, i + 1);
  if (b[i] === 0x7d) return i + 1;
  let hint = 0;
  for (;;) {
    let field: ValueShape | undefined;
    if (struct === undefined) {
      i = skipString(b, i);
      if (i < 0) return -1;
    } else {
      const j = plainKeyIndex(struct.utf8Names, b, i, hint);
      if (j < 0) return -1;
      hint = j + 1;
      i += struct.utf8Names[j]!.length + 2;
      field = struct.fields[j]!;
    }
    i = skipSpace(b, i);
    if (b[i] !== 0x3a) return -1;
    i = skipSpace(b, i + 1);
    // The usual member: a string where strings were seen, skipped here.
    i = b[i] === 0x22 && field === STRING_SHAPE ? skipString(b, i) : fit(field, b, i, depth + 1);
    if (i < 0) return -1;
    i = skipSpace(b, i);
    if (b[i] === 0x7d) return i + 1;
    if (b[i] !== 0x2c) return -1;
    i = skipSpace(b, i + 1);
  }
}

/** The properties object at `b[i]` when every key is a property column it fits. */
function fitProperties(properties: StructShape, b: Uint8Array, i: number, stamp: number): number {
  const names = properties.utf8Names;
  if (datetimeNames !== properties.names || datetimeFlags.length !== names.length) {
    datetimeNames = properties.names;
    datetimeFlags = Uint8Array.from(properties.names, (n) => DATETIME_PROPERTIES.has(n) ? 1 : 0);
  }
  if (propertyStamps.length < names.length) propertyStamps = new Uint32Array(names.length * 2);
  i = skipSpace(b, i + 1);
  if (b[i] === 0x7d) return i + 1;
  let hint = 0;
  for (;;) {
    const j = plainKeyIndex(names, b, i, hint);
    // A new property, or one named like an item-level column (never among the names).
    if (j < 0) return -1;
    // A duplicate key: `JSON.parse` keeps the last value.
    if (propertyStamps[j] === stamp) return -1;
    propertyStamps[j] = stamp;
    hint = j + 1;
    i = skipSpace(b, i + names[j]!.length + 2);
    if (b[i] !== 0x3a) return -1;
    i = skipSpace(b, i + 1);
    const from = i;
    i = fit(properties.fields[j]!, b, i, 0);
    if (i < 0) return -1;
    if (datetimeFlags[j] === 1 && !isNull(b, from)) {
      if (b[from] !== 0x22) lineDatetimes.push(j, -1, -1);
      else {
        // Only plain ASCII text here: anything else is decoded by `observeItemLine`.
        for (let k = from + 1; k < i - 1; k++) if (b[k]! > 0x7e || b[k] === 0x5c) return -1;
        lineDatetimes.push(j, from + 1, i - 1);
      }
    }
    i = skipSpace(b, i);
    if (b[i] === 0x7d) return i + 1;
    if (b[i] !== 0x2c) return -1;
    i = skipSpace(b, i + 1);
  }
}
