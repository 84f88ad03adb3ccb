/**
 * The Arrow schema of a stream of STAC Items, inferred from items, and the
 * encoder that turns batches of items into record batches of that schema
 * (the layout is described in `item_layout.ts`).
 *
 * @module
 */
import * as arrow from "apache-arrow";
import type { StacItem } from "./item.ts";
import { chooseDatetimeFormat } from "./datetime.ts";
import {
  bboxField,
  CORE_COLUMNS,
  DATETIME_FORMAT_KEY,
  DATETIME_PROPERTIES,
  GEOMETRY_FIELD,
  isFerrySchema,
  JSON_ENCODING_KEY,
  NOT_PROPERTY_COLUMNS,
  OVERFLOW_COLUMN,
  STAC_GEOPARQUET_KEY,
  STAC_GEOPARQUET_VERSION,
  STRING_CORE_COLUMNS,
} from "./item_layout.ts";
import { NULL_SHAPE, STRING_SHAPE, type ValueShape, widenShape } from "./value_shape.ts";
import { arrowFieldOf, layoutOfField, layoutOfShape } from "./value_layout.ts";
import type { ItemColumn } from "./item_column_writers.ts";
import { ItemsBatchBuilder } from "./item_batch_builder.ts";

/**
 * Schema inference one item at a time ({@linkcode ItemsEncoder.infer} over
 * items that need not all be held at once).
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
  #hasZ = false;
  readonly #core = new Map<string, ValueShape>();
  readonly #properties = new Map<string, ValueShape>();
  /** Per datetime property, its values (to choose the column's text format). */
  readonly #datetimes = new Map<string, unknown[]>();

  constructor() {
    for (const name of CORE_COLUMNS) {
      if (name === "geometry" || name === "bbox") continue;
      this.#core.set(
        name,
        STRING_CORE_COLUMNS.has(name)
          ? STRING_SHAPE
          : name === "stac_extensions"
          ? { kind: "list", element: STRING_SHAPE }
          : NULL_SHAPE,
      );
    }
  }

  /**
   * Takes one item's shape into account.
   *
   * @param item The item.
   */
  observe(item: StacItem): void {
    if (Array.isArray(item.bbox) && item.bbox.length === 6) this.#hasZ = true;
    for (const [name, shape] of this.#core) {
      if (STRING_CORE_COLUMNS.has(name)) continue;
      this.#core.set(name, widenShape(shape, item[name]));
    }
    const props = item.properties;
    for (const key in props) {
      if (NOT_PROPERTY_COLUMNS.has(key)) continue;
      const v = props[key];
      this.#properties.set(key, widenShape(this.#properties.get(key) ?? NULL_SHAPE, v));
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
    const columns: ItemColumn[] = [];
    const hasZ = this.#hasZ;
    for (const name of CORE_COLUMNS) {
      if (name === "geometry") columns.push({ name, role: "geometry", field: GEOMETRY_FIELD });
      else if (name === "bbox") columns.push({ name, role: "bbox", hasZ, field: bboxField(hasZ) });
      else {
        const layout = layoutOfShape(this.#core.get(name)!);
        columns.push({ name, role: "core", layout, field: arrowFieldOf(name, layout) });
      }
    }
    for (const [name, shape] of this.#properties) {
      let layout = layoutOfShape(shape);
      if (DATETIME_PROPERTIES.has(name) && layout.kind === "string") {
        const format = chooseDatetimeFormat(this.#datetimes.get(name) ?? []);
        if (format) layout = { kind: "timestamp", format };
      }
      columns.push({ name, role: "property", layout, field: arrowFieldOf(name, layout) });
    }
    columns.push({
      name: OVERFLOW_COLUMN,
      role: "overflow",
      field: new arrow.Field(OVERFLOW_COLUMN, new arrow.Utf8(), true),
    });
    return newEncoder(columns, options.metadata ?? {});
  }
}

/** `new ItemsEncoder` for this module (its constructor is private). */
let newEncoder: (columns: ItemColumn[], metadata: Record<string, unknown>) => ItemsEncoder;

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
    const columns: ItemColumn[] = [];
    for (const field of schema.fields) {
      if (field.name === "geometry") columns.push({ name: "geometry", role: "geometry", field });
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
