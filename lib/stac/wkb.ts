/**
 * GeoJSON geometries to and from Well-Known Binary (ISO WKB, little-endian,
 * Z as the 1000-series type codes), and bounding boxes.
 *
 * @module
 */
import type { GeoJSON } from "./item.ts";
import {
  findName,
  numberValue,
  scanNumber,
  scanNumberKind,
  scanString,
  skipWhitespace,
  stringFlags,
} from "./json_scan.ts";

const CODES: Record<string, number> = {
  Point: 1,
  LineString: 2,
  Polygon: 3,
  MultiPoint: 4,
  MultiLineString: 5,
  MultiPolygon: 6,
  GeometryCollection: 7,
};
const NAMES = ["", ...Object.keys(CODES)];

type Coords = unknown;

/** Counts coordinate dimensions; -1 when mixed or not 2/3. */
function dimsOf(g: GeoJSON, seen: Set<number>): void {
  if (g.type === "GeometryCollection") {
    for (const child of g.geometries) dimsOf(child, seen);
    return;
  }
  const walk = (c: Coords, depth: number) => {
    if (depth === 0) {
      seen.add(Array.isArray(c) ? c.length : -1);
      return;
    }
    if (!Array.isArray(c)) {
      seen.add(-1);
      return;
    }
    for (const x of c) walk(x, depth - 1);
  };
  walk(g.coordinates, depthOf(g.type));
}

function depthOf(type: string): number {
  switch (type) {
    case "Point":
      return 0;
    case "LineString":
    case "MultiPoint":
      return 1;
    case "Polygon":
    case "MultiLineString":
      return 2;
    default:
      return 3;
  }
}

function sizeOf(g: GeoJSON, dim: number): number {
  const p = 8 * dim;
  switch (g.type) {
    case "Point":
      return 5 + p;
    case "LineString":
      return 9 + g.coordinates.length * p;
    case "Polygon":
      return 9 + g.coordinates.reduce((s, r) => s + 4 + r.length * p, 0);
    case "MultiPoint":
      return 9 + g.coordinates.length * (5 + p);
    case "MultiLineString":
      return 9 + g.coordinates.reduce((s, l) => s + 9 + l.length * p, 0);
    case "MultiPolygon":
      return 9 +
        g.coordinates.reduce(
          (s, poly) => s + 9 + poly.reduce((t, r) => t + 4 + r.length * p, 0),
          0,
        );
    case "GeometryCollection":
      return 9 + g.geometries.reduce((s, c) => s + sizeOf(c, dim), 0);
  }
}

/**
 * Encodes a GeoJSON geometry as ISO WKB (little-endian; Z when the
 * coordinates have three values). An empty Point becomes `POINT(NaN NaN)`.
 *
 * @example A point
 * ```ts
 * import { geometryToWkb, wkbToGeometry } from "./wkb.ts";
 * import { deepEqual } from "node:assert/strict";
 * const wkb = geometryToWkb({ type: "Point", coordinates: [1, 2, 3] })!;
 * deepEqual(wkbToGeometry(wkb), { type: "Point", coordinates: [1, 2, 3] });
 * ```
 *
 * @param geometry The geometry.
 * @returns The WKB bytes, or `undefined` when the coordinates mix 2 and 3
 *   dimensions or have another count (WKB cannot say that).
 */
