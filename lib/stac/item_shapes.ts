/**
 * What was observed of a stream of STAC Items, enough to lay out its
 * columns: the shapes of `stac_extensions`, `links`, `assets` and of every
 * property, whether some bbox is 3D, the values of datetime properties (for
 * their text format), and whether some item has a part no column can hold
 * (a foreign member, a geometry member WKB does not keep, ...: then an
 * overflow column is needed).
 *
 * @module
 */
import type { GeoJSON, StacItem } from "./item.ts";
import { geometryToWkb } from "./wkb.ts";
import { DatetimeFormatChooser, type PlainDatetimeChooser } from "./datetime.ts";
import {
  CORE_COLUMN_NAMES,
  DATETIME_PROPERTIES,
  NOT_PROPERTY_COLUMNS,
  STRING_CORE_COLUMNS,
} from "./item_members.ts";
import {
  joinShapes,
  memberIndex,
  NULL_SHAPE,
  type PlainShape,
  shapeFromPlain,
  shapeToPlain,
  STRING_SHAPE,
  type StructShape,
  structShape,
  widenShape,
} from "./value_shape.ts";
import type { ValueLayout } from "./value_layout.ts";

/** What {@linkcode ItemShapes} observed, as plain data. */
export interface PlainItemShapes {
  /** Some bbox has 6 values. */
  hasZ: boolean;
  /** Some item has a part that no column holds. */
  needsOverflow: boolean;
  /** The shapes of `stac_extensions`, `links`, `assets`. */
  core: PlainShape;
  /** The shape of the properties. */
  properties: PlainShape;
  /** Per datetime property, what its values allow. */
  datetimes: [string, PlainDatetimeChooser][];
}

/** The members of a link every link column has, in this order (as stac-geoparquet readers cast to). */
export const LINK_MEMBERS: readonly string[] = ["href", "rel", "type", "title"];

const GEOMETRY_KEYS = new Set(["type", "coordinates", "geometries"]);

/**
 * The members of a geometry that WKB does not hold (e.g. a `bbox`), or
 * `"all"` when a geometry of a collection has some (then the whole geometry
 * goes to the overflow).
 *
 * @param g The geometry.
 * @returns The extra members, `"all"`, or undefined when there are none.
 */
export function geometryExtras(g: GeoJSON): Record<string, unknown> | undefined | "all" {
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
 * Whether a bbox value fits the bbox column (4 numbers, or 6 in a 3D one).
 *
 * @param v The item's `bbox`.
 * @param hasZ Whether the column is 3D.
 * @returns True when the column holds it.
 */
export function bboxFits(v: unknown, hasZ: boolean): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === "number") &&
    (v.length === 4 || (v.length === 6 && hasZ));
}

/**
 * The shapes observed of a stream of items (see the module doc). Widened
 * from parsed items here, and from NDJSON bytes by `observeItemLine`.
 *
 * @example
 * ```ts
 * import { ItemShapes } from "./item_shapes.ts";
 * import { equal } from "node:assert/strict";
 * const shapes = new ItemShapes();
 * shapes.observe({ type: "Feature", stac_version: "1.0.0", id: "a", geometry: null,
 *   properties: { n: 1 }, links: [], assets: {}, foreign: true });
 * equal(shapes.properties.names.join(), "n");
 * equal(shapes.needsOverflow, true);
 * ```
 */
export class ItemShapes {
  /** Some bbox has 6 values. */
  hasZ = false;
  /** Some item has a part that no column holds. */
  needsOverflow = false;
  /** `stac_extensions`, `links` and `assets`. */
  readonly core: StructShape = structShape([
    ["stac_extensions", { kind: "list", element: STRING_SHAPE }],
    ["links", { kind: "list", element: structShape(LINK_MEMBERS) }],
    ["assets", NULL_SHAPE],
  ]);
  /** Every property, first seen first. */
  readonly properties: StructShape = structShape();
  /** Per datetime property, what its values allow. */
  readonly datetimes = new Map<string, DatetimeFormatChooser>();
  /** Layouts of columns another writer declared, for properties never seen with a value. */
  readonly declared = new Map<string, ValueLayout>();

  /**
   * The format chooser of a datetime property.
   *
   * @param name The property.
   * @returns Its chooser.
   */
  datetime(name: string): DatetimeFormatChooser {
    let chooser = this.datetimes.get(name);
    if (!chooser) this.datetimes.set(name, chooser = new DatetimeFormatChooser());
    return chooser;
  }

  /**
   * Declares a property column (e.g. one of another writer's schema): it is
   * kept, in this order, even when it never has a value, with `layout` then.
   *
   * @param name The property.
   * @param layout Its layout when no value is seen.
   */
  declare(name: string, layout: ValueLayout): void {
    if (NOT_PROPERTY_COLUMNS.has(name)) return;
    memberIndex(this.properties, name);
    this.declared.set(name, layout);
  }

  /**
   * Takes what another observation saw into account, as if its items came
   * after these (the parts of one stream observed apart, joined in order).
   *
   * @param other The other observation, as {@linkcode ItemShapes.toPlain} data.
   */
  merge(other: PlainItemShapes): void {
    this.hasZ ||= other.hasZ;
    this.needsOverflow ||= other.needsOverflow;
    joinShapes(this.core, shapeFromPlain(other.core));
    joinShapes(this.properties, shapeFromPlain(other.properties));
    for (const [name, chooser] of other.datetimes) this.datetime(name).merge(chooser);
  }

  /**
   * What was observed as plain data (to pass it between threads; declared
   * columns are not part of it).
   *
   * @returns Plain data.
   */
  toPlain(): PlainItemShapes {
    return {
      hasZ: this.hasZ,
      needsOverflow: this.needsOverflow,
      core: shapeToPlain(this.core),
      properties: shapeToPlain(this.properties),
      datetimes: [...this.datetimes].map(([name, chooser]) => [name, chooser.toPlain()]),
    };
  }

  /**
   * Takes one parsed item into account.
   *
   * @param item The item.
   */
  observe(item: StacItem): void {
    for (const key in item) {
      if (key !== "type" && key !== "properties" && !CORE_COLUMN_NAMES.has(key)) {
        this.needsOverflow = true;
      }
    }
    for (const name of STRING_CORE_COLUMNS) {
      const v = item[name];
      if (v !== null && v !== undefined && typeof v !== "string") this.needsOverflow = true;
    }
    const bbox = item.bbox;
    if (Array.isArray(bbox) && bbox.length === 6) this.hasZ = true;
    if (bbox !== null && bbox !== undefined && !bboxFits(bbox, true)) this.needsOverflow = true;
    const g = item.geometry;
    if (
      g !== null && g !== undefined && (geometryExtras(g) !== undefined || !geometryToWkb(g))
    ) this.needsOverflow = true;
    const core = this.core;
    for (let j = 0; j < core.names.length; j++) {
      core.fields[j] = widenShape(core.fields[j]!, item[core.names[j]!]);
    }
    const props = item.properties;
    if (props === undefined) this.needsOverflow = true;
    const properties = this.properties;
    for (const key in props) {
      if (NOT_PROPERTY_COLUMNS.has(key)) {
        this.needsOverflow = true;
        continue;
      }
      const v = props[key];
      const j = memberIndex(properties, key);
      properties.fields[j] = widenShape(properties.fields[j]!, v);
      if (DATETIME_PROPERTIES.has(key)) this.datetime(key).add(v);
    }
  }
}
