/**
 * STAC Items to and from Arrow record batches in the stac-geoparquet column
 * layout: `stac_version`, `stac_extensions`, `id`, `geometry` (WKB,
 * `geoarrow.wkb`), `bbox` (struct), `links`, `assets` (struct of structs),
 * `collection`, one column per property, datetimes as UTC microsecond
 * timestamps, and one `ferry:overflow` column.
 *
 * The schema of a stream is inferred from its first batch. A value of a
 * later batch that does not fit that schema (a new property, a new asset
 * key, a number where the schema has a string) is stored as JSON in the
 * `ferry:overflow` column of its row, at the same path as in the item, and
 * merged back on read. A column whose values disagree within the first batch
 * is a JSON-text column (field metadata `ferry:encoding = json`). Timestamps
 * carry their text form in field metadata `ferry:datetime_format` so that
 * reading gives back the exact strings.
 *
 * @module
 */
import * as arrow from "apache-arrow";
import type { GeoJSON, StacItem } from "./item.ts";
import { geometryToWkb, wkbToGeometry } from "./wkb.ts";

/** The column holding, per row, the JSON of what did not fit the schema. */
export const OVERFLOW_COLUMN = "ferry:overflow";
/** Field metadata key marking a JSON-text column. */
export const JSON_ENCODING_KEY = "ferry:encoding";
/** Field metadata key naming the text form of a timestamp column. */
export const DATETIME_FORMAT_KEY = "ferry:datetime_format";
/** Schema metadata key of the stac-geoparquet metadata. */
export const STAC_GEOPARQUET_KEY = "stac-geoparquet";
/** The stac-geoparquet metadata version written. */
export const STAC_GEOPARQUET_VERSION = "1.0.0";

/** The item-level columns, in order; every other column is a property. */
export const CORE_COLUMNS: readonly string[] = [
  "stac_version",
  "stac_extensions",
  "id",
  "geometry",
  "bbox",
  "links",
  "assets",
  "collection",
];
const RESERVED = new Set([...CORE_COLUMNS, "type", OVERFLOW_COLUMN]);
const DATETIME_PROPERTIES = new Set([
  "datetime",
  "start_datetime",
  "end_datetime",
  "created",
  "updated",
  "expires",
  "published",
  "unpublished",
]);

// ---------------------------------------------------------------- inference

type Shape =
  | { k: "null" | "bool" | "int" | "num" | "str" | "json" }
  | { k: "list"; e: Shape }
  | { k: "struct"; f: Map<string, Shape> };

const S_NULL: Shape = { k: "null" };
const S_BOOL: Shape = { k: "bool" };
const S_INT: Shape = { k: "int" };
const S_NUM: Shape = { k: "num" };
const S_STR: Shape = { k: "str" };
const S_JSON: Shape = { k: "json" };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function observe(s: Shape, v: unknown): Shape {
  if (v === null || v === undefined || s.k === "json") return s;
  switch (typeof v) {
    case "boolean":
      return s.k === "null" || s.k === "bool" ? S_BOOL : S_JSON;
    case "number":
      if (Number.isSafeInteger(v)) {
        return s.k === "null" ? S_INT : s.k === "int" || s.k === "num" ? s : S_JSON;
      }
      return s.k === "null" || s.k === "int" || s.k === "num" ? S_NUM : S_JSON;
    case "string":
      return s.k === "null" || s.k === "str" ? S_STR : S_JSON;
    case "object": {
      if (Array.isArray(v)) {
        const list: Shape = s.k === "null" ? { k: "list", e: S_NULL } : s;
        if (list.k !== "list") return S_JSON;
        for (const x of v) list.e = observe(list.e, x);
        return list;
      }
      const struct: Shape = s.k === "null" ? { k: "struct", f: new Map() } : s;
      if (struct.k !== "struct") return S_JSON;
      for (const key in v as Record<string, unknown>) {
        struct.f.set(
          key,
          observe(struct.f.get(key) ?? S_NULL, (v as Record<string, unknown>)[key]),
        );
      }
      return struct;
    }
    default:
      return S_JSON;
  }
}

// -------------------------------------------------------------------- plans

type Plan =
  | { k: "bool" | "int" | "num" | "str" | "json"; conv: boolean }
  | { k: "ts"; fmt: DatetimeFormat; conv: true }
  | { k: "list"; e: Plan; conv: boolean }
  | { k: "struct"; f: [string, Plan][]; names: Set<string>; conv: boolean };

/** How a timestamp column is written back as text. */
export type DatetimeFormat = "auto" | "ms" | "us";

