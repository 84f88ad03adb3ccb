/**
 * Arrow record batches of items (written by `ItemsEncoder` or by another
 * writer: stac-geoparquet, stacpkg, or DuckDB with the geometry as a GeoJSON
 * struct and the properties in one struct) back into STAC Items: each column
 * decoded into JSON values, properties gathered, the overflow merged back.
 *
 * @module
 */
import * as arrow from "apache-arrow";
import { type GeoJSON, GEOMETRY_TYPES, type StacItem } from "./item.ts";
import { wkbToGeometry } from "./wkb.ts";
import { type DatetimeFormat, formatDatetimeMicros } from "./datetime.ts";
import {
  CORE_COLUMNS,
  DATETIME_FORMAT_KEY,
  hasNestedProperties,
  isPlainObject,
  JSON_ENCODING_KEY,
  OVERFLOW_COLUMN,
} from "./item_layout.ts";

const utf8 = new TextDecoder();

/** Any value Arrow JS gives back as a JSON value. */
function toJsonValue(v: unknown): unknown {
  if (typeof v === "bigint") return Number(v);
  if (v === null || v === undefined) return null;
  if (v instanceof Uint8Array) return Array.from(v);
  if (typeof v === "object") {
    const j = (v as { toJSON?: () => unknown }).toJSON?.();
    if (Array.isArray(j)) return j.map(toJsonValue);
    if (j && typeof j === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(j)) {
        const y = toJsonValue(x);
        if (y !== null) out[k] = y;
      }
      return out;
    }
    if (Array.isArray(v) || ArrayBuffer.isView(v)) {
      return Array.from(v as ArrayLike<unknown>, toJsonValue);
    }
  }
  return v;
}

function timestampToMicros(v: bigint | number, unit: arrow.TimeUnit): number {
  const n = typeof v === "bigint" ? v : BigInt(Math.round(v));
  switch (unit) {
    case arrow.TimeUnit.SECOND:
      return Number(n * 1_000_000n);
    case arrow.TimeUnit.MILLISECOND:
      return Number(n * 1000n);
    case arrow.TimeUnit.MICROSECOND:
      return Number(n);
    default:
      return Number(n / 1000n);
  }
}

/**
 * Decodes one column's data into JSON values (null where missing).
 *
 * @param field The column's field.
 * @param data Its data (may be a slice).
 * @returns One value per row.
 */
