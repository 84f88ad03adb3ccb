/**
 * The stac-geoparquet column layout of STAC Items in Arrow: `stac_version`,
 * `stac_extensions`, `id`, `geometry` (WKB, `geoarrow.wkb`), `bbox`
 * (struct), `links`, `assets` (struct of structs), `collection`, one column
 * per property, datetimes as UTC microsecond timestamps, and one
 * `ferry:overflow` column.
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

/** Item-level keys that are columns of their own. */
export const CORE_COLUMN_NAMES: ReadonlySet<string> = new Set(CORE_COLUMNS);

/** Names a property cannot have as a column (they are item-level columns). */
export const NOT_PROPERTY_COLUMNS: ReadonlySet<string> = new Set([
  ...CORE_COLUMNS,
  "type",
  OVERFLOW_COLUMN,
]);

/** The core columns whose value is always a string (or null). */
export const STRING_CORE_COLUMNS: ReadonlySet<string> = new Set([
  "id",
  "stac_version",
  "collection",
]);

/** Properties that hold datetimes: timestamp columns when their values allow. */
export const DATETIME_PROPERTIES: ReadonlySet<string> = new Set([
  "datetime",
  "start_datetime",
  "end_datetime",
  "created",
  "updated",
  "expires",
  "published",
  "unpublished",
]);

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

/**
 * Whether a schema was written by `ItemsEncoder`.
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
 * @returns True when it has the overflow column and the metadata.
 */
export function isFerrySchema(schema: arrow.Schema): boolean {
  const meta = schema.metadata.get(STAC_GEOPARQUET_KEY);
  return meta !== undefined && meta.includes('"ferry"') &&
    schema.fields.some((f) => f.name === OVERFLOW_COLUMN);
}

/**
 * Whether a value is a JSON object (not null, an array or bytes).
 *
 * @param v The value.
 * @returns True for an object.
 */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}