export function geometryToWkb(geometry: GeoJSON): Uint8Array | undefined {
  const seen = new Set<number>();
  dimsOf(geometry, seen);
  if (seen.size > 1 || seen.has(-1)) return undefined;
  const dim = seen.size === 0 ? 2 : [...seen][0]!;
  if (dim !== 2 && dim !== 3) return undefined;
  if (geometry.type === "Point" && geometry.coordinates.length === 0) {
    const out = new Uint8Array(21);
    const v = new DataView(out.buffer);
    out[0] = 1;
    v.setUint32(1, 1, true);
    v.setFloat64(5, NaN, true);
    v.setFloat64(13, NaN, true);
    return out;
  }
  const out = new Uint8Array(sizeOf(geometry, dim));
  const view = new DataView(out.buffer);
  let o = 0;
  const header = (type: string, count?: number) => {
    out[o] = 1;
    view.setUint32(o + 1, CODES[type]! + (dim === 3 ? 1000 : 0), true);
    o += 5;
    if (count !== undefined) {
      view.setUint32(o, count, true);
      o += 4;
    }
  };
  const point = (c: number[]) => {
    for (let i = 0; i < dim; i++) {
      view.setFloat64(o, c[i]!, true);
      o += 8;
    }
  };
  const points = (cs: number[][]) => {
    view.setUint32(o, cs.length, true);
    o += 4;
    for (const c of cs) point(c);
  };
  const write = (g: GeoJSON) => {
    switch (g.type) {
      case "Point":
        header("Point");
        point(g.coordinates);
        break;
      case "LineString":
        header("LineString");
        points(g.coordinates);
        break;
      case "Polygon":
        header("Polygon", g.coordinates.length);
        for (const r of g.coordinates) points(r);
        break;
      case "MultiPoint":
        header("MultiPoint", g.coordinates.length);
        for (const c of g.coordinates) {
          header("Point");
          point(c);
        }
        break;
      case "MultiLineString":
        header("MultiLineString", g.coordinates.length);
        for (const l of g.coordinates) {
          header("LineString");
          points(l);
        }
        break;
      case "MultiPolygon":
        header("MultiPolygon", g.coordinates.length);
        for (const poly of g.coordinates) {
          header("Polygon", poly.length);
          for (const r of poly) points(r);
        }
        break;
      case "GeometryCollection":
        header("GeometryCollection", g.geometries.length);
        for (const child of g.geometries) write(child);
        break;
    }
  };
  write(geometry);
  return out;
}

/**
 * Decodes WKB (ISO or EWKB flags, either byte order; Z and M values kept as
 * extra coordinates) into GeoJSON.
 *
 * @example A line
 * ```ts
 * import { geometryToWkb, wkbToGeometry } from "./wkb.ts";
 * import { deepEqual } from "node:assert/strict";
 * const line = { type: "LineString" as const, coordinates: [[0, 0], [1, 1]] };
 * deepEqual(wkbToGeometry(geometryToWkb(line)!), line);
 * ```
 *
 * @param wkb The bytes.
 * @returns The geometry.
 * @throws {RangeError} When the bytes are not WKB.
 */
export function wkbToGeometry(wkb: Uint8Array): GeoJSON {
  const view = new DataView(wkb.buffer, wkb.byteOffset, wkb.byteLength);
  let o = 0;
  const read = (): GeoJSON => {
    if (o + 5 > wkb.byteLength) throw new RangeError("Truncated WKB");
    const le = wkb[o] === 1;
    const raw = view.getUint32(o + 1, le);
    o += 5;
    let code = raw & 0xffff;
    let dim = 2;
    if (raw & 0x80000000) dim++; // EWKB Z
    if (raw & 0x40000000) dim++; // EWKB M
    if (raw & 0x20000000) o += 4; // EWKB SRID
    if (code > 1000) {
      const series = Math.floor(code / 1000);
      code %= 1000;
      dim = series === 3 ? 4 : 3;
    }
    const u32 = () => {
      const v = view.getUint32(o, le);
      o += 4;
      return v;
    };
    const point = () => {
      const c: number[] = [];
      for (let i = 0; i < dim; i++) {
        c.push(view.getFloat64(o, le));
        o += 8;
      }
      return c;
    };
    const points = () => {
      const n = u32();
      const out: number[][] = [];
      for (let i = 0; i < n; i++) out.push(point());
      return out;
    };
    const name = NAMES[code];
    switch (name) {
      case "Point": {
        const c = point();
        return { type: "Point", coordinates: c.every(Number.isNaN) ? [] : c };
      }
      case "LineString":
        return { type: "LineString", coordinates: points() };
      case "Polygon": {
        const n = u32();
        const rings: number[][][] = [];
        for (let i = 0; i < n; i++) rings.push(points());
        return { type: "Polygon", coordinates: rings };
      }
      case "MultiPoint":
      case "MultiLineString":
      case "MultiPolygon": {
        const n = u32();
        const parts = [];
        for (let i = 0; i < n; i++) {
          const child = read() as { coordinates: unknown };
          parts.push(child.coordinates);
        }
        return { type: name, coordinates: parts } as GeoJSON;
      }
      case "GeometryCollection": {
        const n = u32();
        const geometries: GeoJSON[] = [];
        for (let i = 0; i < n; i++) geometries.push(read());
        return { type: "GeometryCollection", geometries };
      }
      default:
        throw new RangeError(`Unknown WKB geometry type ${raw}`);
    }
  };
  try {
    return read();
  } catch (error) {
    if (error instanceof RangeError && !/WKB/.test(error.message)) {
      throw new RangeError("Truncated WKB", { cause: error });
    }
    throw error;
  }
}