export function decodeColumn(field: arrow.Field, data: arrow.Data): unknown[] {
  const n = data.length;
  const out: unknown[] = new Array(n);
  const valid = data.nullCount === 0 ? undefined : (i: number) => data.getValid(i);
  const type = data.type as arrow.DataType;
  // A slice (offset > 0) has its offsets, fixed-width values and struct
  // children sliced already; bitmaps and list children are whole.
  const offset = data.offset;
  const isJson = field.metadata.get(JSON_ENCODING_KEY) === "json";
  switch (type.typeId) {
    case arrow.Type.Utf8: {
      const offsets = data.valueOffsets as Int32Array;
      const bytes = data.values as Uint8Array;
      // One decode for the column; ASCII text (same length in bytes and
      // characters) is sliced at the byte offsets.
      const first = offsets[0]!;
      const all = utf8.decode(bytes.subarray(first, offsets[n]!));
      const ascii = all.length === offsets[n]! - first;
      for (let i = 0; i < n; i++) {
        if (valid && !valid(i)) out[i] = null;
        else {
          const s = ascii
            ? all.slice(offsets[i]! - first, offsets[i + 1]! - first)
            : utf8.decode(bytes.subarray(offsets[i]!, offsets[i + 1]!));
          out[i] = isJson ? JSON.parse(s) : s;
        }
      }
      return out;
    }
    case arrow.Type.Binary: {
      const offsets = data.valueOffsets as Int32Array;
      const bytes = data.values as Uint8Array;
      for (let i = 0; i < n; i++) {
        out[i] = valid && !valid(i) ? null : bytes.slice(offsets[i]!, offsets[i + 1]!);
      }
      return out;
    }
    case arrow.Type.Int:
    case arrow.Type.Float: {
      if ((type as arrow.Float).precision === arrow.Precision.HALF) break;
      const values = data.values as ArrayLike<number | bigint>;
      for (let i = 0; i < n; i++) {
        const v = values[i]!;
        out[i] = valid && !valid(i) ? null : typeof v === "bigint" ? Number(v) : v;
      }
      return out;
    }
    case arrow.Type.Bool: {
      const bits = data.values as Uint8Array;
      for (let i = 0; i < n; i++) {
        const bit = offset + i;
        out[i] = valid && !valid(i) ? null : ((bits[bit >> 3]! >> (bit & 7)) & 1) === 1;
      }
      return out;
    }
    case arrow.Type.Timestamp: {
      const fmt = (field.metadata.get(DATETIME_FORMAT_KEY) ?? "auto") as DatetimeFormat;
      const unit = (type as arrow.Timestamp).unit;
      const values = data.values as unknown as ArrayLike<bigint | number>;
      if (values.length < n) break;
      for (let i = 0; i < n; i++) {
        out[i] = valid && !valid(i)
          ? null
          : formatDatetimeMicros(timestampToMicros(values[i]!, unit), fmt);
      }
      return out;
    }
    case arrow.Type.List: {
      const offsets = data.valueOffsets as Int32Array;
      const childField = (type as arrow.List).children[0]!;
      const child = decodeColumn(childField, data.children[0]!);
      for (let i = 0; i < n; i++) {
        out[i] = valid && !valid(i) ? null : child.slice(offsets[i]!, offsets[i + 1]!);
      }
      return out;
    }
    case arrow.Type.Struct: {
      const fields = (type as arrow.Struct).children;
      const cols = fields.map((f, j) => decodeColumn(f, data.children[j]!));
      for (let i = 0; i < n; i++) {
        if (valid && !valid(i)) {
          out[i] = null;
          continue;
        }
        const row: Record<string, unknown> = {};
        for (let j = 0; j < fields.length; j++) {
          const v = cols[j]![i];
          if (v !== null && v !== undefined) row[fields[j]!.name] = v;
        }
        out[i] = row;
      }
      return out;
    }
    case arrow.Type.Decimal: {
      // Foreign files (e.g. DuckDB's DECIMAL): little-endian two's complement words.
      const { scale, bitWidth } = type as arrow.Decimal;
      const words = data.values as Uint32Array;
      const per = bitWidth / 32;
      if (words.length < n * per) break;
      const sign = 1n << BigInt(bitWidth - 1);
      for (let i = 0; i < n; i++) {
        if (valid && !valid(i)) {
          out[i] = null;
          continue;
        }
        let v = 0n;
        for (let k = per - 1; k >= 0; k--) v = (v << 32n) | BigInt(words[i * per + k]!);
        if (v & sign) v -= sign << 1n;
        out[i] = Number(`${v}e${-scale}`);
      }
      return out;
    }
    case arrow.Type.Date: {
      // Foreign files: a calendar date as its ISO text.
      const vector = arrow.makeVector(data);
      for (let i = 0; i < n; i++) {
        const ms = vector.get(i) as number | Date | null;
        out[i] = ms === null
          ? null
          : new Date(typeof ms === "number" ? ms : ms.getTime()).toISOString().slice(0, 10);
      }
      return out;
    }
    case arrow.Type.Null:
      return out.fill(null);
  }
  const vector = arrow.makeVector(data);
  for (let i = 0; i < n; i++) out[i] = toJsonValue(vector.get(i));
  return out;
}

/** Puts the overflow of a value back into it. */
function mergeOverflow(target: unknown, overflow: unknown): unknown {
  if (isPlainObject(target) && isPlainObject(overflow)) {
    for (const key in overflow) target[key] = mergeOverflow(target[key], overflow[key]);
    return target;
  }
  return overflow;
}

/**
 * Why a geometry column cannot be read as geometries, or undefined when it
 * can: WKB (binary), GeoJSON as a struct (as DuckDB reads it from JSON) or
 * as JSON text.
 *
 * @example
 * ```ts
 * import * as arrow from "apache-arrow";
 * import { geometryColumnProblem } from "./items_decoder.ts";
 * import { equal } from "node:assert/strict";
 * equal(geometryColumnProblem(new arrow.Field("geometry", new arrow.Binary())), undefined);
 * equal(geometryColumnProblem(new arrow.Field("geometry", new arrow.Float64())), 'the "geometry" column (Float64) is neither WKB nor GeoJSON');
 * ```
 *
 * @param field The `geometry` field.
 * @returns The problem, or undefined.
 */
export function geometryColumnProblem(field: arrow.Field): string | undefined {
  const t = field.type;
  if (arrow.DataType.isBinary(t)) return undefined;
  if (arrow.DataType.isUtf8(t) || arrow.DataType.isLargeUtf8(t)) return undefined;
  if (arrow.DataType.isStruct(t) && t.children.some((c) => c.name === "type")) return undefined;
  return `the "geometry" column (${t}) is neither WKB nor GeoJSON`;
}

/**
 * Why an Arrow schema is not one of STAC Items, or undefined when it is: it
 * needs an `id` column, and a `geometry` column (if any) of WKB or GeoJSON.
 *
 * @example
 * ```ts
 * import * as arrow from "apache-arrow";
 * import { itemsSchemaProblem } from "./items_decoder.ts";
 * import { equal } from "node:assert/strict";
 * equal(itemsSchemaProblem(arrow.tableFromArrays({ x: [1] }).schema), 'it has no "id" column');
 * ```
 *
 * @param schema The schema.
 * @returns The problem, or undefined.
 */