function planOf(s: Shape): Plan {
  switch (s.k) {
    case "null":
    case "str":
      return { k: "str", conv: false };
    case "bool":
      return { k: "bool", conv: false };
    case "int":
      return { k: "int", conv: true };
    case "num":
      return { k: "num", conv: false };
    case "json":
      return { k: "json", conv: true };
    case "list": {
      const e = planOf(s.e);
      return { k: "list", e, conv: e.conv };
    }
    case "struct": {
      if (s.f.size === 0) return { k: "json", conv: true };
      const f: [string, Plan][] = [...s.f].map(([n, c]) => [n, planOf(c)]);
      return { k: "struct", f, names: new Set(s.f.keys()), conv: f.some(([, p]) => p.conv) };
    }
  }
}

function typeOf(p: Plan): arrow.DataType {
  switch (p.k) {
    case "bool":
      return new arrow.Bool();
    case "int":
      return new arrow.Int64();
    case "num":
      return new arrow.Float64();
    case "str":
    case "json":
      return new arrow.Utf8();
    case "ts":
      return new arrow.TimestampMicrosecond("UTC");
    case "list":
      return new arrow.List(fieldOf("element", p.e));
    case "struct":
      return new arrow.Struct(p.f.map(([n, c]) => fieldOf(n, c)));
  }
}

function fieldOf(name: string, p: Plan): arrow.Field {
  const meta = new Map<string, string>();
  if (p.k === "json") meta.set(JSON_ENCODING_KEY, "json");
  if (p.k === "ts") meta.set(DATETIME_FORMAT_KEY, p.fmt);
  return new arrow.Field(name, typeOf(p), true, meta);
}

