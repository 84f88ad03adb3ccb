/**
 * Whether a parsed JSON value fits a {@linkcode ValueLayout} as it is, and
 * splitting one that does not into the part that fits and the rest (what
 * goes to the overflow column).
 *
 * @module
 */
import { datetimeFits } from "./datetime.ts";
import { isPlainObject } from "./item_members.ts";
import type { ValueLayout } from "./value_layout.ts";

/** Whether a value fits one layout. */
export type FitCheck = (v: unknown) => boolean;
const fitChecks = new WeakMap<ValueLayout, FitCheck>();

/**
 * The check of whether a value fits a layout (closures made once per layout
 * instead of a switch per value). Null and undefined fit every layout.
 *
 * @example
 * ```ts
 * import { fitCheckOf } from "./value_fit.ts";
 * import { equal } from "node:assert/strict";
 * const fits = fitCheckOf({ kind: "list", element: { kind: "int" } });
 * equal(fits([1, 2]), true);
 * equal(fits([1.5]), false);
 * ```
 *
 * @param layout The layout.
 * @returns The check.
 */
export function fitCheckOf(layout: ValueLayout): FitCheck {
  let fit = fitChecks.get(layout);
  if (fit) return fit;
  switch (layout.kind) {
    case "null":
      fit = (v) => v === null || v === undefined;
      break;
    case "bool":
      fit = (v) => v === null || v === undefined || typeof v === "boolean";
      break;
    case "int":
      fit = (v) => v === null || v === undefined || Number.isSafeInteger(v);
      break;
    case "float":
      fit = (v) => v === null || v === undefined || typeof v === "number";
      break;
    case "string":
      fit = (v) => v === null || v === undefined || typeof v === "string";
      break;
    case "json":
      fit = () => true;
      break;
    case "timestamp": {
      const format = layout.format;
      fit = (v) =>
        v === null || v === undefined ||
        (typeof v === "string" && datetimeFits(v, format) !== undefined);
      break;
    }
    case "list": {
      const element = fitCheckOf(layout.element);
      fit = (v) => {
        if (v === null || v === undefined) return true;
        if (!Array.isArray(v)) return false;
        for (let i = 0; i < v.length; i++) if (!element(v[i])) return false;
        return true;
      };
      break;
    }
    case "struct": {
      const names = layout.fields.map(([name]) => name);
      const children = layout.fields.map(([, c]) => fitCheckOf(c));
      const count = names.length;
      const known = layout.fieldNames;
      fit = (v) => {
        if (v === null || v === undefined) return true;
        if (!isPlainObject(v)) return false;
        let present = 0;
        for (let j = 0; j < count; j++) {
          const x = v[names[j]!];
          if (x !== undefined) {
            present++;
            if (!children[j]!(x)) return false;
          }
        }
        // No key outside the layout: as many keys as layout fields present
        // (the usual case), else look at each key.
        let keys = 0;
        for (const _ in v) keys++;
        if (keys === present) return true;
        for (const key in v) if (!known.has(key)) return false;
        return true;
      };
      break;
    }
  }
  fitChecks.set(layout, fit);
  return fit;
}

/**
 * Splits a value into the part that fits a layout and the rest (undefined
 * when all of it fits). A struct keeps the fields that fit; anything else
 * that does not fit is all rest.
 *
 * @example
 * ```ts
 * import { splitToFit } from "./value_fit.ts";
 * import { deepEqual } from "node:assert/strict";
 * const layout = { kind: "struct" as const, fields: [["a", { kind: "int" as const }]] as [string, { kind: "int" }][], fieldNames: new Set(["a"]) };
 * deepEqual(splitToFit({ a: 1, b: 2 }, layout), { value: { a: 1 }, rest: { b: 2 } });
 * ```
 *
 * @param v The value.
 * @param layout The layout.
 * @returns The fitting part and the rest.
 */
export function splitToFit(v: unknown, layout: ValueLayout): { value: unknown; rest?: unknown } {
  if (fitCheckOf(layout)(v)) return { value: v };
  if (layout.kind !== "struct" || !isPlainObject(v)) return { value: null, rest: v };
  const value: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  let any = false;
  for (const key in v) {
    if (!layout.fieldNames.has(key)) {
      rest[key] = v[key];
      any = true;
    }
  }
  for (const [name, field] of layout.fields) {
    const part = splitToFit(v[name], field);
    value[name] = part.value;
    if (part.rest !== undefined) {
      rest[name] = part.rest;
      any = true;
    }
  }
  return any ? { value, rest } : { value };
}
