/**
 * GeoJSON geometries to and from Well-Known Binary (ISO WKB, little-endian,
 * Z as the 1000-series type codes), and bounding boxes.
 *
 * @module
 */
import type { GeoJSON } from "./item.ts";

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
