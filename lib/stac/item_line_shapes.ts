/**
 * The shapes of the item on one NDJSON line, read from its bytes without
 * building the item: the first, cheap pass over a file whose whole schema
 * must be known before its first record batch is written. Every value is
 * checked against the JSON grammar on the way; a line that is not a plain
 * valid Item (or that this reader does not follow: escaped keys at the top
 * level, duplicate keys, a geometry collection, ...) is left to the caller,
 * who parses it and observes the parsed item. Both ways give the same
 * shapes.
 *
 * @module
 */
import {
  asciiText,
  decodeString,
  ESCAPED,
  findName,
  isNull,
  numberIsSafeInteger,
  scanNumberKind,
  scanString,
  skipWhitespace,
  stringFlags,
} from "./json_scan.ts";
import { checkGeometryJson } from "./wkb.ts";
import {
  DATETIME_PROPERTIES,
  FEATURE_JSON,
  NOT_PROPERTY_COLUMNS,
  TOP_ASSETS,
  TOP_BBOX,
  TOP_COLLECTION,
  TOP_GEOMETRY,
  TOP_ID,
  TOP_KEYS,
  TOP_LINKS,
  TOP_PROPERTIES,
  TOP_STAC_EXTENSIONS,
  TOP_STAC_VERSION,
  TOP_TYPE,
} from "./item_members.ts";
import type { ItemShapes } from "./item_shapes.ts";
import {
  BOOL_SHAPE,
  FLOAT_SHAPE,
  INT_SHAPE,
  joinScalar,
  memberIndex,
  MIXED_SHAPE,
  NULL_SHAPE,
  STRING_SHAPE,
  structShape,
  type ValueShape,
} from "./value_shape.ts";

/**
 * Values nested deeper than this are left to `JSON.parse` (the readers here
 * recurse).
 */
const MAX_DEPTH = 256;

/** Counts lines: a key read in this line carries its number. */
let lineStamp = 0;
const topStamps = new Uint32Array(TOP_KEYS.length);
let propertyStamps = new Uint32Array(64);

/** Where the value last read ends; -1 when it is not one this reader takes. */
let valueEnd = 0;

/** What the line brings besides shapes, taken only once all of it was read. */
let lineNeedsOverflow = false;
let lineHasZ = false;
/** Datetime property values of the line: name, then the text (or `0` for a non-string). */
const lineDatetimes: (string | number)[] = [];

/**
 * Widens `shapes` with the item of one NDJSON line, read from its bytes.
 *
 * @example
 * ```ts
 * import { ItemShapes } from "./item_shapes.ts";
 * import { observeItemLine } from "./item_line_shapes.ts";
 * import { equal } from "node:assert/strict";
 * const shapes = new ItemShapes();
 * const line = (s: string) => new TextEncoder().encode(s);
 * equal(observeItemLine(shapes, line('{"type":"Feature","id":"a","geometry":null,"properties":{"n":1.5}}')), true);
 * equal(shapes.properties.fields[0]!.kind, "float");
 * equal(observeItemLine(shapes, line('{"type":"Feature","id":"a"}')), false);
 * ```
 *
 * @param shapes What was observed so far.
 * @param b The line (nothing else).
 * @returns True when the line was taken into account; false when the caller
 *   is to parse it (shapes may then be widened by part of it, which the
 *   parsed item widens them by anyway).
 */
