/**
 * The Arrow schema of a stream of STAC Items, inferred from items, and the
 * encoder that turns batches of items into record batches of that schema
 * (the layout is described in `item_layout.ts`).
 *
 * @module
 */
import * as arrow from "apache-arrow";
import type { StacItem } from "./item.ts";
import {
  bboxField,
  CORE_COLUMNS,
  DATETIME_FORMAT_KEY,
  DATETIME_PROPERTIES,
  GEOMETRY_FIELD,
  hasNestedProperties,
  isFerrySchema,
  JSON_ENCODING_KEY,
  NOT_PROPERTY_COLUMNS,
  OVERFLOW_COLUMN,
  STAC_GEOPARQUET_KEY,
  STAC_GEOPARQUET_VERSION,
  stacGeoparquetExtras,
} from "./item_layout.ts";
import {
  arrowFieldOf,
  JSON_LAYOUT,
  layoutOfAnyField,
  layoutOfField,
  layoutOfShape,
  STRING_LAYOUT,
  type ValueLayout,
} from "./value_layout.ts";
import type { ItemColumn } from "./item_column_writers.ts";
import { ItemsBatchBuilder } from "./item_batch_builder.ts";
import { ItemShapes, LINK_MEMBERS, type PlainItemShapes } from "./item_shapes.ts";
import { itemsSchemaProblem } from "./items_decoder.ts";
import { observeItemLine } from "./item_line_shapes.ts";

/**
 * Schema inference one item at a time ({@linkcode ItemsEncoder.infer} over
 * items that need not all be held at once), from parsed items or straight
 * from the bytes of NDJSON lines.
 *
 * @example
 * ```ts
 * import { ItemsSchemaInference } from "./items_encoder.ts";
 * import { equal } from "node:assert/strict";
 * const inference = new ItemsSchemaInference();
 * inference.observe({ type: "Feature", stac_version: "1.0.0", id: "a", geometry: null,
 *   properties: { n: 1 }, links: [], assets: {} });
 * equal(inference.encoder().schema.fields.some((f) => f.name === "n"), true);
 * ```
 */
export class ItemsSchemaInference {
  readonly #shapes = new ItemShapes();

  /**
   * Takes one item's shape into account.
   *
   * @param item The item.
   */
  observe(item: StacItem): void {
    this.#shapes.observe(item);
  }