/**
 * The GeoParquet geometry type name of a WKB value (`"Polygon"`,
 * `"Point Z"`), read from its header only.
 *
 * @example
 * ```ts
 * import { geometryToWkb, wkbTypeName } from "./wkb.ts";
 * import { equal } from "node:assert/strict";
 * equal(wkbTypeName(geometryToWkb({ type: "Point", coordinates: [1, 2, 3] })!), "Point Z");
 * ```
 *
 * @param wkb The bytes.
 * @returns The name, or undefined when unknown.
 */
export function wkbTypeName(wkb: Uint8Array): string | undefined {
  if (wkb.byteLength < 5) return undefined;
  const view = new DataView(wkb.buffer, wkb.byteOffset, wkb.byteLength);
  const raw = view.getUint32(1, wkb[0] === 1);
  let code = raw & 0xffff;
  let z = (raw & 0x80000000) !== 0;
  if (code > 1000) {
    z = Math.floor(code / 1000) === 1 || Math.floor(code / 1000) === 3;
    code %= 1000;
  }
  const name = NAMES[code];
  return name ? (z ? `${name} Z` : name) : undefined;
}

/**
 * The 2D bounding box `[xmin, ymin, xmax, ymax]` of a GeoJSON geometry.
 *
 * @example
 * ```ts
 * import { geometryBbox } from "./wkb.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(geometryBbox({ type: "LineString", coordinates: [[0, 5], [2, -1]] }), [0, -1, 2, 5]);
 * ```
 *
 * @param geometry The geometry.
 * @returns The box, or undefined for an empty geometry.
 */
export function geometryBbox(geometry: GeoJSON): number[] | undefined {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c: unknown) => {
    if (!Array.isArray(c)) return;
    if (typeof c[0] === "number") {
      b[0] = Math.min(b[0]!, c[0]);
      b[1] = Math.min(b[1]!, c[1] as number);
      b[2] = Math.max(b[2]!, c[0]);
      b[3] = Math.max(b[3]!, c[1] as number);
      return;
    }
    for (const x of c) walk(x);
  };
  const visit = (g: GeoJSON) => {
    if (g.type === "GeometryCollection") g.geometries.forEach(visit);
    else walk(g.coordinates);
  };
  visit(geometry);
  return b[0] === Infinity ? undefined : b;
}

// ------------------------------------------------- GeoJSON bytes to WKB

const utf8Encoder = new TextEncoder();
/** The simple types, at their WKB code minus one (no GeometryCollection). */
const SIMPLE_TYPES = NAMES.slice(1, 7).map((name) => utf8Encoder.encode(name));
/** Per WKB code, how many arrays deep the numbers of the coordinates are. */
const LEAF_DEPTH = [0, 1, 2, 3, 2, 3, 4];
const GEOMETRY_JSON_KEYS = ["type", "coordinates"].map((name) => utf8Encoder.encode(name));

let coords = new Float64Array(256);
let coordCount = 0;
/** Element counts of the arrays above the positions, in document order. */
let counts = new Int32Array(64);
let countCount = 0;
let leafDepth = 0;
let dimension = 0;
let wkb = new Uint8Array(1024);
let wkbView = new DataView(wkb.buffer);
let wkbSize = 0;

