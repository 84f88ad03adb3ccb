/**
 * STAC Item type, its validation, and the error raised for bad item input.
 *
 * @module
 */

/** A GeoJSON geometry object (the geometry of a STAC Item). */
export type GeoJSON =
  | { type: "Point"; coordinates: number[]; [k: string]: unknown }
  | { type: "LineString" | "MultiPoint"; coordinates: number[][]; [k: string]: unknown }
  | { type: "Polygon" | "MultiLineString"; coordinates: number[][][]; [k: string]: unknown }
  | { type: "MultiPolygon"; coordinates: number[][][][]; [k: string]: unknown }
  | { type: "GeometryCollection"; geometries: GeoJSON[]; [k: string]: unknown };

/** An asset of a STAC Item: an href and anything else. */
export interface StacAsset {
  /** Where the asset's bytes are. */
  href: string;
  /** Any other asset field (type, roles, title, extension fields). */
  [k: string]: unknown;
}

/** A STAC Item (a GeoJSON Feature with STAC fields). */
export type StacItem = {
  type: "Feature";
  stac_version: string;
  id: string;
  geometry: GeoJSON | null;
  bbox?: number[] | null;
  properties: Record<string, unknown>;
  links: unknown[];
  assets: Record<string, StacAsset>;
  collection?: string;
  stac_extensions?: string[];
  [k: string]: unknown;
};

/** The GeoJSON geometry types an Item may carry. */
export const GEOMETRY_TYPES: readonly string[] = [
  "Point",
  "LineString",
  "Polygon",
  "MultiPoint",
  "MultiLineString",
  "MultiPolygon",
  "GeometryCollection",
];

/** Where a bad input was found: the source name and a 1-based line or row. */
export interface InputPosition {
  /** The file name or `stdin`. */
  source: string;
  /** 1-based line (NDJSON, JSON) in the source. */
  line?: number;
  /** 1-based row (Parquet, Arrow) or item index in the source. */
  row?: number;
}

/**
 * Bad item input: unparseable JSON, a value that is not an Item, a broken
 * Parquet file. The message names the source and the line or row.
 */
export class StacInputError extends SyntaxError {
  /** The source name. */
  readonly source: string;
  /** 1-based line, where known. */
  readonly line?: number;
  /** 1-based row or item number, where known. */
  readonly row?: number;
  /**
   * Creates the error; its message starts with the input and position.
   *
   * @param message What is wrong (without the position).
   * @param position Where.
   * @param options The cause.
   */
  constructor(message: string, position: InputPosition, options: { cause?: unknown } = {}) {
    const where = position.line !== undefined
      ? `${position.source}:${position.line}`
      : position.row !== undefined
      ? `${position.source} row ${position.row}`
      : position.source;
    super(`${where}: ${message}`, options);
    this.name = "StacInputError";
    this.source = position.source;
    if (position.line !== undefined) this.line = position.line;
    if (position.row !== undefined) this.row = position.row;
  }
}

