/**
 * How the values of one column (or nested field) are stored in Arrow: the
 * layout chosen for a {@linkcode ValueShape}, its Arrow type and field, and
 * the layout read back from a field this module wrote.
 *
 * @module
 */
import * as arrow from "apache-arrow";
import type { DatetimeFormat } from "./datetime.ts";
import { DATETIME_FORMAT_KEY, JSON_ENCODING_KEY } from "./item_layout.ts";
import type { ValueShape } from "./value_shape.ts";

/**
 * How the values of one column (or nested field) are stored: booleans,
 * int64, float64, strings, JSON text, UTC microsecond timestamps (written
 * back as text in `format`), a list of one element layout or a struct of
 * named field layouts; `null` for a column of another writer that holds
 * nothing but nulls (Arrow's `null` type).
 */
export type ValueLayout =
  | { kind: "null" | "bool" | "int" | "float" | "string" | "json" }
  | { kind: "timestamp"; format: DatetimeFormat }
  | { kind: "list"; element: ValueLayout }
  | { kind: "struct"; fields: [string, ValueLayout][]; fieldNames: Set<string> };

/** Strings (also the layout of a column of nulls only). */
export const STRING_LAYOUT: ValueLayout = { kind: "string" };
/** 64-bit signed integers. */
export const INT_LAYOUT: ValueLayout = { kind: "int" };
/** JSON text: values of any kind. */
export const JSON_LAYOUT: ValueLayout = { kind: "json" };
/** Nothing but nulls (Arrow's `null` type). */
export const NULL_LAYOUT: ValueLayout = { kind: "null" };
/** Doubles. */
export const FLOAT_LAYOUT: ValueLayout = { kind: "float" };

/**
 * Lists and structs nested deeper than this are JSON text: the Parquet
 * writer fails on very deep Arrow types ("Dyn casting error" at ~64 levels).
 */
const MAX_NESTING = 32;

/**
 * The layout of the values of a shape.
 *
 * @example
 * ```ts
 * import { layoutOfShape } from "./value_layout.ts";
 * import { NULL_SHAPE, widenShape } from "./value_shape.ts";
 * import { equal } from "node:assert/strict";
 * equal(layoutOfShape(widenShape(NULL_SHAPE, [1, 2])).kind, "list");
 * equal(layoutOfShape(widenShape(NULL_SHAPE, {})).kind, "json");
 * ```
 *
 * @param shape The shape of the values.
 * @param depth How deep the values are nested.
 * @returns The layout.
 */
export function layoutOfShape(shape: ValueShape, depth = 0): ValueLayout {
  if (depth >= MAX_NESTING && (shape.kind === "list" || shape.kind === "struct")) {
    return JSON_LAYOUT;
  }
  switch (shape.kind) {
    case "null":
    case "string":
      return STRING_LAYOUT;
    case "bool":
      return { kind: "bool" };
    case "int":
      return INT_LAYOUT;
    case "float":
      return FLOAT_LAYOUT;
    case "mixed":
      return JSON_LAYOUT;
    case "list":
      return { kind: "list", element: layoutOfShape(shape.element, depth + 1) };
    case "struct": {
      if (shape.names.length === 0) return JSON_LAYOUT;
      const fields: [string, ValueLayout][] = shape.names.map((name, j) => [
        name,
        layoutOfShape(shape.fields[j]!, depth + 1),
      ]);
      return { kind: "struct", fields, fieldNames: new Set(shape.names) };
    }
  }
}

/**
 * The Arrow type of a layout.
 *
 * @param layout The layout.
 * @returns The type.
 */
export function arrowTypeOf(layout: ValueLayout): arrow.DataType {
  switch (layout.kind) {
    case "null":
      return new arrow.Null();
    case "bool":
      return new arrow.Bool();
    case "int":
      return new arrow.Int64();
    case "float":
      return new arrow.Float64();
    case "string":
    case "json":
      return new arrow.Utf8();
    case "timestamp":
      return new arrow.TimestampMicrosecond("UTC");
    case "list":
      return new arrow.List(arrowFieldOf("element", layout.element));
    case "struct":
      return new arrow.Struct(layout.fields.map(([n, c]) => arrowFieldOf(n, c)));
  }
}

/**
 * The Arrow field of a layout: nullable, with the metadata that tells JSON
 * text and a timestamp's text format.
 *
 * @example
 * ```ts
 * import { arrowFieldOf, layoutOfField } from "./value_layout.ts";
 * import { deepEqual } from "node:assert/strict";
 * const layout = { kind: "timestamp" as const, format: "ms" as const };
 * deepEqual(layoutOfField(arrowFieldOf("datetime", layout)), layout);
 * ```
 *
 * @param name The field name.
 * @param layout The layout.
 * @returns The field.
 */