/** Rebuilds a plan from a field written by this module. */
function planOfField(field: arrow.Field): Plan | undefined {
  if (field.metadata.get(JSON_ENCODING_KEY) === "json") return { k: "json", conv: true };
  const t = field.type;
  switch (t.typeId) {
    case arrow.Type.Bool:
      return { k: "bool", conv: false };
    case arrow.Type.Int:
      return (t as arrow.Int).bitWidth === 64 && (t as arrow.Int).isSigned
        ? { k: "int", conv: true }
        : undefined;
    case arrow.Type.Float:
      return (t as arrow.Float).precision === arrow.Precision.DOUBLE
        ? { k: "num", conv: false }
        : undefined;
    case arrow.Type.Utf8:
      return { k: "str", conv: false };
    case arrow.Type.Timestamp: {
      const fmt = field.metadata.get(DATETIME_FORMAT_KEY) ?? "auto";
      return (t as arrow.Timestamp).unit === arrow.TimeUnit.MICROSECOND
        ? { k: "ts", fmt: fmt as DatetimeFormat, conv: true }
        : undefined;
    }
    case arrow.Type.List: {
      const e = planOfField((t as arrow.List).children[0]!);
      return e ? { k: "list", e, conv: e.conv } : undefined;
    }
    case arrow.Type.Struct: {
      const f: [string, Plan][] = [];
      for (const child of (t as arrow.Struct).children) {
        const p = planOfField(child);
        if (!p) return undefined;
        f.push([child.name, p]);
      }
      return { k: "struct", f, names: new Set(f.map(([n]) => n)), conv: f.some(([, p]) => p.conv) };
    }
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------- datetimes

const RFC3339_Z = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;

/**
 * Parses an RFC 3339 UTC datetime (`...Z`) into microseconds since the epoch.
 *
 * @param text The text.
 * @returns Microseconds, or undefined when it is not such a datetime or has
 *   sub-microsecond digits.
 */
export function parseDatetimeMicros(text: string): number | undefined {
  const m = RFC3339_Z.exec(text);
  if (!m) return undefined;
  const frac = (m[7] ?? "").padEnd(9, "0");
  if (frac.slice(6) !== "000") return undefined;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  if (Number.isNaN(ms)) return undefined;
  const us = ms * 1000 + Number(frac.slice(0, 6));
  return Number.isSafeInteger(us) ? us : undefined;
}

/**
 * Formats microseconds since the epoch as RFC 3339 UTC text.
 *
 * @example
 * ```ts
 * import { formatDatetimeMicros } from "./arrow_items.ts";
 * import { equal } from "node:assert/strict";
 * equal(formatDatetimeMicros(1_500_000, "auto"), "1970-01-01T00:00:01.500000Z");
 * equal(formatDatetimeMicros(1_000_000, "auto"), "1970-01-01T00:00:01Z");
 * equal(formatDatetimeMicros(1_500_000, "ms"), "1970-01-01T00:00:01.500Z");
 * ```
 *
 * @param us Microseconds.
 * @param fmt `auto`: no fraction on whole seconds, else 6 digits (as pystac);
 *   `ms`: always 3 digits; `us`: always 6 digits.
 * @returns The text.
 */
export function formatDatetimeMicros(us: number, fmt: DatetimeFormat): string {
  const ms = Math.floor(us / 1000);
  const sub = us - ms * 1000;
  const iso = new Date(ms).toISOString();
  if (fmt === "ms" && sub === 0) return iso;
  if (fmt === "auto" && us % 1_000_000 === 0) return iso.slice(0, 19) + "Z";
  return iso.slice(0, 23) + String(sub).padStart(3, "0") + "Z";
}

function datetimeFits(v: string, fmt: DatetimeFormat): number | undefined {
  const us = parseDatetimeMicros(v);
  return us !== undefined && formatDatetimeMicros(us, fmt) === v ? us : undefined;
}

function chooseDatetimeFormat(values: unknown[]): DatetimeFormat | undefined {
  for (const fmt of ["auto", "ms", "us"] as const) {
    if (
      values.every((v) =>
        v === null || v === undefined ||
        (typeof v === "string" && datetimeFits(v, fmt) !== undefined)
      )
    ) {
      return fmt;
    }
  }
  return undefined;
}

// ------------------------------------------------------------------ fitting

function fits(v: unknown, p: Plan): boolean {
  if (v === null || v === undefined) return true;
  switch (p.k) {
    case "bool":
      return typeof v === "boolean";
    case "int":
      return Number.isSafeInteger(v);
    case "num":
      return typeof v === "number";
    case "str":
      return typeof v === "string";
    case "json":
      return true;
    case "ts":
      return typeof v === "string" && datetimeFits(v, p.fmt) !== undefined;
    case "list":
      if (!Array.isArray(v)) return false;
      for (const x of v) if (!fits(x, p.e)) return false;
      return true;
    case "struct": {
      if (!isPlainObject(v)) return false;
      for (const key in v) if (!p.names.has(key)) return false;
      for (const [name, c] of p.f) if (!fits(v[name], c)) return false;
      return true;
    }
  }
}

/** Converts a fitting value to what the Arrow builder takes. */
function conv(v: unknown, p: Plan): unknown {
  if (v === null || v === undefined || !p.conv) return v;
  switch (p.k) {
    case "int":
      return BigInt(v as number);
    case "json":
      return JSON.stringify(v);
    case "list":
      return (v as unknown[]).map((x) => conv(x, p.e));
    case "struct": {
      const out: Record<string, unknown> = {};
      const o = v as Record<string, unknown>;
      for (const [name, c] of p.f) out[name] = conv(o[name], c);
      return out;
    }
    default:
      return v;
  }
}

/** Splits a value into the part that fits and the rest (undefined when none). */
function split(v: unknown, p: Plan): { value: unknown; rest?: unknown } {
  if (fits(v, p)) return { value: v };
  if (p.k !== "struct" || !isPlainObject(v)) return { value: null, rest: v };
  const value: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  let any = false;
  for (const key in v) {
    if (!p.names.has(key)) {
      rest[key] = v[key];
      any = true;
    }
  }
  for (const [name, c] of p.f) {
    const part = split(v[name], c);
    value[name] = part.value;
    if (part.rest !== undefined) {
      rest[name] = part.rest;
      any = true;
    }
  }
  return any ? { value, rest } : { value };
}

// ----------------------------------------------------------------- encoding

type Column =
  | { name: string; kind: "core" | "property"; plan: Plan; field: arrow.Field }
  | { name: "geometry"; kind: "geometry"; field: arrow.Field }
  | { name: "bbox"; kind: "bbox"; z: boolean; field: arrow.Field }
  | { name: typeof OVERFLOW_COLUMN; kind: "overflow"; field: arrow.Field };

const GEOMETRY_FIELD = new arrow.Field(
  "geometry",
  new arrow.Binary(),
  true,
  new Map([["ARROW:extension:name", "geoarrow.wkb"]]),
);

function bboxField(z: boolean): arrow.Field {
  const names = z
    ? ["xmin", "ymin", "zmin", "xmax", "ymax", "zmax"]
    : ["xmin", "ymin", "xmax", "ymax"];
  return new arrow.Field(
    "bbox",
    new arrow.Struct(names.map((n) => new arrow.Field(n, new arrow.Float64(), true))),
    true,
  );
}

function coreValue(item: StacItem, name: string): unknown {
  return item[name];
}

const GEOMETRY_KEYS = new Set(["type", "coordinates", "geometries"]);

function geometryExtras(g: GeoJSON): Record<string, unknown> | undefined | "all" {
  let extras: Record<string, unknown> | undefined;
  for (const key in g) {
    if (!GEOMETRY_KEYS.has(key)) (extras ??= {})[key] = g[key];
  }
  if (g.type === "GeometryCollection") {
    for (const child of g.geometries) if (geometryExtras(child) !== undefined) return "all";
  }
  return extras;
}

/** Options of {@linkcode ItemsEncoder}. */
export interface ItemsEncoderOptions {
  /** Extra entries for the `stac-geoparquet` schema metadata. @default {} */
  metadata?: Record<string, unknown>;
}

/**
 * Turns batches of items into Arrow record batches of one schema, inferred
 * from the first batch.
 *
 * @example Encoding and decoding one batch
 * ```ts
 * import { decodeItemsBatch, ItemsEncoder } from "./arrow_items.ts";
 * import { deepEqual } from "node:assert/strict";
 * const item = {
 *   type: "Feature" as const, stac_version: "1.0.0", id: "a",
 *   geometry: { type: "Point" as const, coordinates: [1, 2] }, bbox: [1, 2, 1, 2],
 *   properties: { datetime: "2020-01-01T00:00:00Z", n: 1 }, links: [],
 *   assets: { data: { href: "s3://b/k.tif" } },
 * };
 * const encoder = ItemsEncoder.infer([item]);
 * deepEqual(decodeItemsBatch(encoder.encode([item])), [item]);
 * ```
 */
export class ItemsEncoder {
  /** The Arrow schema of every batch. */
  readonly schema: arrow.Schema;
  readonly #columns: Column[];
  readonly #propertyNames: Set<string>;

  private constructor(columns: Column[], metadata: Record<string, unknown>) {
    this.#columns = columns;
    this.#propertyNames = new Set(columns.filter((c) => c.kind === "property").map((c) => c.name));
    const meta = new Map<string, string>([[
      STAC_GEOPARQUET_KEY,
      JSON.stringify({
        version: STAC_GEOPARQUET_VERSION,
        ...metadata,
        ferry: {
          overflow_column: OVERFLOW_COLUMN,
          overflow:
            "JSON object per row with the parts of the item that did not fit the schema, at their item paths",
          json_columns: `fields with metadata ${JSON_ENCODING_KEY}=json hold JSON text`,
          datetimes:
            `timestamp fields carry ${DATETIME_FORMAT_KEY} (auto|ms|us) to restore the exact text`,
          absent_vs_null: "null values are read back as absent keys",
        },
      }),
    ]]);
    this.schema = new arrow.Schema(columns.map((c) => c.field), meta);
  }

  /**
   * Infers the schema from a batch of items.
   *
   * @param items The first batch (may be empty: then only the core columns).
   * @param options Extra metadata.
   * @returns The encoder.
   */
  static infer(items: readonly StacItem[], options: ItemsEncoderOptions = {}): ItemsEncoder {
    const columns: Column[] = [];
    let z = false;
    for (const item of items) if (Array.isArray(item.bbox) && item.bbox.length === 6) z = true;
    for (const name of CORE_COLUMNS) {
      if (name === "geometry") columns.push({ name, kind: "geometry", field: GEOMETRY_FIELD });
      else if (name === "bbox") columns.push({ name, kind: "bbox", z, field: bboxField(z) });
      else {
        let shape: Shape = name === "stac_extensions" ? { k: "list", e: S_STR } : S_NULL;
        if (name === "id" || name === "stac_version" || name === "collection") shape = S_STR;
        else for (const item of items) shape = observe(shape, coreValue(item, name));
        const plan = planOf(shape);
        columns.push({ name, kind: "core", plan, field: fieldOf(name, plan) });
      }
    }
    const shapes = new Map<string, Shape>();
    for (const item of items) {
      const props = item.properties;
      for (const key in props) {
        if (RESERVED.has(key)) continue;
        shapes.set(key, observe(shapes.get(key) ?? S_NULL, props[key]));
      }
    }
    for (const [name, shape] of shapes) {
      let plan = planOf(shape);
      if (DATETIME_PROPERTIES.has(name) && plan.k === "str") {
        const fmt = chooseDatetimeFormat(items.map((i) => i.properties[name]));
        if (fmt) plan = { k: "ts", fmt, conv: true };
      }
      columns.push({ name, kind: "property", plan, field: fieldOf(name, plan) });
    }
    columns.push({
      name: OVERFLOW_COLUMN,
      kind: "overflow",
      field: new arrow.Field(OVERFLOW_COLUMN, new arrow.Utf8(), true),
    });
    return new ItemsEncoder(columns, options.metadata ?? {});
  }

  /**
   * An encoder for a schema this module wrote (e.g. read from an IPC
   * stream), or undefined when the schema is not one.
   *
   * @param schema The schema.
   * @returns The encoder or undefined.
   */
  static fromSchema(schema: arrow.Schema): ItemsEncoder | undefined {
    if (!isFerrySchema(schema)) return undefined;
    const columns: Column[] = [];
    for (const field of schema.fields) {
      if (field.name === "geometry") columns.push({ name: "geometry", kind: "geometry", field });
      else if (field.name === "bbox") {
        columns.push({
          name: "bbox",
          kind: "bbox",
          z: (field.type as arrow.Struct).children.length === 6,
          field,
        });
      } else if (field.name === OVERFLOW_COLUMN) {
        columns.push({ name: OVERFLOW_COLUMN, kind: "overflow", field });
      } else {
        const plan = planOfField(field);
        if (!plan) return undefined;
        columns.push({
          name: field.name,
          kind: CORE_COLUMNS.includes(field.name) ? "core" : "property",
          plan,
          field,
        });
      }
    }
    const meta = JSON.parse(schema.metadata.get(STAC_GEOPARQUET_KEY)!);
    delete meta.ferry;
    delete meta.version;
    return new ItemsEncoder(columns, meta);
  }

  /**
   * Encodes a batch of items.
   *
   * @param items The items.
   * @returns One record batch of {@linkcode ItemsEncoder.schema}.
   */
  encode(items: readonly StacItem[]): arrow.RecordBatch {
    const n = items.length;
    const rests: (Record<string, unknown> | undefined)[] = new Array(n);
    const restOf = (i: number) => (rests[i] ??= {});
    const propRest = (i: number) => ((restOf(i).properties ??= {}) as Record<string, unknown>);
    const children: arrow.Data[] = [];
    for (let i = 0; i < n; i++) {
      const item = items[i]!;
      for (const key in item) {
        if (key !== "type" && key !== "properties" && !CORE_COLUMNS.includes(key)) {
          restOf(i)[key] = item[key];
        }
      }
      if (item.properties === undefined) restOf(i).properties = undefined;
      for (const key in item.properties) {
        if (!this.#propertyNames.has(key)) propRest(i)[key] = item.properties[key];
      }
    }
    for (const column of this.#columns) {
      switch (column.kind) {
        case "overflow": {
          const b = arrow.makeBuilder({ type: new arrow.Utf8(), nullValues: [null, undefined] });
          for (let i = 0; i < n; i++) {
            const r = rests[i];
            b.append(r === undefined ? null : JSON.stringify(r));
          }
          children.push(finish(b));
          break;
        }
        case "geometry": {
          const b = arrow.makeBuilder({ type: new arrow.Binary(), nullValues: [null, undefined] });
          for (let i = 0; i < n; i++) {
            const g = items[i]!.geometry;
            if (g === null || g === undefined) {
              b.append(null);
              continue;
            }
            const extras = geometryExtras(g);
            const wkb = extras === "all" ? undefined : geometryToWkb(g);
            if (wkb === undefined) restOf(i).geometry = g;
            else if (extras !== undefined && extras !== "all") restOf(i).geometry = extras;
            b.append(wkb ?? null);
          }
          children.push(finish(b));
          break;
        }
        case "bbox": {
          const b = arrow.makeBuilder({ type: column.field.type, nullValues: [null, undefined] });
          for (let i = 0; i < n; i++) {
            const v = items[i]!.bbox;
            const ok = Array.isArray(v) && v.every((x) => typeof x === "number") &&
              (v.length === 4 || (v.length === 6 && column.z));
            if (v !== undefined && v !== null && !ok) restOf(i).bbox = v;
            if (!ok) b.append(null);
            else if (v.length === 4) b.append({ xmin: v[0], ymin: v[1], xmax: v[2], ymax: v[3] });
            else {
              b.append({ xmin: v[0], ymin: v[1], zmin: v[2], xmax: v[3], ymax: v[4], zmax: v[5] });
            }
          }
          children.push(finish(b));
          break;
        }
        default: {
          const { plan, name } = column;
          const isProp = column.kind === "property";
          const get = (i: number) =>
            isProp ? items[i]!.properties?.[name] : coreValue(items[i]!, name);
          if (plan.k === "ts") {
            children.push(encodeTimestamps(n, get, plan.fmt, (i, v) => (propRest(i)[name] = v)));
            break;
          }
          const values: unknown[] = new Array(n);
          for (let i = 0; i < n; i++) {
            const v = get(i);
            if (v === undefined || v === null) values[i] = null;
            else if (fits(v, plan)) values[i] = v;
            else {
              const part = split(v, plan);
              if (isProp) propRest(i)[name] = part.rest;
              else restOf(i)[name] = part.rest;
              values[i] = part.value;
            }
          }
          children.push(buildData(plan, column.field.type, values));
        }
      }
    }
    const data = arrow.makeData({
      type: new arrow.Struct(this.schema.fields),
      length: n,
      nullCount: 0,
      children,
    });
    return new arrow.RecordBatch(this.schema, data);
  }
}

const textEncoder = new TextEncoder();

function validity(values: readonly unknown[]): { bitmap: Uint8Array; nullCount: number } {
  const bitmap = new Uint8Array((values.length + 7) >> 3);
  let nullCount = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) nullCount++;
    else bitmap[i >> 3]! |= 1 << (i & 7);
  }
  return { bitmap, nullCount };
}

/** Builds Arrow data for fitting (unconverted) values of a plan, without arrow's builders. */
function buildData(plan: Plan, type: arrow.DataType, values: readonly unknown[]): arrow.Data {
  const n = values.length;
  const { bitmap, nullCount } = validity(values);
  const base = { type, length: n, nullCount, nullBitmap: nullCount > 0 ? bitmap : undefined };
  switch (plan.k) {
    case "str":
    case "json": {
      const offsets = new Int32Array(n + 1);
      let bytes = new Uint8Array(Math.max(64, n * 16));
      let o = 0;
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v !== null && v !== undefined) {
          const text = plan.k === "json" ? JSON.stringify(v) : v as string;
          const max = text.length * 3;
          if (o + max > bytes.length) {
            const grown = new Uint8Array(Math.max(bytes.length * 2, o + max));
            grown.set(bytes.subarray(0, o));
            bytes = grown;
          }
          o += textEncoder.encodeInto(text, bytes.subarray(o)).written;
        }
        offsets[i + 1] = o;
      }
      return arrow.makeData({
        ...base,
        type: type as arrow.Utf8,
        valueOffsets: offsets,
        data: bytes.subarray(0, o),
      });
    }
    case "num": {
      const data = new Float64Array(n);
      for (let i = 0; i < n; i++) data[i] = (values[i] as number) ?? 0;
      return arrow.makeData({ ...base, type: type as arrow.Float64, data });
    }
    case "int": {
      const data = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v !== null && v !== undefined) data[i] = BigInt(v as number);
      }
      return arrow.makeData({ ...base, type: type as arrow.Int64, data });
    }
    case "bool": {
      const data = new Uint8Array((n + 7) >> 3);
      for (let i = 0; i < n; i++) if (values[i] === true) data[i >> 3]! |= 1 << (i & 7);
      return arrow.makeData({ ...base, type: type as arrow.Bool, data });
    }
    case "ts":
      return encodeTimestamps(n, (i) => values[i], plan.fmt, () => {});
    case "list": {
      const offsets = new Int32Array(n + 1);
      const flat: unknown[] = [];
      for (let i = 0; i < n; i++) {
        const v = values[i] as unknown[] | null | undefined;
        if (v) { for (const x of v) flat.push(x); }
        offsets[i + 1] = flat.length;
      }
      const childType = (type as arrow.List).children[0]!.type;
      return arrow.makeData({
        ...base,
        type: type as arrow.List,
        valueOffsets: offsets,
        child: buildData(plan.e, childType, flat),
      });
    }
    case "struct": {
      const fields = (type as arrow.Struct).children;
      const children = plan.f.map(([name, p], j) => {
        const col: unknown[] = new Array(n);
        for (let i = 0; i < n; i++) {
          const v = values[i] as Record<string, unknown> | null | undefined;
          col[i] = v ? v[name] : null;
        }
        return buildData(p, fields[j]!.type, col);
      });
      return arrow.makeData({ ...base, type: type as arrow.Struct, children });
    }
  }
}