/**
 * Whether a parsed JSON value is an object (not null, not an array).
 *
 * @example
 * ```ts
 * import { isJsonObject } from "./item.ts";
 * import { equal } from "node:assert/strict";
 * equal(isJsonObject({}), true);
 * equal(isJsonObject([]), false);
 * ```
 *
 * @param value The value.
 * @returns True for an object.
 */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkGeometry(geometry: unknown, path: string): string | undefined {
  if (geometry === null) return undefined;
  if (!isJsonObject(geometry)) return `${path} is not an object or null`;
  const type = geometry.type;
  if (typeof type !== "string" || !GEOMETRY_TYPES.includes(type)) {
    return `${path} has unknown type ${JSON.stringify(type ?? null)}`;
  }
  if (type === "GeometryCollection") {
    if (!Array.isArray(geometry.geometries)) return `${path}.geometries is not an array`;
    for (const [i, g] of geometry.geometries.entries()) {
      if (g === null) return `${path}.geometries[${i}] is null`;
      const problem = checkGeometry(g, `${path}.geometries[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  }
  if (!Array.isArray(geometry.coordinates)) return `${path}.coordinates is not an array`;
  return undefined;
}

/**
 * Why `value` is not a STAC Item, or `undefined` when it is one: a
 * `"Feature"` with a non-empty string `id`, an object `properties`, a
 * geometry of a known type (or null), and, where present, an array `bbox`
 * (or null, as some APIs write for items without geometry),
 * an array `links` and an object `assets`.
 *
 * @example Finding what is wrong
 * ```ts
 * import { itemProblem } from "./item.ts";
 * import { equal } from "node:assert/strict";
 * equal(itemProblem({ type: "Feature", properties: {}, geometry: null }), 'Item has no "id"');
 * ```
 *
 * @param value Any JSON value.
 * @returns The problem, or undefined.
 */
export function itemProblem(value: unknown): string | undefined {
  if (!isJsonObject(value)) {
    return Array.isArray(value)
      ? "Item is a JSON array, not an object (one Item per line or array element)"
      : "Item is not a JSON object";
  }
  if (value.type !== "Feature") {
    return `Item has type ${JSON.stringify(value.type ?? null)}, expected "Feature"`;
  }
  if (typeof value.id !== "string" || value.id === "") {
    return value.id === undefined ? 'Item has no "id"' : 'Item "id" is not a non-empty string';
  }
  const id = JSON.stringify(value.id);
  if (!("geometry" in value)) return `Item ${id} has no "geometry"`;
  const g = checkGeometry(value.geometry, "geometry");
  if (g) return `Item ${id}: ${g}`;
  if (!isJsonObject(value.properties)) return `Item ${id}: "properties" is not an object`;
  if (value.bbox !== undefined && value.bbox !== null && !Array.isArray(value.bbox)) {
    return `Item ${id}: "bbox" is not an array`;
  }
  if (value.links !== undefined && !Array.isArray(value.links)) {
    return `Item ${id}: "links" is not an array`;
  }
  if (value.assets !== undefined && !isJsonObject(value.assets)) {
    return `Item ${id}: "assets" is not an object`;
  }
  return undefined;
}

/**
 * The item with `"datetime": null` among its properties when it has no
 * `datetime` (STAC requires the key; Parquet does not keep a null apart
 * from an absent key). The item is changed in place.
 *
 * @example
 * ```ts
 * import { withDatetimeKey } from "./item.ts";
 * import { deepEqual } from "node:assert/strict";
 * const item = { type: "Feature" as const, stac_version: "1.0.0", id: "a", geometry: null,
 *   properties: { start_datetime: "2020-01-01T00:00:00Z" }, links: [], assets: {} };
 * deepEqual(withDatetimeKey(item).properties, { datetime: null, start_datetime: "2020-01-01T00:00:00Z" });
 * ```
 *
 * @param item The item.
 * @returns The same item.
 */
export function withDatetimeKey(item: StacItem): StacItem {
  const properties = item.properties;
  if (isJsonObject(properties) && !("datetime" in properties)) {
    item.properties = { datetime: null, ...properties };
  }
  return item;
}

/**
 * Checks that `value` is a STAC Item.
 *
 * @example A valid item passes through
 * ```ts
 * import { validateItem } from "./item.ts";
 * import { equal } from "node:assert/strict";
 * const item = validateItem(
 *   { type: "Feature", stac_version: "1.0.0", id: "a", geometry: null, properties: {}, links: [], assets: {} },
 *   { source: "x.json" },
 * );
 * equal(item.id, "a");
 * ```
 *
 * @param value Any JSON value.
 * @param position Where it came from, for the error.
 * @returns The value as a {@linkcode StacItem}.
 * @throws {StacInputError} When it is not one.
 */
export function validateItem(value: unknown, position: InputPosition): StacItem {
  const problem = itemProblem(value);
  if (problem) throw new StacInputError(problem, position);
  return value as StacItem;
}

/**
 * The provider names of an item, as stacpkg selects items by provider:
 * `properties.providers[].name` (or plain string entries),
 * `properties.provider` and `properties["oam:producer_name"]`
 * (OpenAerialMap's items carry the latter).
 *
 * @example
 * ```ts
 * import { providerNamesOf } from "./item.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(providerNamesOf({ properties: {
 *   providers: [{ name: "Esri" }, "Maxar"], provider: "USGS", "oam:producer_name": "Jane",
 * } }), new Set(["Esri", "Maxar", "USGS", "Jane"]));
 * ```
 *
 * @param item The item (only its properties are read).
 * @returns The names (empty when it names none).
 */
export function providerNamesOf(
  item: { properties?: Record<string, unknown> | null | undefined },
): Set<string> {
  const names = new Set<string>();
  const properties = item.properties;
  if (!properties || typeof properties !== "object") return names;
  const add = (value: unknown) => {
    if (typeof value === "string" && value !== "") names.add(value);
  };
  add(properties.provider);
  add(properties["oam:producer_name"]);
  const list = properties.providers;
  if (Array.isArray(list)) {
    for (const entry of list) {
      if (entry && typeof entry === "object") add((entry as { name?: unknown }).name);
      else add(entry);
    }
  }
  return names;
}