export function arrowFieldOf(name: string, layout: ValueLayout): arrow.Field {
  const meta = new Map<string, string>();
  if (layout.kind === "json") meta.set(JSON_ENCODING_KEY, "json");
  if (layout.kind === "timestamp") meta.set(DATETIME_FORMAT_KEY, layout.format);
  return new arrow.Field(name, arrowTypeOf(layout), true, meta);
}

/**
 * The layout of a field written by {@linkcode arrowFieldOf}.
 *
 * @param field The field.
 * @returns The layout, or undefined for a type no layout writes.
 */
export function layoutOfField(field: arrow.Field): ValueLayout | undefined {
  if (field.metadata.get(JSON_ENCODING_KEY) === "json") return JSON_LAYOUT;
  const t = field.type;
  switch (t.typeId) {
    case arrow.Type.Null:
      return NULL_LAYOUT;
    case arrow.Type.Bool:
      return { kind: "bool" };
    case arrow.Type.Int:
      return (t as arrow.Int).bitWidth === 64 && (t as arrow.Int).isSigned ? INT_LAYOUT : undefined;
    case arrow.Type.Float:
      return (t as arrow.Float).precision === arrow.Precision.DOUBLE ? FLOAT_LAYOUT : undefined;
    case arrow.Type.Utf8:
      return STRING_LAYOUT;
    case arrow.Type.Timestamp: {
      const format = field.metadata.get(DATETIME_FORMAT_KEY) ?? "auto";
      return (t as arrow.Timestamp).unit === arrow.TimeUnit.MICROSECOND
        ? { kind: "timestamp", format: format as DatetimeFormat }
        : undefined;
    }
    case arrow.Type.List: {
      const element = layoutOfField((t as arrow.List).children[0]!);
      return element ? { kind: "list", element } : undefined;
    }
    case arrow.Type.Struct: {
      const fields: [string, ValueLayout][] = [];
      for (const child of (t as arrow.Struct).children) {
        const layout = layoutOfField(child);
        if (!layout) return undefined;
        fields.push([child.name, layout]);
      }
      return { kind: "struct", fields, fieldNames: new Set(fields.map(([n]) => n)) };
    }
    default:
      return undefined;
  }
}

/**
 * The layout that holds what any Arrow field decodes to (see
 * `decodeColumn`): the field's own layout when this module wrote it, else
 * the nearest one (any integer as int64, any float or decimal as float64,
 * timestamps of any unit as microseconds, dates as text, dictionaries as
 * their values, other types as JSON text).
 *
 * @example
 * ```ts
 * import * as arrow from "apache-arrow";
 * import { layoutOfAnyField } from "./value_layout.ts";
 * import { equal } from "node:assert/strict";
 * equal(layoutOfAnyField(new arrow.Field("n", new arrow.Int32())).kind, "int");
 * equal(layoutOfAnyField(new arrow.Field("t", new arrow.TimestampNanosecond())).kind, "timestamp");
 * ```
 *
 * @param field The field.
 * @returns The layout.
 */
export function layoutOfAnyField(field: arrow.Field): ValueLayout {
  const own = layoutOfField(field);
  if (own) return own;
  const t = field.type;
  switch (t.typeId) {
    case arrow.Type.Int:
      return INT_LAYOUT;
    case arrow.Type.Float:
    case arrow.Type.Decimal:
      return FLOAT_LAYOUT;
    case arrow.Type.Utf8:
    case arrow.Type.LargeUtf8:
    case arrow.Type.Date:
      return STRING_LAYOUT;
    case arrow.Type.Timestamp:
      return { kind: "timestamp", format: "auto" };
    case arrow.Type.List:
    case arrow.Type.FixedSizeList:
      return { kind: "list", element: layoutOfAnyField((t as arrow.List).children[0]!) };
    case arrow.Type.Struct: {
      const children = (t as arrow.Struct).children;
      if (children.length === 0) return JSON_LAYOUT;
      const fields: [string, ValueLayout][] = children.map((c) => [c.name, layoutOfAnyField(c)]);
      return { kind: "struct", fields, fieldNames: new Set(fields.map(([n]) => n)) };
    }
    case arrow.Type.Dictionary:
      return layoutOfAnyField(
        new arrow.Field(field.name, (t as arrow.Dictionary).dictionary, true, field.metadata),
      );
    default:
      return JSON_LAYOUT;
  }
}
