/**
 * The stac-geoparquet column layout of STAC Items in Arrow: `stac_version`,
 * `stac_extensions`, `id`, `geometry` (WKB, `geoarrow.wkb`), `bbox`
 * (struct), `links` (always a list of structs with `href`, `rel`, `type`,
 * `title` first), `assets` (struct of structs), `collection`, `type`
 * (`Feature`), one column per property, datetimes as UTC microsecond
 * timestamps.
 *
 * The schema comes from every item when they can all be seen before the
 * first batch is written (a file is read twice: its shapes, then its
 * items), so that every property and asset key is a real column. Only what
 * no column can hold (a foreign member of an item, a GeoJSON member WKB does
 * not keep, a datetime text the column's format does not give back) goes to
 * a `ferry:overflow` column, stored as JSON at its item path and merged back
 * on read; without such parts there is no such column. A schema inferred
 * from a sample (a stream that cannot be read twice) always has the column,
 * for what later items bring. A column whose values are of different kinds
 * is a JSON-text column (field metadata `ferry:encoding = json`). Timestamps
 * carry their text form in field metadata `ferry:datetime_format` so that
 * reading gives back the exact strings.
 *
 * @module
 */
import * as arrow from "apache-arrow";
import { isPlainObject } from "./item_members.ts";

export {
  CORE_COLUMN_NAMES,
  CORE_COLUMNS,
  DATETIME_PROPERTIES,
  isPlainObject,
  NOT_PROPERTY_COLUMNS,
  OVERFLOW_COLUMN,
  STRING_CORE_COLUMNS,
} from "./item_members.ts";

/** Field metadata key marking a JSON-text column. */
export const JSON_ENCODING_KEY = "ferry:encoding";
/** Field metadata key naming the text form of a timestamp column. */
export const DATETIME_FORMAT_KEY = "ferry:datetime_format";
/** Schema metadata key of the stac-geoparquet metadata. */
export const STAC_GEOPARQUET_KEY = "stac-geoparquet";
/** The stac-geoparquet metadata version written. */
export const STAC_GEOPARQUET_VERSION = "1.0.0";

/** The `geometry` column: WKB with the GeoArrow extension name. */
export const GEOMETRY_FIELD: arrow.Field = new arrow.Field(
  "geometry",
  new arrow.Binary(),
  true,
  new Map([["ARROW:extension:name", "geoarrow.wkb"]]),
);

/**
 * The `bbox` column: a struct of doubles, with `zmin`/`zmax` for 3D boxes.
 *
 * @param hasZ Whether the column holds 3D boxes.
 * @returns The field.
 */
export function bboxField(hasZ: boolean): arrow.Field {
  const names = hasZ
    ? ["xmin", "ymin", "zmin", "xmax", "ymax", "zmax"]
    : ["xmin", "ymin", "xmax", "ymax"];
  return new arrow.Field(
    "bbox",
    new arrow.Struct(names.map((n) => new arrow.Field(n, new arrow.Float64(), true))),
    true,
  );
}

const ferrySchemas = new WeakMap<arrow.Schema, boolean>();

/**
 * Whether a schema was written by `ItemsEncoder` (now or by an earlier
 * version, with a `ferry:overflow` column on every schema).
 *
 * @example
 * ```ts
 * import * as arrow from "apache-arrow";
 * import { isFerrySchema } from "./item_layout.ts";
 * import { equal } from "node:assert/strict";
 * equal(isFerrySchema(arrow.tableFromArrays({ x: [1] }).schema), false);
 * ```
 *
 * @param schema The schema.
 * @returns True when its `stac-geoparquet` metadata has ferry's notes.
 */
export function isFerrySchema(schema: arrow.Schema): boolean {
  let known = ferrySchemas.get(schema);
  if (known === undefined) {
    const meta = schema.metadata.get(STAC_GEOPARQUET_KEY);
    known = false;
    if (meta !== undefined && meta.includes('"ferry"')) {
      try {
        const ferry = JSON.parse(meta).ferry;
        known = typeof ferry === "object" && ferry !== null;
      } catch {
        // not JSON: not ours
      }
    }
    ferrySchemas.set(schema, known);
  }
  return known;
}

/**
 * Whether a schema of another writer has the properties in one `properties`
 * struct column (as DuckDB's `read_ndjson` gives them) instead of a column
 * each.
 *
 * @example
 * ```ts
 * import * as arrow from "apache-arrow";
 * import { hasNestedProperties } from "./item_layout.ts";
 * import { equal } from "node:assert/strict";
 * const nested = new arrow.Field("properties", new arrow.Struct([new arrow.Field("gsd", new arrow.Float64())]));
 * equal(hasNestedProperties(new arrow.Schema([nested])), true);
 * ```
 *
 * @param schema The schema.
 * @returns True for a struct `properties` column in a schema ferry did not write.
 */
export function hasNestedProperties(schema: arrow.Schema): boolean {
  return schema.fields.some((f) => f.name === "properties" && arrow.DataType.isStruct(f.type)) &&
    !isFerrySchema(schema);
}

/**
 * The entries of a schema's `stac-geoparquet` metadata besides `version`
 * and ferry's notes (kept when the items are written again).
 *
 * @example
 * ```ts
 * import * as arrow from "apache-arrow";
 * import { stacGeoparquetExtras } from "./item_layout.ts";
 * import { deepEqual } from "node:assert/strict";
 * const schema = new arrow.Schema([], new Map([["stac-geoparquet", '{"version":"1.0.0","collection":"c"}']]));
 * deepEqual(stacGeoparquetExtras(schema), { collection: "c" });
 * ```
 *
 * @param schema The schema.
 * @returns The entries (none when the metadata is missing or not a JSON object).
 */
export function stacGeoparquetExtras(schema: arrow.Schema): Record<string, unknown> {
  const meta = schema.metadata.get(STAC_GEOPARQUET_KEY);
  let extras: Record<string, unknown> = {};
  try {
    const parsed = meta === undefined ? undefined : JSON.parse(meta);
    if (isPlainObject(parsed)) extras = parsed;
  } catch {
    // Not JSON: nothing kept.
  }
  delete extras.version;
  delete extras.ferry;
  return extras;
}