export function observeItemLine(shapes: ItemShapes, b: Uint8Array): boolean {
  const stamp = ++lineStamp;
  lineNeedsOverflow = false;
  lineHasZ = false;
  lineDatetimes.length = 0;
  let i = skipWhitespace(b, 0);
  if (b[i] !== 0x7b) return false;
  i = skipWhitespace(b, i + 1);
  let hint = 0;
  for (;;) {
    const keyEnd = scanString(b, i);
    if (keyEnd < 0 || stringFlags !== 0) return false;
    const key = findName(TOP_KEYS, b, i + 1, keyEnd - 1, hint);
    i = skipWhitespace(b, keyEnd);
    if (b[i] !== 0x3a) return false;
    i = skipWhitespace(b, i + 1);
    if (key < 0) {
      // A foreign member: kept in the overflow column.
      lineNeedsOverflow = true;
      validate(b, i, 0);
      i = valueEnd;
    } else {
      if (topStamps[key] === stamp) return false;
      topStamps[key] = stamp;
      hint = key + 1;
      i = readTopValue(shapes, key, b, i, stamp);
    }
    if (i < 0) return false;
    i = skipWhitespace(b, i);
    if (b[i] === 0x7d) break;
    if (b[i] !== 0x2c) return false;
    i = skipWhitespace(b, i + 1);
  }
  if (skipWhitespace(b, i + 1) !== b.length) return false;
  if (
    topStamps[TOP_TYPE] !== stamp || topStamps[TOP_PROPERTIES] !== stamp ||
    topStamps[TOP_ID] !== stamp ||
    topStamps[TOP_GEOMETRY] !== stamp
  ) return false;
  if (lineNeedsOverflow) shapes.needsOverflow = true;
  if (lineHasZ) shapes.hasZ = true;
  for (let k = 0; k < lineDatetimes.length; k += 2) {
    shapes.datetime(lineDatetimes[k] as string).add(lineDatetimes[k + 1]);
  }
  return true;
}

/**
 * Whether the key at `b[i]` (a `"`) is exactly `name` with no escape: its
 * bytes, then the closing quote. One pass over the key, where scanning it and
 * then comparing it would take two (the usual case: keys come in the order
 * of the item before).
 */
function isPlainKey(b: Uint8Array, i: number, name: Uint8Array | undefined): boolean {
  if (name === undefined) return false;
  const n = name.length;
  for (let k = 0; k < n; k++) {
    const c = b[i + 1 + k];
    // A backslash or control byte is never taken as is: the slow path decides.
    if (c !== name[k] || c! < 0x20 || c === 0x5c) return false;
  }
  return b[i + 1 + n] === 0x22;
}

/** Reads the value of one of the item's own members; the index after it or -1. */
function readTopValue(
  shapes: ItemShapes,
  key: number,
  b: Uint8Array,
  i: number,
  stamp: number,
): number {
  switch (key) {
    case TOP_TYPE:
      for (let k = 0; k < FEATURE_JSON.length; k++) if (b[i + k] !== FEATURE_JSON[k]) return -1;
      return i + FEATURE_JSON.length;
    case TOP_ID:
      return b[i] === 0x22 && b[i + 1] !== 0x22 ? readString(b, i) : -1;
    case TOP_STAC_VERSION:
    case TOP_COLLECTION:
      return isNull(b, i) ? i + 4 : b[i] === 0x22 ? readString(b, i) : -1;
    case TOP_GEOMETRY:
      return isNull(b, i) ? i + 4 : checkGeometryJson(b, i);
    case TOP_BBOX:
      return isNull(b, i) ? i + 4 : readBbox(b, i);
    case TOP_PROPERTIES:
      return b[i] === 0x7b ? readProperties(shapes, b, i, stamp) : -1;
    default: {
      if (key === TOP_LINKS && b[i] !== 0x5b) return -1;
      if (key === TOP_ASSETS && b[i] !== 0x7b) return -1;
      // `ItemShapes.core` holds stac_extensions, links and assets in this order.
      const core = shapes.core;
      const j = key - TOP_STAC_EXTENSIONS;
      const shape = core.fields[j]!;
      const widened = widen(shape, b, i, 0);
      if (widened !== shape) core.fields[j] = widened;
      return valueEnd;
    }
  }
}

/** A string whose escapes are valid; the index after it or -1. */
function readString(b: Uint8Array, i: number): number {
  const end = scanString(b, i);
  if (end < 0) return -1;
  if ((stringFlags & ESCAPED) !== 0 && decodeString(b, i, end) === undefined) return -1;
  return end;
}

/** A bbox of 4 or 6 numbers; anything else is left to the parsed item. */
function readBbox(b: Uint8Array, i: number): number {
  if (b[i] !== 0x5b) return -1;
  let n = 0;
  i = skipWhitespace(b, i + 1);
  for (;;) {
    i = scanNumberKind(b, i);
    if (i < 0 || n === 6) return -1;
    n++;
    i = skipWhitespace(b, i);
    if (b[i] === 0x5d) break;
    if (b[i] !== 0x2c) return -1;
    i = skipWhitespace(b, i + 1);
  }
  if (n === 6) lineHasZ = true;
  else if (n !== 4) return -1;
  return i + 1;
}