/**
 * Reads the GeoJSON geometry object at `b[i]` (its JSON bytes) and encodes it
 * as {@linkcode geometryToWkb} would; get the bytes with
 * {@linkcode lastGeometryWkb}. Handles the six simple types with 2 or 3
 * dimensions and no empty arrays or other keys; anything else gives -1 (then
 * parse the geometry and use {@linkcode geometryToWkb}).
 *
 * @example
 * ```ts
 * import { geometryToWkb, lastGeometryWkb, readGeometryJson } from "./wkb.ts";
 * import { deepEqual } from "node:assert/strict";
 * const g = { type: "Polygon" as const, coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]] };
 * const bytes = new TextEncoder().encode(JSON.stringify(g));
 * deepEqual(readGeometryJson(bytes, 0), bytes.length);
 * deepEqual(lastGeometryWkb(), geometryToWkb(g));
 * ```
 *
 * @param b The JSON bytes (reading stops at their end).
 * @param i The index of `{`.
 * @returns The index after `}`, or -1.
 */
export function readGeometryJson(b: Uint8Array, i: number): number {
  storeCoordinates = true;
  const end = readGeometry(b, i);
  if (end >= 0) writeWkb(geometryCode);
  return end;
}

/**
 * Checks that the JSON bytes at `b[i]` are a geometry
 * {@linkcode readGeometryJson} reads, without encoding it.
 *
 * @example
 * ```ts
 * import { checkGeometryJson } from "./wkb.ts";
 * import { equal } from "node:assert/strict";
 * const bytes = new TextEncoder().encode('{"type":"Point","coordinates":[1,2]}');
 * equal(checkGeometryJson(bytes, 0), bytes.length);
 * equal(checkGeometryJson(new TextEncoder().encode('{"type":"Point","coordinates":[[1,2]]}'), 0), -1);
 * ```
 *
 * @param b The JSON bytes (reading stops at their end).
 * @param i The index of `{`.
 * @returns The index after `}`, or -1.
 */
export function checkGeometryJson(b: Uint8Array, i: number): number {
  storeCoordinates = false;
  return readGeometry(b, i);
}

/** Whether {@linkcode readCoordinates} keeps the numbers (else only checks them). */
let storeCoordinates = true;
/** The WKB code of the geometry last read. */
let geometryCode = 0;

function readGeometry(b: Uint8Array, i: number): number {
  if (b[i] !== 0x7b) return -1;
  coordCount =
    countCount =
    leafDepth =
    dimension =
      0;
  let code = 0;
  let hasCoordinates = false;
  i = skipWhitespace(b, i + 1);
  for (;;) {
    const keyEnd = scanString(b, i);
    if (keyEnd < 0 || stringFlags !== 0) return -1;
    const key = findName(GEOMETRY_JSON_KEYS, b, i + 1, keyEnd - 1, 0);
    i = skipWhitespace(b, keyEnd);
    if (key < 0 || b[i] !== 0x3a) return -1;
    i = skipWhitespace(b, i + 1);
    if (key === 0) {
      const end = scanString(b, i);
      if (code > 0 || end < 0 || stringFlags !== 0) return -1;
      code = findName(SIMPLE_TYPES, b, i + 1, end - 1, 0) + 1;
      if (code === 0) return -1;
      i = end;
    } else {
      if (hasCoordinates || b[i] !== 0x5b) return -1;
      i = readCoordinates(b, i, 1);
      if (i < 0) return -1;
      hasCoordinates = true;
    }
    i = skipWhitespace(b, i);
    if (b[i] === 0x7d) break;
    if (b[i] !== 0x2c) return -1;
    i = skipWhitespace(b, i + 1);
  }
  if (code === 0 || !hasCoordinates || leafDepth !== LEAF_DEPTH[code]) return -1;
  geometryCode = code;
  return i + 1;
}

/**
 * The WKB of the geometry last read by {@linkcode readGeometryJson} (valid
 * until the next call).
 *
 * @returns The bytes.
 */
