/**
 * The shape of the JSON values seen in one column: the narrowest of `null`,
 * `bool`, `int` (safe integers), `float`, `string`, a list of one element
 * shape, or a struct of named field shapes, that holds every value seen so
 * far; `mixed` when values of different kinds were seen.
 *
 * @module
 */
/** The shape of the values of one column (or nested field) seen so far. */
export type ValueShape =
  | { kind: "null" | "bool" | "int" | "float" | "string" | "mixed" }
  | { kind: "list"; element: ValueShape }
  | { kind: "struct"; fields: Map<string, ValueShape> };

/** No value but nulls seen yet. */
export const NULL_SHAPE: ValueShape = { kind: "null" };
/** Booleans. */
export const BOOL_SHAPE: ValueShape = { kind: "bool" };
/** Safe integers. */
export const INT_SHAPE: ValueShape = { kind: "int" };
/** Numbers, not all safe integers. */
export const FLOAT_SHAPE: ValueShape = { kind: "float" };
/** Strings. */
export const STRING_SHAPE: ValueShape = { kind: "string" };
/** Values of different kinds. */
export const MIXED_SHAPE: ValueShape = { kind: "mixed" };

/**
 * The shape that holds `shape`'s values and `v` (list and struct shapes are
 * widened in place).
 *
 * @example
 * ```ts
 * import { NULL_SHAPE, widenShape } from "./value_shape.ts";
 * import { equal } from "node:assert/strict";
 * equal(widenShape(widenShape(NULL_SHAPE, 1), 1.5).kind, "float");
 * equal(widenShape(widenShape(NULL_SHAPE, 1), "x").kind, "mixed");
 * ```
 *
 * @param shape The shape so far.
 * @param v A parsed JSON value.
 * @returns The widened shape.
 */
export function widenShape(shape: ValueShape, v: unknown): ValueShape {
  if (v === null || v === undefined || shape.kind === "mixed") return shape;
  switch (typeof v) {
    case "boolean":
      return shape.kind === "null" || shape.kind === "bool" ? BOOL_SHAPE : MIXED_SHAPE;
    case "number":
      if (Number.isSafeInteger(v)) {
        return shape.kind === "null"
          ? INT_SHAPE
          : shape.kind === "int" || shape.kind === "float"
          ? shape
          : MIXED_SHAPE;
      }
      return shape.kind === "null" || shape.kind === "int" || shape.kind === "float"
        ? FLOAT_SHAPE
        : MIXED_SHAPE;
    case "string":
      return shape.kind === "null" || shape.kind === "string" ? STRING_SHAPE : MIXED_SHAPE;
    case "object": {
      if (Array.isArray(v)) {
        const list: ValueShape = shape.kind === "null"
          ? { kind: "list", element: NULL_SHAPE }
          : shape;
        if (list.kind !== "list") return MIXED_SHAPE;
        for (const x of v) list.element = widenShape(list.element, x);
        return list;
      }
      const struct: ValueShape = shape.kind === "null"
        ? { kind: "struct", fields: new Map() }
        : shape;
      if (struct.kind !== "struct") return MIXED_SHAPE;
      const o = v as Record<string, unknown>;
      for (const key in o) {
        struct.fields.set(key, widenShape(struct.fields.get(key) ?? NULL_SHAPE, o[key]));
      }
      return struct;
    }
    default:
      return MIXED_SHAPE;
  }
}