export function itemsSchemaProblem(schema: arrow.Schema): string | undefined {
  if (!schema.fields.some((f) => f.name === "id")) return 'it has no "id" column';
  const geometry = schema.fields.find((f) => f.name === "geometry");
  return geometry && geometryColumnProblem(geometry);
}

/** Coordinates with JSON text in them (DuckDB's `JSON[][]` of mixed geometries) as numbers. */
function parsedCoordinates(v: unknown): unknown {
  if (typeof v === "string") return JSON.parse(v);
  return Array.isArray(v) ? v.map(parsedCoordinates) : v;
}

/** A decoded geometry value that is not WKB: a GeoJSON object, or JSON text of one. */
function geoJsonOf(v: unknown): GeoJSON | null {
  if (v === null || v === undefined) return null;
  const g = typeof v === "string" ? JSON.parse(v) : v;
  if (isPlainObject(g) && typeof g.type === "string" && GEOMETRY_TYPES.includes(g.type)) {
    if (g.coordinates !== undefined) g.coordinates = parsedCoordinates(g.coordinates);
    if (Array.isArray(g.geometries)) g.geometries = g.geometries.map(geoJsonOf);
    if (Array.isArray(g.coordinates) || Array.isArray(g.geometries)) return g as GeoJSON;
  }
  throw new RangeError(
    `A geometry is neither WKB nor GeoJSON: ${JSON.stringify(v).slice(0, 80)}`,
  );
}

/** A bbox column value (struct or list) as a bbox array. */
function bboxArray(v: unknown): number[] | undefined {
  if (v === null || v === undefined) return undefined;
  if (Array.isArray(v)) return v as number[];
  const b = v as Record<string, number>;
  return b.zmin !== undefined && b.zmax !== undefined
    ? [b.xmin!, b.ymin!, b.zmin, b.xmax!, b.ymax!, b.zmax]
    : [b.xmin!, b.ymin!, b.xmax!, b.ymax!];
}

/**
 * Decodes a record batch (written by `ItemsEncoder` or by another
 * stac-geoparquet writer) back into items. Null values become absent keys.
 *
 * @param batch The record batch.
 * @returns The items, one per row.
 * @throws {RangeError} When a geometry is not valid WKB.
 */
export function decodeItemsBatch(batch: arrow.RecordBatch): StacItem[] {
  const n = batch.numRows;
  const items: StacItem[] = new Array(n);
  for (let i = 0; i < n; i++) {
    items[i] = {
      type: "Feature",
      stac_version: undefined as unknown as string,
      id: undefined as unknown as string,
      geometry: null,
      properties: {},
      links: undefined as unknown as unknown[],
      assets: undefined as unknown as StacItem["assets"],
    };
  }
  let overflow: unknown[] | undefined;
  const nestedProperties = hasNestedProperties(batch.schema);
  batch.schema.fields.forEach((field, j) => {
    const data = batch.data.children[j]!;
    const name = field.name;
    if (name === "type") return;
    if (name === OVERFLOW_COLUMN) {
      overflow = decodeColumn(field, data).map((v) => typeof v === "string" ? JSON.parse(v) : v);
      return;
    }
    if (name === "geometry") {
      const problem = geometryColumnProblem(field);
      if (problem) throw new RangeError(`Cannot read geometries: ${problem}`);
      const values = decodeColumn(field, data);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        items[i]!.geometry = v instanceof Uint8Array ? wkbToGeometry(v) : geoJsonOf(v);
      }
      return;
    }
    const values = decodeColumn(field, data);
    if (name === "properties" && nestedProperties) {
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (isPlainObject(v)) Object.assign(items[i]!.properties, v);
      }
      return;
    }
    if (name === "bbox") {
      for (let i = 0; i < n; i++) {
        const b = bboxArray(values[i]);
        if (b) items[i]!.bbox = b;
      }
      return;
    }
    const core = CORE_COLUMNS.includes(name);
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v === null || v === undefined) continue;
      if (core) items[i]![name] = v;
      else items[i]!.properties[name] = v;
    }
  });
  for (let i = 0; i < n; i++) {
    const item = items[i]! as Record<string, unknown>;
    const rowOverflow = overflow?.[i];
    if (isPlainObject(rowOverflow)) {
      for (const key in rowOverflow) {
        if (key === "properties" && rowOverflow.properties === undefined) delete item.properties;
        else item[key] = mergeOverflow(item[key], rowOverflow[key]);
      }
    }
    for (const key of ["stac_version", "id", "links", "assets"]) {
      if (item[key] === undefined) delete item[key];
    }
  }
  return items;
}