function finish(b: arrow.Builder): arrow.Data {
  const vector = b.finish().toVector();
  if (vector.data.length === 1) return vector.data[0]!;
  return arrow.makeVector(vector.data).data[0]!;
}

function encodeTimestamps(
  n: number,
  get: (i: number) => unknown,
  fmt: DatetimeFormat,
  overflow: (i: number, v: unknown) => void,
): arrow.Data {
  const values = new BigInt64Array(n);
  const bitmap = new Uint8Array(Math.ceil(n / 8));
  let nullCount = 0;
  for (let i = 0; i < n; i++) {
    const v = get(i);
    const us = typeof v === "string" ? datetimeFits(v, fmt) : undefined;
    if (us === undefined) {
      nullCount++;
      if (v !== null && v !== undefined) overflow(i, v);
      continue;
    }
    values[i] = BigInt(us);
    bitmap[i >> 3]! |= 1 << (i & 7);
  }
  return arrow.makeData({
    type: new arrow.TimestampMicrosecond("UTC"),
    length: n,
    nullCount,
    nullBitmap: bitmap,
    data: values,
  });
}

/**
 * Whether a schema was written by {@linkcode ItemsEncoder}.
 *
 * @param schema The schema.
 * @returns True when it has the overflow column and the metadata.
 */
