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
import { geometryToWkb, lastGeometryWkb, readGeometryJson, wkbToGeometry } from "./wkb.ts";
import {
  type Appender,
  appenderOf,
  ByteValues,
  Checkpoint,
  Numbers,
  type Plan,
  readObject,
  TimestampAppender,
  Validity,
} from "./column_builders.ts";
import { isNull, numberValue, scanNumber, skipWhitespace } from "./json_scan.ts";
import {
  chooseDatetimeFormat,
  datetimeFits,
  type DatetimeFormat,
  formatDatetimeMicros,
  instantMicros,
} from "./datetime.ts";

export { type DatetimeFormat, formatDatetimeMicros, parseDatetimeMicros } from "./datetime.ts";

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
const CORE_SET = new Set(CORE_COLUMNS);
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

/**
 * Lists and structs nested deeper than this are JSON text: the Parquet
 * writer fails on very deep Arrow types ("Dyn casting error" at ~64 levels).
 */
const MAX_NESTING = 32;

function planOf(s: Shape, depth = 0): Plan {
  if (depth >= MAX_NESTING && (s.k === "list" || s.k === "struct")) {
    return { k: "json", conv: true };
  }
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
      const e = planOf(s.e, depth + 1);
      return { k: "list", e, conv: e.conv };
    }
    case "struct": {
      if (s.f.size === 0) return { k: "json", conv: true };
      const f: [string, Plan][] = [...s.f].map(([n, c]) => [n, planOf(c, depth + 1)]);
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

// ------------------------------------------------------------------ fitting

function fits(v: unknown, p: Plan): boolean {
  return fitterOf(p)(v);
}

type Fitter = (v: unknown) => boolean;
const fitters = new WeakMap<Plan, Fitter>();

/** A compiled `fits` for one plan (closures instead of a switch per value). */
function fitterOf(p: Plan): Fitter {
  let fit = fitters.get(p);
  if (fit) return fit;
  switch (p.k) {
    case "bool":
      fit = (v) => v === null || v === undefined || typeof v === "boolean";
      break;
    case "int":
      fit = (v) => v === null || v === undefined || Number.isSafeInteger(v);
      break;
    case "num":
      fit = (v) => v === null || v === undefined || typeof v === "number";
      break;
    case "str":
      fit = (v) => v === null || v === undefined || typeof v === "string";
      break;
    case "json":
      fit = () => true;
      break;
    case "ts": {
      const fmt = p.fmt;
      fit = (v) =>
        v === null || v === undefined ||
        (typeof v === "string" && datetimeFits(v, fmt) !== undefined);
      break;
    }
    case "list": {
      const e = fitterOf(p.e);
      fit = (v) => {
        if (v === null || v === undefined) return true;
        if (!Array.isArray(v)) return false;
        for (let i = 0; i < v.length; i++) if (!e(v[i])) return false;
        return true;
      };
      break;
    }
    case "struct": {
      const names = p.f.map(([name]) => name);
      const children = p.f.map(([, c]) => fitterOf(c));
      const m = names.length;
      const known = p.names;
      fit = (v) => {
        if (v === null || v === undefined) return true;
        if (!isPlainObject(v)) return false;
        let present = 0;
        for (let j = 0; j < m; j++) {
          const x = v[names[j]!];
          if (x !== undefined) {
            present++;
            if (!children[j]!(x)) return false;
          }
        }
        // No key outside the plan: as many keys as plan fields present (the
        // usual case), else look at each key.
        let keys = 0;
        for (const _ in v) keys++;
        if (keys === present) return true;
        for (const key in v) if (!known.has(key)) return false;
        return true;
      };
      break;
    }
  }
  fitters.set(p, fit);
  return fit;
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

/**
 * Schema inference one item at a time ({@linkcode ItemsEncoder.infer} over
 * items that need not all be held at once).
 *
 * @example
 * ```ts
 * import { ItemsSchemaInference } from "./arrow_items.ts";
 * import { equal } from "node:assert/strict";
 * const inference = new ItemsSchemaInference();
 * inference.observe({ type: "Feature", stac_version: "1.0.0", id: "a", geometry: null,
 *   properties: { n: 1 }, links: [], assets: {} });
 * equal(inference.encoder().schema.fields.some((f) => f.name === "n"), true);
 * ```
 */
export class ItemsSchemaInference {
  #z = false;
  readonly #core = new Map<string, Shape>();
  readonly #properties = new Map<string, Shape>();
  readonly #datetimes = new Map<string, unknown[]>();

  constructor() {
    for (const name of CORE_COLUMNS) {
      if (name === "geometry" || name === "bbox") continue;
      const fixed = name === "id" || name === "stac_version" || name === "collection";
      this.#core.set(
        name,
        fixed ? S_STR : name === "stac_extensions" ? { k: "list", e: S_STR } : S_NULL,
      );
    }
  }

  /**
   * Takes one item's shape into account.
   *
   * @param item The item.
   */
  observe(item: StacItem): void {
    if (Array.isArray(item.bbox) && item.bbox.length === 6) this.#z = true;
    for (const [name, shape] of this.#core) {
      if (name === "id" || name === "stac_version" || name === "collection") continue;
      this.#core.set(name, observe(shape, item[name]));
    }
    const props = item.properties;
    for (const key in props) {
      if (RESERVED.has(key)) continue;
      const v = props[key];
      this.#properties.set(key, observe(this.#properties.get(key) ?? S_NULL, v));
      if (DATETIME_PROPERTIES.has(key) && v !== null && v !== undefined) {
        let values = this.#datetimes.get(key);
        if (!values) this.#datetimes.set(key, values = []);
        values.push(v);
      }
    }
  }

  /**
   * The encoder for what was observed.
   *
   * @param options Extra metadata.
   * @returns The encoder.
   */
  encoder(options: ItemsEncoderOptions = {}): ItemsEncoder {
    const columns: Column[] = [];
    const z = this.#z;
    for (const name of CORE_COLUMNS) {
      if (name === "geometry") columns.push({ name, kind: "geometry", field: GEOMETRY_FIELD });
      else if (name === "bbox") columns.push({ name, kind: "bbox", z, field: bboxField(z) });
      else {
        const plan = planOf(this.#core.get(name)!);
        columns.push({ name, kind: "core", plan, field: fieldOf(name, plan) });
      }
    }
    for (const [name, shape] of this.#properties) {
      let plan = planOf(shape);
      if (DATETIME_PROPERTIES.has(name) && plan.k === "str") {
        const fmt = chooseDatetimeFormat(this.#datetimes.get(name) ?? []);
        if (fmt) plan = { k: "ts", fmt, conv: true };
      }
      columns.push({ name, kind: "property", plan, field: fieldOf(name, plan) });
    }
    columns.push({
      name: OVERFLOW_COLUMN,
      kind: "overflow",
      field: new arrow.Field(OVERFLOW_COLUMN, new arrow.Utf8(), true),
    });
    return makeEncoder(columns, options.metadata ?? {});
  }
}

/** `new ItemsEncoder` for this module (its constructor is private). */
let makeEncoder: (columns: Column[], metadata: Record<string, unknown>) => ItemsEncoder;

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

  static {
    makeEncoder = (columns, metadata) => new ItemsEncoder(columns, metadata);
  }

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
    const inference = new ItemsSchemaInference();
    for (let i = 0; i < items.length; i++) inference.observe(items[i]!);
    return inference.encoder(options);
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
    const builder = this.builder();
    for (let i = 0; i < items.length; i++) builder.add(items[i]!);
    return builder.finish();
  }

  /**
   * A builder taking items one at a time into the columns of one record
   * batch: the items can be let go as soon as they are added.
   *
   * @example
   * ```ts
   * import { ItemsEncoder } from "./arrow_items.ts";
   * import { equal } from "node:assert/strict";
   * const item = { type: "Feature" as const, stac_version: "1.0.0", id: "a", geometry: null,
   *   properties: {}, links: [], assets: {} };
   * const builder = ItemsEncoder.infer([item]).builder();
   * builder.add(item);
   * builder.add({ ...item, id: "b" });
   * equal(builder.length, 2);
   * equal(builder.finish().numRows, 2);
   * ```
   *
   * @returns A new builder for {@linkcode ItemsEncoder.schema}.
   */
  builder(): ItemsBatchBuilder {
    return new ItemsBatchBuilder(this.schema, this.#columns, this.#propertyNames);
  }
}

/** Takes one row's value of a column; may put what does not fit into the row's rest. */
type ColumnWriter = {
  add(item: StacItem, rest: Rest): void;
  appendNull(): void;
  /** The value's JSON bytes at `b[i]`: the index after them, or -1 when they do not fit. */
  read(b: Uint8Array, i: number): number;
  finish(): arrow.Data;
};

/** The overflow of one row, created on first use. */
class Rest {
  value: Record<string, unknown> | undefined;

  of(): Record<string, unknown> {
    return (this.value ??= {});
  }

  props(): Record<string, unknown> {
    return ((this.of().properties ??= {}) as Record<string, unknown>);
  }
}

const utf8Encoder = new TextEncoder();
const FEATURE = utf8Encoder.encode('"Feature"');

/** The item's `type` value: exactly `"Feature"`. */
function readFeature(b: Uint8Array, i: number): number {
  for (let k = 0; k < FEATURE.length; k++) if (b[i + k] !== FEATURE[k]) return -1;
  return i + FEATURE.length;
}

/**
 * Items into the columns of one record batch, one item at a time (see
 * {@linkcode ItemsEncoder.builder}).
 */
export class ItemsBatchBuilder {
  readonly #schema: arrow.Schema;
  readonly #writers: ColumnWriter[];
  readonly #overflow: Appender;
  readonly #propertyNames: Set<string>;
  readonly #checkpoint = new Checkpoint();
  /** Item keys read from bytes: `type`, `properties`, then the core columns. */
  readonly #itemKeys: Uint8Array[];
  readonly #itemReaders: { read(b: Uint8Array, i: number): number }[];
  readonly #itemSeen: Uint32Array;
  readonly #propertyKeys: Uint8Array[];
  readonly #propertyWriters: ColumnWriter[];
  readonly #propertySeen: Uint32Array;
  readonly #coreWriters: ColumnWriter[];
  readonly #idKey: number;
  readonly #geometryKey: number;
  readonly #linksKey: number;
  readonly #assetsKey: number;
  #stamp = 0;
  #length = 0;

  /**
   * @param schema The schema of the batch.
   * @param columns The columns of the schema.
   * @param propertyNames The property columns.
   */
  constructor(schema: arrow.Schema, columns: readonly Column[], propertyNames: Set<string>) {
    this.#schema = schema;
    this.#propertyNames = propertyNames;
    this.#writers = [];
    const checkpoint = this.#checkpoint;
    let overflow: Appender | undefined;
    const core: [string, ColumnWriter][] = [];
    const properties: [string, ColumnWriter][] = [];
    for (const column of columns) {
      if (column.kind === "overflow") {
        overflow = appenderOf({ k: "str", conv: false }, column.field.type, checkpoint);
        const o = overflow;
        this.#writers.push({
          add() {},
          appendNull() {},
          read: () => -1,
          finish: () => o.finish(),
        });
      } else {
        const writer = columnWriter(column, checkpoint);
        this.#writers.push(writer);
        (column.kind === "property" ? properties : core).push([column.name, writer]);
      }
    }
    this.#overflow = overflow ??
      appenderOf({ k: "str", conv: false }, new arrow.Utf8(), checkpoint);
    this.#coreWriters = core.map(([, w]) => w);
    this.#propertyWriters = properties.map(([, w]) => w);
    this.#propertyKeys = properties.map(([name]) => utf8Encoder.encode(name));
    this.#propertySeen = new Uint32Array(properties.length);
    this.#itemKeys = ["type", "properties", ...core.map(([name]) => name)].map((name) =>
      utf8Encoder.encode(name)
    );
    this.#itemReaders = [
      { read: readFeature },
      { read: (b, i) => this.#readProperties(b, i) },
      ...core.map(([name, w]) => ({
        read: name === "links"
          ? (b: Uint8Array, i: number) => (b[i] === 0x5b ? w.read(b, i) : -1)
          : name === "assets"
          ? (b: Uint8Array, i: number) => (b[i] === 0x7b ? w.read(b, i) : -1)
          : name === "id"
          ? (b: Uint8Array, i: number) => (b[i] === 0x22 && b[i + 1] !== 0x22 ? w.read(b, i) : -1)
          : (b: Uint8Array, i: number) => w.read(b, i),
      })),
    ];
    this.#itemSeen = new Uint32Array(this.#itemKeys.length);
    const keyOf = (name: string) => 2 + core.findIndex(([n]) => n === name);
    this.#idKey = keyOf("id");
    this.#geometryKey = keyOf("geometry");
    this.#linksKey = keyOf("links");
    this.#assetsKey = keyOf("assets");
  }

  /** Rows added so far. */
  get length(): number {
    return this.#length;
  }

  /**
   * Adds one item as the next row.
   *
   * @param item The item.
   */
  add(item: StacItem): void {
    const rest = new Rest();
    for (const key in item) {
      if (key !== "type" && key !== "properties" && !CORE_SET.has(key)) {
        rest.of()[key] = item[key];
      }
    }
    if (item.properties === undefined) rest.of().properties = undefined;
    for (const key in item.properties) {
      if (!this.#propertyNames.has(key)) rest.props()[key] = item.properties[key];
    }
    const writers = this.#writers;
    for (let j = 0; j < writers.length; j++) writers[j]!.add(item, rest);
    this.#overflow.append(rest.value === undefined ? null : JSON.stringify(rest.value));
    this.#length++;
  }

  /**
   * Adds the item of one NDJSON line as the next row, read from its bytes
   * without building the item, when it is a valid Item whose every value
   * fits the schema as it is (no overflow). Otherwise nothing is added and
   * the caller parses the line and calls {@linkcode ItemsBatchBuilder.add}.
   *
   * @example
   * ```ts
   * import { ItemsEncoder } from "./arrow_items.ts";
   * import { equal } from "node:assert/strict";
   * const item = { type: "Feature" as const, stac_version: "1.0.0", id: "a", geometry: null,
   *   properties: { n: 1 }, links: [], assets: {} };
   * const builder = ItemsEncoder.infer([item]).builder();
   * const line = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
   * equal(builder.addJsonLine(line({ ...item, id: "b" })), true);
   * equal(builder.addJsonLine(line({ ...item, properties: { n: "text" } })), false);
   * equal(builder.finish().numRows, 1);
   * ```
   *
   * @param line The line (nothing else: reading stops at its end).
   * @returns Whether the item was added.
   */
  addJsonLine(line: Uint8Array): boolean {
    this.#checkpoint.save();
    const stamp = ++this.#stamp;
    const seen = this.#itemSeen;
    let end = readObject(
      line,
      skipWhitespace(line, 0),
      this.#itemKeys,
      seen,
      stamp,
      this.#itemReaders,
    );
    if (end >= 0) end = skipWhitespace(line, end);
    if (
      end !== line.length || seen[0] !== stamp || seen[1] !== stamp ||
      seen[this.#idKey] !== stamp || seen[this.#geometryKey] !== stamp
    ) {
      this.#checkpoint.restore();
      return false;
    }
    const core = this.#coreWriters;
    for (let j = 0; j < core.length; j++) if (seen[j + 2] !== stamp) core[j]!.appendNull();
    const props = this.#propertyWriters;
    const propSeen = this.#propertySeen;
    for (let j = 0; j < props.length; j++) if (propSeen[j] !== stamp) props[j]!.appendNull();
    this.#overflow.appendNull();
    this.#length++;
    return true;
  }

  #readProperties(b: Uint8Array, i: number): number {
    return readObject(
      b,
      i,
      this.#propertyKeys,
      this.#propertySeen,
      this.#stamp,
      this.#propertyWriters,
    );
  }

  /**
   * Finishes the batch (the builder is not to be used afterwards).
   *
   * @returns The record batch of the rows added.
   */
  finish(): arrow.RecordBatch {
    const children = this.#writers.map((w) => w.finish());
    const data = arrow.makeData({
      type: new arrow.Struct(this.#schema.fields),
      length: this.#length,
      nullCount: 0,
      children,
    });
    return new arrow.RecordBatch(this.#schema, data);
  }
}

function columnWriter(column: Column, checkpoint: Checkpoint): ColumnWriter {
  switch (column.kind) {
    case "overflow":
      throw new TypeError("The overflow column has no writer of its own");
    case "geometry":
      return geometryWriter(column.field.type as arrow.Binary, checkpoint);
    case "bbox":
      return bboxWriter(column.field.type as arrow.Struct, column.z, checkpoint);
    default: {
      const { plan, name } = column;
      const isProp = column.kind === "property";
      if (plan.k === "ts") {
        const out = new TimestampAppender(plan.fmt, checkpoint);
        const fmt = plan.fmt;
        return {
          add(item, rest) {
            const v = isProp ? item.properties?.[name] : item[name];
            const us = typeof v === "string" ? datetimeFits(v, fmt) : undefined;
            if (us !== undefined || v === null || v === undefined) {
              out.append(v);
              return;
            }
            // Not given back by the column's format: the exact value goes to
            // the overflow, the column still holds the instant when it is one.
            rest.props()[name] = v;
            const instant = typeof v === "string" ? instantMicros(v) : undefined;
            out.valid.push(instant !== undefined);
            out.values.push(instant ?? 0);
          },
          appendNull: () => out.appendNull(),
          read: (b, i) => out.read(b, i),
          finish: () => out.finish(),
        };
      }
      const out = appenderOf(plan, column.field.type, checkpoint);
      const fit = fitterOf(plan);
      return {
        add(item, rest) {
          const v = isProp ? item.properties?.[name] : item[name];
          if (v === undefined || v === null) out.append(null);
          else if (fit(v)) out.append(v);
          else {
            const part = split(v, plan);
            if (isProp) rest.props()[name] = part.rest;
            else rest.of()[name] = part.rest;
            out.append(part.value);
          }
        },
        appendNull: () => out.appendNull(),
        read: (b, i) => out.read(b, i),
        finish: () => out.finish(),
      };
    }
  }
}

function geometryWriter(type: arrow.Binary, checkpoint: Checkpoint): ColumnWriter {
  const valid = new Validity(checkpoint);
  const out = new ByteValues(checkpoint);
  const push = (wkb: Uint8Array | undefined) => {
    valid.push(wkb !== undefined);
    if (wkb === undefined) out.pushText("");
    else out.pushBytes(wkb, 0, wkb.length);
  };
  return {
    add(item, rest) {
      const g = item.geometry;
      if (g === null || g === undefined) {
        push(undefined);
        return;
      }
      const extras = geometryExtras(g);
      const wkb = extras === "all" ? undefined : geometryToWkb(g);
      if (wkb === undefined) rest.of().geometry = g;
      else if (extras !== undefined && extras !== "all") rest.of().geometry = extras;
      push(wkb);
    },
    appendNull: () => push(undefined),
    read(b, i) {
      if (isNull(b, i)) {
        push(undefined);
        return i + 4;
      }
      const end = readGeometryJson(b, i);
      if (end < 0) return -1;
      const wkb = lastGeometryWkb();
      valid.push(true);
      out.pushBytes(wkb, 0, wkb.length);
      return end;
    },
    finish() {
      const { offsets, bytes } = out.finish();
      return arrow.makeData({ ...valid.fields(), type, valueOffsets: offsets, data: bytes });
    },
  };
}

/** The bbox struct column; a 2D box in a 3D column has null z values. */
function bboxWriter(type: arrow.Struct, z: boolean, checkpoint: Checkpoint): ColumnWriter {
  const valid = new Validity(checkpoint);
  const zValid = new Validity(checkpoint);
  const cols = Array.from({ length: z ? 6 : 4 }, () => new Numbers(checkpoint));
  const box = new Float64Array(6);
  const push = (v: ArrayLike<number> | undefined) => {
    valid.push(v !== undefined);
    zValid.push(v !== undefined && v.length === 6);
    if (v === undefined) { for (const c of cols) c.push(0); }
    else if (v.length === 6) { for (let j = 0; j < 6; j++) cols[j]!.push(v[j]!); }
    else if (z) {
      cols[0]!.push(v[0]!);
      cols[1]!.push(v[1]!);
      cols[2]!.push(0);
      cols[3]!.push(v[2]!);
      cols[4]!.push(v[3]!);
      cols[5]!.push(0);
    } else for (let j = 0; j < 4; j++) cols[j]!.push(v[j]!);
  };
  return {
    add(item, rest) {
      const v = item.bbox;
      const ok = Array.isArray(v) && v.every((x) => typeof x === "number") &&
        (v.length === 4 || (v.length === 6 && z));
      if (v !== undefined && v !== null && !ok) rest.of().bbox = v;
      push(ok ? v : undefined);
    },
    appendNull: () => push(undefined),
    read(b, i) {
      if (isNull(b, i)) {
        push(undefined);
        return i + 4;
      }
      if (b[i] !== 0x5b) return -1;
      let n = 0;
      i = skipWhitespace(b, i + 1);
      for (;;) {
        i = scanNumber(b, i);
        if (i < 0 || n === 6) return -1;
        box[n++] = numberValue;
        i = skipWhitespace(b, i);
        if (b[i] === 0x5d) break;
        if (b[i] !== 0x2c) return -1;
        i = skipWhitespace(b, i + 1);
      }
      if (n !== 4 && !(n === 6 && z)) return -1;
      push(n === 6 ? box : box.subarray(0, 4));
      return i + 1;
    },
    finish() {
      const fields = valid.fields();
      const zFields = zValid.fields();
      const children = type.children.map((field, j) => {
        const f = z && (j === 2 || j === 5) ? zFields : fields;
        return arrow.makeData({
          type: field.type as arrow.Float64,
          length: f.length,
          nullCount: f.nullCount,
          nullBitmap: f.nullBitmap,
          data: cols[j]!.float64(),
        });
      });
      return arrow.makeData({ ...fields, type, children });
    },
  };
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
const LINK_LOCK_FIELDS = new Set(["rel", "href"]);

/** A relative href: no scheme (nor drive letter), not an absolute path (as in lib/lock/derive.ts). */
function isRelativeHref(href: string): boolean {
  return !href.startsWith("/") && !/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(href);
}

function hasRelativeHref(row: { assets?: Record<string, unknown> }): boolean {
  for (const key in row.assets) {
    const href = (row.assets[key] as { href?: unknown } | null)?.href;
    if (typeof href === "string" && href !== "" && isRelativeHref(href)) return true;
  }
  return false;
}

/**
 * Decodes only what an asset lock needs of each row: `id`, and of each asset
 * its `href`, `file:size` and `store_endpoint_url` (with what the
 * `ferry:overflow` column holds merged back, as {@linkcode decodeItemsBatch}
 * does). Much cheaper than decoding whole items. When some asset href of the
 * batch is relative, each row also gets its `links` (of each link, `rel` and
 * `href`): a `self` link is what relative hrefs resolve against.
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
 * @returns Per row, the id, the assets' lock fields and, when some href is relative, the links.
 */
export function decodeItemAssets(
  batch: arrow.RecordBatch,
): { id: string; assets?: Record<string, unknown>; links?: unknown[] }[] {
  const rows = decodeProjected(batch, (field, data) => {
    if (field.name === "id" || field.name === OVERFLOW_COLUMN) return { field, data };
    return field.name === "assets" ? projectAssets(field, data) : undefined;
  }) as unknown as { id: string; assets?: Record<string, unknown>; links?: unknown[] }[];
  if (!rows.some(hasRelativeHref)) return rows;
  // Only now the links: with the overflow, as decodeItemsBatch merges them.
  const links = decodeProjected(batch, (field, data) => {
    if (field.name === OVERFLOW_COLUMN) return { field, data };
    return field.name === "links" ? projectLinks(field, data) : undefined;
  });
  rows.forEach((row, i) => {
    const list = links[i]!.links;
    if (Array.isArray(list)) row.links = list;
  });
  return rows;
}

/** Decodes the columns `keep` returns (projected or as they are) of a batch. */
function decodeProjected(
  batch: arrow.RecordBatch,
  keep: (
    field: arrow.Field,
    data: arrow.Data,
  ) => { field: arrow.Field; data: arrow.Data } | undefined,
): StacItem[] {
  const fields: arrow.Field[] = [];
  const children: arrow.Data[] = [];
  batch.schema.fields.forEach((field, j) => {
    const kept = keep(field, batch.data.children[j]!);
    if (kept) {
      fields.push(kept.field);
      children.push(kept.data);
    }
  });
  const schema = new arrow.Schema(fields, batch.schema.metadata);
  const data = arrow.makeData({
    type: new arrow.Struct(fields),
    length: batch.numRows,
    nullCount: 0,
    children,
  });
  return decodeItemsBatch(new arrow.RecordBatch(schema, data));
}

/** The `links` column (a list of structs) with, of each link, only `rel` and `href`. */
function projectLinks(
  field: arrow.Field,
  data: arrow.Data,
): { field: arrow.Field; data: arrow.Data } {
  if (!arrow.DataType.isList(field.type)) return { field, data };
  const item = (field.type as arrow.List).children[0]!;
  const child = data.children[0]!;
  if (!arrow.DataType.isStruct(item.type)) return { field, data };
  let links = keepStructFields(child as arrow.Data<arrow.Struct>, LINK_LOCK_FIELDS);
  const structType = links.type;
  const type = new arrow.List(
    new arrow.Field(item.name, structType, item.nullable, item.metadata),
  );
  // The list child of a slice is whole: cut it to this slice's links (and
  // rebase the offsets) so that decoding a slice decodes only its own links.
  let offsets = (data.valueOffsets as Int32Array).subarray(0, data.length + 1);
  const first = offsets[0] ?? 0;
  const end = offsets[data.length] ?? 0;
  if (first !== 0 || end !== links.length) {
    links = links.slice(first, end - first);
    offsets = offsets.map((o) => o - first);
  }
  return {
    field: new arrow.Field(field.name, type, field.nullable, field.metadata),
    data: arrow.makeData({
      type,
      offset: data.offset,
      length: data.length,
      nullCount: data.nullCount,
      nullBitmap: data.nullBitmap,
      valueOffsets: offsets,
      child: links,
    }),
  };
}

/** A struct column cut down to the children named in `names`, same rows. */
function keepStructFields(
  data: arrow.Data<arrow.Struct>,
  names: ReadonlySet<string>,
): arrow.Data<arrow.Struct> {
  const keep: arrow.Field[] = [];
  const keepData: arrow.Data[] = [];
  data.type.children.forEach((f, k) => {
    if (names.has(f.name)) {
      keep.push(f);
      keepData.push(data.children[k]!);
    }
  });
  return arrow.makeData({
    type: new arrow.Struct(keep),
    offset: data.offset,
    length: data.length,
    nullCount: data.nullCount,
    nullBitmap: data.nullBitmap,
    children: keepData,
  });
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
    const kept = keepStructFields(child as arrow.Data<arrow.Struct>, ASSET_LOCK_FIELDS);
    assetFields.push(new arrow.Field(asset.name, kept.type, asset.nullable, asset.metadata));
    assetData.push(kept);
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