function readProperties(shapes: ItemShapes, b: Uint8Array, i: number, stamp: number): number {
  const properties = shapes.properties;
  i = skipWhitespace(b, i + 1);
  if (b[i] === 0x7d) return i + 1;
  let hint = 0;
  for (;;) {
    let keyEnd: number;
    let j: number;
    let name: string | undefined;
    const names = properties.utf8Names;
    if (isPlainKey(b, i, names[hint])) {
      j = hint;
      keyEnd = i + names[hint]!.length + 2;
      name = properties.names[j]!;
    } else {
      keyEnd = scanString(b, i);
      if (keyEnd < 0) return -1;
      j = (stringFlags & ESCAPED) === 0 ? findName(names, b, i + 1, keyEnd - 1, hint) : -1;
      if (j < 0) {
        name = decodeString(b, i, keyEnd);
        if (name === undefined) return -1;
        j = NOT_PROPERTY_COLUMNS.has(name) ? -1 : memberIndex(properties, name);
      } else name = properties.names[j]!;
    }
    i = skipWhitespace(b, keyEnd);
    if (b[i] !== 0x3a) return -1;
    i = skipWhitespace(b, i + 1);
    if (j < 0) {
      // A property named like an item-level column: kept in the overflow column.
      lineNeedsOverflow = true;
      validate(b, i, 0);
    } else {
      if (j >= propertyStamps.length) {
        const grown = new Uint32Array(Math.max(propertyStamps.length * 2, j + 1));
        grown.set(propertyStamps);
        propertyStamps = grown;
      }
      // A duplicate key: `JSON.parse` keeps the last value; so does the parsed item.
      if (propertyStamps[j] === stamp) return -1;
      propertyStamps[j] = stamp;
      hint = j + 1;
      const shape = properties.fields[j]!;
      const widened = widen(shape, b, i, 0);
      if (widened !== shape) properties.fields[j] = widened;
      if (valueEnd >= 0 && DATETIME_PROPERTIES.has(name) && !isNull(b, i)) {
        // The string just read is the value: its flags are still those of its scan.
        lineDatetimes.push(
          name,
          b[i] !== 0x22
            ? 0
            : stringFlags === 0
            ? asciiText(b, i + 1, valueEnd - 1)
            : decodeString(b, i, valueEnd)!,
        );
      }
    }
    i = valueEnd;
    if (i < 0) return -1;
    i = skipWhitespace(b, i);
    if (b[i] === 0x7d) return i + 1;
    if (b[i] !== 0x2c) return -1;
    i = skipWhitespace(b, i + 1);
  }
}

/**
 * The shape that holds `shape`'s values and the value at `b[i]` (list and
 * struct shapes widened in place); sets {@linkcode valueEnd}.
 */
function widen(shape: ValueShape, b: Uint8Array, i: number, depth: number): ValueShape {
  const c = b[i];
  if (c === 0x22) {
    valueEnd = readString(b, i);
    return shape.kind === "string" ? shape : joinScalar(shape, STRING_SHAPE);
  }
  if (c === 0x7b) return widenObject(shape, b, i, depth);
  if (c === 0x5b) return widenArray(shape, b, i, depth);
  const end = readLiteral(b, i);
  if (end >= 0) {
    valueEnd = end;
    return c === 0x6e ? shape : joinScalar(shape, BOOL_SHAPE);
  }
  valueEnd = scanNumberKind(b, i);
  return valueEnd < 0 ? shape : joinScalar(shape, numberIsSafeInteger ? INT_SHAPE : FLOAT_SHAPE);
}

/** `null`, `true` or `false` at `b[i]`: the index after it, else -1. */
function readLiteral(b: Uint8Array, i: number): number {
  const c = b[i];
  if (c === 0x6e) return isNull(b, i) ? i + 4 : -1;
  if (c === 0x74) return b[i + 1] === 0x72 && b[i + 2] === 0x75 && b[i + 3] === 0x65 ? i + 4 : -1;
  if (c === 0x66) {
    return b[i + 1] === 0x61 && b[i + 2] === 0x6c && b[i + 3] === 0x73 && b[i + 4] === 0x65
      ? i + 5
      : -1;
  }
  return -1;
}

