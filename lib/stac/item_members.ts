/**
 * The members of a STAC Item and what becomes of them in the column layout
 * (names only, no Arrow: the first read of a file uses them off the main
 * thread too).
 *
 * @module
 */

/** The column holding, per row, the JSON of what did not fit the schema. */
export const OVERFLOW_COLUMN = "ferry:overflow";

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

/**
 * Whether a value is a JSON object (not null, an array or bytes).
 *
 * @param v The value.
 * @returns True for an object.
 */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/**
 * The item's top-level members the byte readers of a line know, as UTF-8,
 * each at the index the `TOP_*` constants name.
 */
export const TOP_KEYS: readonly Uint8Array[] = [
  "type",
  "properties",
  "id",
  "geometry",
  "bbox",
  "stac_version",
  "collection",
  "stac_extensions",
  "links",
  "assets",
].map((name) => new TextEncoder().encode(name));
export const TOP_TYPE = 0;
export const TOP_PROPERTIES = 1;
export const TOP_ID = 2;
export const TOP_GEOMETRY = 3;
export const TOP_BBOX = 4;
export const TOP_STAC_VERSION = 5;
export const TOP_COLLECTION = 6;
export const TOP_STAC_EXTENSIONS = 7;
export const TOP_LINKS = 8;
export const TOP_ASSETS = 9;

/** `"Feature"` with its quotes, as UTF-8: the only `type` an item has. */
export const FEATURE_JSON: Uint8Array = new TextEncoder().encode('"Feature"');
