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
  | StructShape;

/**
 * Objects: each member's shape, in the order members were first seen. Kept
 * as arrays (with the names as UTF-8 too) so that a byte reader finds a
 * member without decoding its name.
 */
export interface StructShape {
  kind: "struct";
  /** Member names, first seen first. */
  names: string[];
  /** The names as UTF-8. */
  utf8Names: Uint8Array[];
  /** Each member's shape. */
  fields: ValueShape[];
  /** The index of each name. */
  indexOf: Map<string, number>;
}

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

const utf8 = new TextEncoder();

/**
 * A struct shape with these members (null shapes unless given).
 *
 * @param members Names, or names and shapes.
 * @returns The shape.
 */
export function structShape(members: readonly (string | [string, ValueShape])[] = []): StructShape {
  const struct: StructShape = {
    kind: "struct",
    names: [],
    utf8Names: [],
    fields: [],
    indexOf: new Map(),
  };
  for (const member of members) {
    const [name, shape] = typeof member === "string" ? [member, NULL_SHAPE] : member;
    struct.fields[memberIndex(struct, name)] = shape;
  }
  return struct;
}

/**
 * The index of a member of a struct shape, added (with a null shape) when new.
 *
 * @param struct The struct shape.
 * @param name The member name.
 * @returns Its index.
 */
export function memberIndex(struct: StructShape, name: string): number {
  let j = struct.indexOf.get(name);
  if (j === undefined) {
    j = struct.names.length;
    struct.names.push(name);
    struct.utf8Names.push(utf8.encode(name));
    struct.fields.push(NULL_SHAPE);
    struct.indexOf.set(name, j);
  }
  return j;
}

/**
 * The shape of a scalar joined with a kind of scalar seen.
 *
 * @param shape The shape so far.
 * @param seen The shape of the value seen (a scalar shape constant).
 * @returns The joined shape.
 */
export function joinScalar(shape: ValueShape, seen: ValueShape): ValueShape {
  const kind = shape.kind;
  if (kind === "null" || kind === seen.kind) return seen;
  if (kind === "mixed") return shape;
  // Integers and other numbers join into numbers.
  if (kind === "int" && seen.kind === "float") return FLOAT_SHAPE;
  if (kind === "float" && seen.kind === "int") return shape;
  return MIXED_SHAPE;
}

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
      return joinScalar(shape, BOOL_SHAPE);
    case "number":
      return joinScalar(shape, Number.isSafeInteger(v) ? INT_SHAPE : FLOAT_SHAPE);
    case "string":
      return joinScalar(shape, STRING_SHAPE);
    case "object": {
      if (Array.isArray(v)) {
        const list: ValueShape = shape.kind === "null"
          ? { kind: "list", element: NULL_SHAPE }
          : shape;
        if (list.kind !== "list") return MIXED_SHAPE;
        for (const x of v) list.element = widenShape(list.element, x);
        return list;
      }
      const struct: ValueShape = shape.kind === "null" ? structShape() : shape;
      if (struct.kind !== "struct") return MIXED_SHAPE;
      const o = v as Record<string, unknown>;
      for (const key in o) {
        const j = memberIndex(struct, key);
        struct.fields[j] = widenShape(struct.fields[j]!, o[key]);
      }
      return struct;
    }
    default:
      return MIXED_SHAPE;
  }
}

/** A shape as plain data (to pass it between threads). */
export type PlainShape = ValueShape["kind"] | ["list", PlainShape] | [
  "struct",
  string[],
  PlainShape[],
];

const SCALARS: Record<string, ValueShape> = {
  null: NULL_SHAPE,
  bool: BOOL_SHAPE,
  int: INT_SHAPE,
  float: FLOAT_SHAPE,
  string: STRING_SHAPE,
  mixed: MIXED_SHAPE,
};

/**
 * A shape as plain data.
 *
 * @example
 * ```ts
 * import { NULL_SHAPE, shapeFromPlain, shapeToPlain, widenShape } from "./value_shape.ts";
 * import { deepEqual } from "node:assert/strict";
 * const shape = widenShape(NULL_SHAPE, { a: [1, 2.5] });
 * deepEqual(shapeToPlain(shape), ["struct", ["a"], [["list", "float"]]]);
 * deepEqual(shapeFromPlain(shapeToPlain(shape)), shape);
 * ```
 *
 * @param shape The shape.
 * @returns Plain data.
 */
export function shapeToPlain(shape: ValueShape): PlainShape {
  if (shape.kind === "list") return ["list", shapeToPlain(shape.element)];
  if (shape.kind === "struct") return ["struct", shape.names, shape.fields.map(shapeToPlain)];
  return shape.kind;
}

/**
 * The shape of plain data made by {@linkcode shapeToPlain}.
 *
 * @param plain Plain data.
 * @returns The shape.
 */
export function shapeFromPlain(plain: PlainShape): ValueShape {
  if (typeof plain === "string") return SCALARS[plain] ?? MIXED_SHAPE;
  if (plain[0] === "list") return { kind: "list", element: shapeFromPlain(plain[1]) };
  return structShape(plain[1].map((name, j) => [name, shapeFromPlain(plain[2][j]!)]));
}

/**
 * The shape that holds the values of both shapes (`a` widened in place, its
 * members first): the shape of values seen in one part of a stream joined
 * with the shape of the next part is the shape of both parts.
 *
 * @example
 * ```ts
 * import { joinShapes, NULL_SHAPE, widenShape } from "./value_shape.ts";
 * import { deepEqual } from "node:assert/strict";
 * const a = widenShape(NULL_SHAPE, { x: 1 });
 * const b = widenShape(NULL_SHAPE, { y: "t", x: 1.5 });
 * deepEqual(joinShapes(a, b), widenShape(widenShape(NULL_SHAPE, { x: 1 }), { y: "t", x: 1.5 }));
 * ```
 *
 * @param a One shape (changed).
 * @param b The other.
 * @returns The joined shape.
 */
export function joinShapes(a: ValueShape, b: ValueShape): ValueShape {
  if (b.kind === "null" || a.kind === "mixed") return a;
  if (a.kind === "null") return b;
  if (b.kind === "mixed") return MIXED_SHAPE;
  if (a.kind === "list" || b.kind === "list") {
    if (a.kind !== "list" || b.kind !== "list") return MIXED_SHAPE;
    a.element = joinShapes(a.element, b.element);
    return a;
  }
  if (a.kind === "struct" || b.kind === "struct") {
    if (a.kind !== "struct" || b.kind !== "struct") return MIXED_SHAPE;
    b.names.forEach((name, k) => {
      const j = memberIndex(a, name);
      a.fields[j] = joinShapes(a.fields[j]!, b.fields[k]!);
    });
    return a;
  }
  return joinScalar(a, b);
}