function widenArray(shape: ValueShape, b: Uint8Array, i: number, depth: number): ValueShape {
  const list: ValueShape = shape.kind === "null" ? { kind: "list", element: NULL_SHAPE } : shape;
  if (list.kind !== "list" || depth > MAX_DEPTH) {
    validate(b, i, depth);
    return MIXED_SHAPE;
  }
  i = skipWhitespace(b, i + 1);
  if (b[i] === 0x5d) {
    valueEnd = i + 1;
    return list;
  }
  for (;;) {
    const element = list.element;
    const widened = widen(element, b, i, depth + 1);
    if (widened !== element) list.element = widened;
    if (valueEnd < 0) return list;
    i = skipWhitespace(b, valueEnd);
    if (b[i] === 0x5d) {
      valueEnd = i + 1;
      return list;
    }
    if (b[i] !== 0x2c) {
      valueEnd = -1;
      return list;
    }
    i = skipWhitespace(b, i + 1);
  }
}

function widenObject(shape: ValueShape, b: Uint8Array, i: number, depth: number): ValueShape {
  const struct: ValueShape = shape.kind === "null" ? structShape() : shape;
  if (struct.kind !== "struct" || depth > MAX_DEPTH) {
    validate(b, i, depth);
    return MIXED_SHAPE;
  }
  i = skipWhitespace(b, i + 1);
  if (b[i] === 0x7d) {
    valueEnd = i + 1;
    return struct;
  }
  let hint = 0;
  for (;;) {
    let j: number;
    let keyEnd: number;
    const names = struct.utf8Names;
    if (isPlainKey(b, i, names[hint])) {
      j = hint;
      keyEnd = i + names[hint]!.length + 2;
    } else {
      keyEnd = scanString(b, i);
      if (keyEnd < 0) {
        valueEnd = -1;
        return struct;
      }
      j = (stringFlags & ESCAPED) === 0 ? findName(names, b, i + 1, keyEnd - 1, hint) : -1;
      if (j < 0) {
        const name = decodeString(b, i, keyEnd);
        if (name === undefined) {
          valueEnd = -1;
          return struct;
        }
        j = memberIndex(struct, name);
      }
    }
    hint = j + 1;
    i = skipWhitespace(b, keyEnd);
    if (b[i] !== 0x3a) {
      valueEnd = -1;
      return struct;
    }
    i = skipWhitespace(b, i + 1);
    const field = struct.fields[j]!;
    if (b[i] === 0x22 && field === STRING_SHAPE) {
      // The usual member: a string where strings were seen.
      valueEnd = readString(b, i);
    } else {
      const widened = widen(field, b, i, depth + 1);
      if (widened !== field) struct.fields[j] = widened;
    }
    if (valueEnd < 0) return struct;
    i = skipWhitespace(b, valueEnd);
    if (b[i] === 0x7d) {
      valueEnd = i + 1;
      return struct;
    }
    if (b[i] !== 0x2c) {
      valueEnd = -1;
      return struct;
    }
    i = skipWhitespace(b, i + 1);
  }
}

/** Checks the JSON value at `b[i]` without taking its shape; sets {@linkcode valueEnd}. */
function validate(b: Uint8Array, i: number, depth: number): void {
  const c = b[i];
  if (c === 0x22) {
    valueEnd = readString(b, i);
    return;
  }
  if (c === 0x7b || c === 0x5b) {
    if (depth > MAX_DEPTH) {
      valueEnd = -1;
      return;
    }
    const close = c === 0x7b ? 0x7d : 0x5d;
    i = skipWhitespace(b, i + 1);
    if (b[i] === close) {
      valueEnd = i + 1;
      return;
    }
    for (;;) {
      if (c === 0x7b) {
        i = readString(b, i);
        if (i < 0) break;
        i = skipWhitespace(b, i);
        if (b[i] !== 0x3a) break;
        i = skipWhitespace(b, i + 1);
      }
      validate(b, i, depth + 1);
      if (valueEnd < 0) return;
      i = skipWhitespace(b, valueEnd);
      if (b[i] === close) {
        valueEnd = i + 1;
        return;
      }
      if (b[i] !== 0x2c) break;
      i = skipWhitespace(b, i + 1);
    }
    valueEnd = -1;
    return;
  }
  const end = readLiteral(b, i);
  valueEnd = end >= 0 ? end : scanNumberKind(b, i);
}