  /**
   * Takes the item of one NDJSON line into account, read from its bytes
   * without building it, when it is a plain valid Item; otherwise the caller
   * parses the line (which names what is wrong with it) and calls
   * {@linkcode ItemsSchemaInference.observe}. Either way the schema comes
   * out the same.
   *
   * @example
   * ```ts
   * import { ItemsSchemaInference } from "./items_encoder.ts";
   * import { equal } from "node:assert/strict";
   * const inference = new ItemsSchemaInference();
   * const line = (s: string) => new TextEncoder().encode(s);
   * equal(inference.observeJsonLine(line('{"type":"Feature","id":"a","geometry":null,"properties":{"n":1}}')), true);
   * equal(inference.observeJsonLine(line('{"type":"Feature"}')), false);
   * equal(inference.encoder().schema.fields.some((f) => f.name === "n"), true);
   * ```
   *
   * @param line The line's bytes (nothing else).
   * @returns Whether the line was taken into account.
   */
  observeJsonLine(line: Uint8Array): boolean {
    return observeItemLine(this.#shapes, line);
  }

  /**
   * Takes shapes observed elsewhere into account, as if their items came
   * after those observed so far (e.g. a block of a file read by a worker).
   *
   * @param shapes What was observed, as `ItemShapes.toPlain` gives it.
   */
  observeShapes(shapes: PlainItemShapes): void {
    this.#shapes.merge(shapes);
  }

  /**
   * Keeps the property columns of an Arrow schema of items (another
   * writer's, or one read back), in its order, even those that never hold a
   * value (e.g. an all-null `datetime` of Arrow type `null`).
   *
   * @param schema The schema.
   */
  declareColumns(schema: arrow.Schema): void {
    for (const { name, field } of propertyFieldsOf(schema)) {
      this.#shapes.declare(name, declaredLayout(name, field));
    }
  }

  /**
   * The encoder for what was observed.
   *
   * @param options Extra metadata; whether every item to encode was observed.
   * @returns The encoder.
   */
  encoder(options: ItemsEncoderOptions = {}): ItemsEncoder {
    const shapes = this.#shapes;
    const columns: ItemColumn[] = [];
    let needsOverflow = shapes.needsOverflow;
    const hasZ = shapes.hasZ;
    for (const name of CORE_COLUMNS) {
      if (name === "geometry") columns.push({ name, role: "geometry", field: GEOMETRY_FIELD });
      else if (name === "bbox") columns.push({ name, role: "bbox", hasZ, field: bboxField(hasZ) });
      else {
        const j = shapes.core.indexOf.get(name);
        const layout = j === undefined ? STRING_LAYOUT : layoutOfShape(shapes.core.fields[j]!);
        columns.push({ name, role: "core", layout, field: arrowFieldOf(name, layout) });
      }
    }
    // After the stac-geoparquet columns rather than first: the order readers know stays.
    columns.push({ name: "type", role: "type", field: TYPE_FIELD });
    const properties = shapes.properties;
    properties.names.forEach((name, j) => {
      const shape = properties.fields[j]!;
      let layout = shape.kind === "null" && shapes.declared.has(name)
        ? shapes.declared.get(name)!
        : layoutOfShape(shape);
      if (DATETIME_PROPERTIES.has(name) && (layout.kind === "string" || layout.kind === "null")) {
        const chooser = shapes.datetime(name);
        const format = chooser.format();
        if (format) {
          layout = { kind: "timestamp", format };
          if (!chooser.givesBackAll(format)) needsOverflow = true;
        }
      }
      columns.push({ name, role: "property", layout, field: arrowFieldOf(name, layout) });
    });
    if (needsOverflow || !options.complete) {
      columns.push({
        name: OVERFLOW_COLUMN,
        role: "overflow",
        field: new arrow.Field(OVERFLOW_COLUMN, new arrow.Utf8(), true),
      });
    }
    return newEncoder(columns, options.metadata ?? {});
  }
}

/** `new ItemsEncoder` for this module (its constructor is private). */
let newEncoder: (columns: ItemColumn[], metadata: Record<string, unknown>) => ItemsEncoder;

/** Options of {@linkcode ItemsEncoder}. */
export interface ItemsEncoderOptions {
  /** Extra entries for the `stac-geoparquet` schema metadata. @default {} */
  metadata?: Record<string, unknown>;
  /**
   * Every item that will be encoded was observed (not a sample of them):
   * then the schema has an overflow column only when some item has a part
   * no other column holds, and encoding an item that does not fit throws.
   * Otherwise (a schema from a sample) the overflow column is always there,
   * for what later items bring.
   * @default false
   */
  complete?: boolean;
}

/** The `type` column (`Feature` on every row), for readers that build GeoJSON from the rows. */
const TYPE_FIELD = new arrow.Field("type", new arrow.Utf8(), true);

/** The property columns of an Arrow schema of items: top-level or in a `properties` struct. */
function propertyFieldsOf(schema: arrow.Schema): { name: string; field: arrow.Field }[] {
  const out: { name: string; field: arrow.Field }[] = [];
  const nested = hasNestedProperties(schema);
  for (const field of schema.fields) {
    if (nested && field.name === "properties") {
      for (const child of (field.type as arrow.Struct).children) {
        out.push({ name: child.name, field: child });
      }
    } else if (!NOT_PROPERTY_COLUMNS.has(field.name)) out.push({ name: field.name, field });
  }
  return out;
}

/** Core columns another writer's schema lacks. */
const CORE_DEFAULT_LAYOUTS: Record<string, ValueLayout> = {
  stac_extensions: { kind: "list", element: STRING_LAYOUT },
  links: { kind: "list", element: { kind: "struct", fields: [], fieldNames: new Set() } },
  assets: JSON_LAYOUT,
};

/**
 * `links` as a list of link structs whose first members are `href`, `rel`,
 * `type`, `title` (what stac-geoparquet readers cast to), other members after.
 */
function linksLayout(layout: ValueLayout): ValueLayout {
  const element = layout.kind === "list" ? layout.element : undefined;
  const members = element?.kind === "struct" ? element.fields : [];
  const byName = new Map(members);
  const fields: [string, ValueLayout][] = [
    ...LINK_MEMBERS.map((name): [string, ValueLayout] => [name, byName.get(name) ?? STRING_LAYOUT]),
    ...members.filter(([name]) => !LINK_MEMBERS.includes(name)),
  ];
  return {
    kind: "list",
    element: { kind: "struct", fields, fieldNames: new Set(fields.map(([n]) => n)) },
  };
}

/** The layout of a declared column: a datetime property is a timestamp even when all null. */
function declaredLayout(name: string, field: arrow.Field): ValueLayout {
  const layout = layoutOfAnyField(field);
  return DATETIME_PROPERTIES.has(name) && layout.kind === "null"
    ? { kind: "timestamp", format: "auto" }
    : layout;
}

/**
 * Turns batches of items into Arrow record batches of one schema: inferred
 * from every item (`complete`), from a first batch, or read back from a
 * schema ferry or another writer made.
 *
 * @example Encoding and decoding one batch
 * ```ts
 * import { ItemsEncoder } from "./items_encoder.ts";
 * import { decodeItemsBatch } from "./items_decoder.ts";
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
  readonly #columns: ItemColumn[];
  readonly #propertyNames: Set<string>;

  static {
    newEncoder = (columns, metadata) => new ItemsEncoder(columns, metadata);
  }

  private constructor(columns: ItemColumn[], metadata: Record<string, unknown>) {
    this.#columns = columns;
    this.#propertyNames = new Set(
      columns.filter((c) => c.role === "property").map((c) => c.name),
    );
    const overflow = columns.some((c) => c.role === "overflow")
      ? {
        overflow_column: OVERFLOW_COLUMN,
        overflow:
          "JSON object per row with the parts of the item that did not fit the schema, at their item paths",
      }
      : {};
    const meta = new Map<string, string>([[
      STAC_GEOPARQUET_KEY,
      JSON.stringify({
        version: STAC_GEOPARQUET_VERSION,
        ...metadata,
        ferry: {
          ...overflow,
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
   * @param items The first batch (may be empty: then only the core columns),
   *   or with `complete`, every item to be encoded.
   * @param options Extra metadata; whether these are all the items.
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
    const columns: ItemColumn[] = [];
    for (const field of schema.fields) {
      if (field.name === "geometry") columns.push({ name: "geometry", role: "geometry", field });
      else if (field.name === "type") columns.push({ name: "type", role: "type", field });
      else if (field.name === "bbox") {
        columns.push({
          name: "bbox",
          role: "bbox",
          hasZ: (field.type as arrow.Struct).children.length === 6,
          field,
        });
      } else if (field.name === OVERFLOW_COLUMN) {
        columns.push({ name: OVERFLOW_COLUMN, role: "overflow", field });
      } else {
        const layout = layoutOfField(field);
        if (!layout) return undefined;
        columns.push({
          name: field.name,
          role: CORE_COLUMNS.includes(field.name) ? "core" : "property",
          layout,
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
   * An encoder for the items decoded (by `decodeItemsBatch`) from record
   * batches of a schema that another writer made (stacpkg, stac-geoparquet,
   * DuckDB): each column keeps its kind (see `layoutOfAnyField`), a column
   * of Arrow type `null` stays one (a datetime property becomes a
   * timestamp), `links` becomes a list of link structs, properties in a
   * `properties` struct become columns. Every decoded item fits, so there is
   * no overflow column; only a bbox list (whose length a schema does not
   * tell) is 3D or not as in `sample`.
   *
   * @example
   * ```ts
   * import * as arrow from "apache-arrow";
   * import { ItemsEncoder } from "./items_encoder.ts";
   * import { equal } from "node:assert/strict";
   * const schema = new arrow.Schema([
   *   new arrow.Field("id", new arrow.Utf8()),
   *   new arrow.Field("datetime", new arrow.Null()),
   *   new arrow.Field("proj:epsg", new arrow.Null()),
   * ]);
   * const fields = ItemsEncoder.forArrowSchema(schema).schema.fields;
   * equal(String(fields.find((f) => f.name === "datetime")!.type), "Timestamp<MICROSECOND, UTC>");
   * equal(String(fields.find((f) => f.name === "proj:epsg")!.type), "Null");
   * ```
   *
   * @param schema The other writer's schema.
   * @param sample Items decoded from its first batch (for a bbox list).
   * @returns The encoder.
   * @throws {RangeError} When the schema has no `id` column or a geometry
   *   column that is neither WKB nor GeoJSON.
   */
  static forArrowSchema(schema: arrow.Schema, sample: readonly StacItem[] = []): ItemsEncoder {
    const problem = itemsSchemaProblem(schema);
    if (problem) throw new RangeError(`Not a table of STAC items: ${problem}`);
    const fieldOf = (name: string) => schema.fields.find((f) => f.name === name);
    const columns: ItemColumn[] = [];
    for (const name of CORE_COLUMNS) {
      const field = fieldOf(name);
      if (name === "geometry") columns.push({ name, role: "geometry", field: GEOMETRY_FIELD });
      else if (name === "bbox") {
        const t = field?.type;
        const hasZ = t === undefined
          ? false
          : arrow.DataType.isStruct(t)
          ? t.children.some((c) => c.name === "zmin")
          : arrow.DataType.isFixedSizeList(t)
          ? t.listSize === 6
          : sample.some((item) => Array.isArray(item.bbox) && item.bbox.length === 6);
        columns.push({ name, role: "bbox", hasZ, field: bboxField(hasZ) });
      } else {
        let layout = field ? layoutOfAnyField(field) : CORE_DEFAULT_LAYOUTS[name] ?? STRING_LAYOUT;
        if (name === "links") layout = linksLayout(layout);
        columns.push({ name, role: "core", layout, field: arrowFieldOf(name, layout) });
      }
    }
    columns.push({ name: "type", role: "type", field: TYPE_FIELD });
    for (const { name, field } of propertyFieldsOf(schema)) {
      const layout = declaredLayout(name, field);
      columns.push({ name, role: "property", layout, field: arrowFieldOf(name, layout) });
    }
    return new ItemsEncoder(columns, stacGeoparquetExtras(schema));
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
   * import { ItemsEncoder } from "./items_encoder.ts";
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