export function isFerrySchema(schema: arrow.Schema): boolean {
  const meta = schema.metadata.get(STAC_GEOPARQUET_KEY);
  return meta !== undefined && meta.includes('"ferry"') &&
    schema.fields.some((f) => f.name === OVERFLOW_COLUMN);
}

// ----------------------------------------------------------------- decoding

const utf8 = new TextDecoder();

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

/** Decodes one column's data into JSON values (null where missing). */
function decodeData(field: arrow.Field, data: arrow.Data): unknown[] {
  const n = data.length;
  const out: unknown[] = new Array(n);
  const valid = data.nullCount === 0 ? undefined : (i: number) => data.getValid(i);
  const type = data.type as arrow.DataType;
  if (data.offset !== 0) {
    const vector = arrow.makeVector(data);
    for (let i = 0; i < n; i++) out[i] = toJsonValue(vector.get(i));
    return out;
  }
  const isJson = field.metadata.get(JSON_ENCODING_KEY) === "json";
  switch (type.typeId) {
    case arrow.Type.Utf8: {
      const offsets = data.valueOffsets as Int32Array;
      const bytes = data.values as Uint8Array;
      for (let i = 0; i < n; i++) {
        if (valid && !valid(i)) out[i] = null;
        else {
          const s = utf8.decode(bytes.subarray(offsets[i]!, offsets[i + 1]!));
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
        out[i] = valid && !valid(i) ? null : ((bits[i >> 3]! >> (i & 7)) & 1) === 1;
      }
      return out;
    }
    case arrow.Type.Timestamp: {
      const fmt = (field.metadata.get(DATETIME_FORMAT_KEY) ?? "auto") as DatetimeFormat;
      const unit = (type as arrow.Timestamp).unit;
      const values = data.values as unknown as ArrayLike<bigint | number>;
      if (values.length !== n) break;
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
      const child = decodeData(childField, data.children[0]!);
      for (let i = 0; i < n; i++) {
        out[i] = valid && !valid(i) ? null : child.slice(offsets[i]!, offsets[i + 1]!);
      }
      return out;
    }
    case arrow.Type.Struct: {
      const fields = (type as arrow.Struct).children;
      const cols = fields.map((f, j) => decodeData(f, data.children[j]!));
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
    case arrow.Type.Null:
      return out.fill(null);
  }
  const vector = arrow.makeVector(data);
  for (let i = 0; i < n; i++) out[i] = toJsonValue(vector.get(i));
  return out;
}

function mergeRest(target: unknown, rest: unknown): unknown {
  if (isPlainObject(target) && isPlainObject(rest)) {
    for (const key in rest) target[key] = mergeRest(target[key], rest[key]);
    return target;
  }
  return rest;
}

function bboxArray(v: unknown): number[] | undefined {
  if (v === null || v === undefined) return undefined;
  if (Array.isArray(v)) return v as number[];
  const b = v as Record<string, number>;
  return b.zmin !== undefined && b.zmax !== undefined
    ? [b.xmin!, b.ymin!, b.zmin, b.xmax!, b.ymax!, b.zmax]
    : [b.xmin!, b.ymin!, b.xmax!, b.ymax!];
}

const ASSET_LOCK_FIELDS = new Set(["href", "file:size", "store_endpoint_url"]);

/**
 * Decodes only what an asset lock needs of each row: `id`, and of each asset
 * its `href`, `file:size` and `store_endpoint_url` (with what the
 * `ferry:overflow` column holds merged back, as {@linkcode decodeItemsBatch}
 * does). Much cheaper than decoding whole items.
 *
 * @example
 * ```ts
 * import { decodeItemAssets, ItemsEncoder } from "./arrow_items.ts";
 * import { deepEqual } from "node:assert/strict";
 * const item = {
 *   type: "Feature" as const, stac_version: "1.0.0", id: "a", geometry: null, properties: {},
 *   links: [], assets: { data: { href: "s3://b/k.tif", title: "T", "file:size": 3 } },
 * };
 * const [row] = decodeItemAssets(ItemsEncoder.infer([item]).encode([item]));
 * deepEqual(row!.assets, { data: { href: "s3://b/k.tif", "file:size": 3 } });
 * ```
 *
 * @param batch The record batch.
 * @returns Per row, the id and the assets' lock fields.
 */
export function decodeItemAssets(
  batch: arrow.RecordBatch,
): { id: string; assets?: Record<string, unknown> }[] {
  const fields: arrow.Field[] = [];
  const children: arrow.Data[] = [];
  batch.schema.fields.forEach((field, j) => {
    const data = batch.data.children[j]!;
    if (field.name === "id" || field.name === OVERFLOW_COLUMN) {
      fields.push(field);
      children.push(data);
    } else if (field.name === "assets") {
      const projected = projectAssets(field, data);
      fields.push(projected.field);
      children.push(projected.data);
    }
  });
  const schema = new arrow.Schema(fields, batch.schema.metadata);
  const data = arrow.makeData({
    type: new arrow.Struct(fields),
    length: batch.numRows,
    nullCount: 0,
    children,
  });
  return decodeItemsBatch(new arrow.RecordBatch(schema, data)) as unknown as {
    id: string;
    assets?: Record<string, unknown>;
  }[];
}

/** The `assets` column with, of each struct asset, only the lock fields. */
function projectAssets(
  field: arrow.Field,
  data: arrow.Data,
): { field: arrow.Field; data: arrow.Data } {
  if (!arrow.DataType.isStruct(field.type)) return { field, data };
  const assetFields: arrow.Field[] = [];
  const assetData: arrow.Data[] = [];
  (field.type as arrow.Struct).children.forEach((asset, j) => {
    const child = data.children[j]!;
    if (!arrow.DataType.isStruct(asset.type)) {
      assetFields.push(asset);
      assetData.push(child);
      return;
    }
    const keep: arrow.Field[] = [];
    const keepData: arrow.Data[] = [];
    (asset.type as arrow.Struct).children.forEach((f, k) => {
      if (ASSET_LOCK_FIELDS.has(f.name)) {
        keep.push(f);
        keepData.push(child.children[k]!);
      }
    });
    const type = new arrow.Struct(keep);
    assetFields.push(new arrow.Field(asset.name, type, asset.nullable, asset.metadata));
    assetData.push(arrow.makeData({
      type,
      offset: child.offset,
      length: child.length,
      nullCount: child.nullCount,
      nullBitmap: child.nullBitmap,
      children: keepData,
    }));
  });
  const type = new arrow.Struct(assetFields);
  return {
    field: new arrow.Field(field.name, type, field.nullable, field.metadata),
    data: arrow.makeData({
      type,
      offset: data.offset,
      length: data.length,
      nullCount: data.nullCount,
      nullBitmap: data.nullBitmap,
      children: assetData,
    }),
  };
}

/**
 * Decodes a record batch (written by {@linkcode ItemsEncoder} or by another
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
  batch.schema.fields.forEach((field, j) => {
    const data = batch.data.children[j]!;
    const name = field.name;
    if (name === "type") return;
    if (name === OVERFLOW_COLUMN) {
      overflow = decodeData(field, data).map((v) => typeof v === "string" ? JSON.parse(v) : v);
      return;
    }
    if (name === "geometry") {
      const values = decodeData(field, data);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        items[i]!.geometry = v instanceof Uint8Array ? wkbToGeometry(v) : null;
      }
      return;
    }
    const values = decodeData(field, data);
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
    const rest = overflow?.[i];
    if (isPlainObject(rest)) {
      for (const key in rest) {
        if (key === "properties" && rest.properties === undefined) delete item.properties;
        else item[key] = mergeRest(item[key], rest[key]);
      }
    }
    for (const key of ["stac_version", "id", "links", "assets"]) {
      if (item[key] === undefined) delete item[key];
    }
  }
  return items;
}