export function lastGeometryWkb(): Uint8Array {
  return wkb.subarray(0, wkbSize);
}

/** Reads the array at `b[i]`, `depth` arrays deep: a position or an array of arrays. */
function readCoordinates(b: Uint8Array, i: number, depth: number): number {
  if (depth > 4) return -1;
  // Minified JSON has no whitespace: a byte above a space is taken as it is.
  i++;
  if (b[i]! <= 0x20) i = skipWhitespace(b, i);
  if (b[i] === 0x5b) {
    if (countCount === counts.length) {
      const grown = new Int32Array(counts.length * 2);
      grown.set(counts);
      counts = grown;
    }
    const slot = countCount++;
    let n = 0;
    for (;;) {
      i = readCoordinates(b, i, depth + 1);
      if (i < 0) return -1;
      n++;
      if (b[i]! <= 0x20) i = skipWhitespace(b, i);
      if (b[i] === 0x5d) break;
      if (b[i] !== 0x2c) return -1;
      i++;
      if (b[i]! <= 0x20) i = skipWhitespace(b, i);
      if (b[i] !== 0x5b) return -1;
    }
    counts[slot] = n;
    return i + 1;
  }
  if (leafDepth === 0) leafDepth = depth;
  else if (leafDepth !== depth) return -1;
  let n = 0;
  for (;;) {
    if (!storeCoordinates) {
      i = scanNumberKind(b, i);
      if (i < 0) return -1;
      n++;
      if (b[i]! <= 0x20) i = skipWhitespace(b, i);
      if (b[i] === 0x5d) break;
      if (b[i] !== 0x2c) return -1;
      i++;
      if (b[i]! <= 0x20) i = skipWhitespace(b, i);
      continue;
    }
    i = scanNumber(b, i);
    if (i < 0) return -1;
    if (coordCount === coords.length) {
      const grown = new Float64Array(coords.length * 2);
      grown.set(coords);
      coords = grown;
    }
    coords[coordCount++] = numberValue;
    n++;
    if (b[i]! <= 0x20) i = skipWhitespace(b, i);
    if (b[i] === 0x5d) break;
    if (b[i] !== 0x2c) return -1;
    i++;
    if (b[i]! <= 0x20) i = skipWhitespace(b, i);
  }
  if (dimension === 0) {
    if (n !== 2 && n !== 3) return -1;
    dimension = n;
  } else if (n !== dimension) return -1;
  return i + 1;
}

function writeWkb(code: number): void {
  const dim = dimension;
  const max = 9 * (countCount + 1) + (5 + 8 * dim) * (coordCount / dim);
  if (wkb.length < max) {
    wkb = new Uint8Array(Math.max(max, wkb.length * 2));
    wkbView = new DataView(wkb.buffer);
  }
  const view = wkbView;
  const zCode = dim === 3 ? 1000 : 0;
  let o = 0;
  let k = 0;
  let c = 0;
  const header = (code: number) => {
    wkb[o] = 1;
    view.setUint32(o + 1, code + zCode, true);
    o += 5;
  };
  const count = (n: number) => {
    view.setUint32(o, n, true);
    o += 4;
    return n;
  };
  const point = () => {
    for (let d = 0; d < dim; d++) {
      view.setFloat64(o, coords[c++]!, true);
      o += 8;
    }
  };
  const points = () => {
    for (let n = count(counts[k++]!); n > 0; n--) point();
  };
  header(code);
  switch (code) {
    case 1:
      point();
      break;
    case 2:
      points();
      break;
    case 3:
      for (let r = count(counts[k++]!); r > 0; r--) points();
      break;
    case 4:
      for (let n = count(counts[k++]!); n > 0; n--) {
        header(1);
        point();
      }
      break;
    case 5:
      for (let n = count(counts[k++]!); n > 0; n--) {
        header(2);
        points();
      }
      break;
    case 6:
      for (let n = count(counts[k++]!); n > 0; n--) {
        header(3);
        for (let r = count(counts[k++]!); r > 0; r--) points();
      }
      break;
  }
  wkbSize = o;
}
