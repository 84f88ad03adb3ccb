/**
 * JSON text exactly as Python's `json.dumps` writes it with its defaults
 * (`", "` and `": "` separators, every non-ASCII character escaped), for
 * output a Python tool's users compare byte for byte: stacpkg's OCI
 * manifests, its `asset-lock validate` lines (`sort_keys=True`).
 *
 * @module
 */

/** Options of {@linkcode pythonJson}. */
export interface PythonJsonOptions {
  /** Object keys in code-unit order, as `json.dumps(sort_keys=True)`. @default false */
  sortKeys?: boolean | undefined;
}

function pythonString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += "\\\\";
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x09) out += "\\t";
    else if (c === 0x08) out += "\\b";
    else if (c === 0x0c) out += "\\f";
    else if (c < 0x20 || c > 0x7e) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else out += text[i];
  }
  return out + '"';
}

/**
 * JSON text as Python's `json.dumps(value)` writes it with its defaults.
 *
 * @example
 * ```ts
 * import { pythonJson } from "./python_json.ts";
 * import { equal } from "node:assert/strict";
 * equal(pythonJson({ b: [1, "ü"], a: {} }), '{"b": [1, "\\u00fc"], "a": {}}');
 * equal(pythonJson({ b: true, a: null }, { sortKeys: true }), '{"a": null, "b": true}');
 * ```
 *
 * @param value Objects, arrays, strings, safe integers, booleans, null
 *   (`undefined` members are left out).
 * @param options Key order.
 * @returns The text.
 * @throws {RangeError} For a number that is not a safe integer.
 */
export function pythonJson(value: unknown, options: PythonJsonOptions = {}): string {
  if (value === null) return "null";
  if (typeof value === "string") return pythonString(value);
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) {
      throw new RangeError(`Invalid JSON number ${value}: expected an integer`);
    }
    return String(value);
  }
  if (typeof value === "boolean") return value ? "true" : "false";
  if (Array.isArray(value)) return `[${value.map((v) => pythonJson(v, options)).join(", ")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) =>
      v !== undefined
    );
    if (options.sortKeys) entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${
      entries.map(([k, v]) => `${pythonString(k)}: ${pythonJson(v, options)}`).join(", ")
    }}`;
  }
  throw new TypeError(`Invalid JSON value of type ${typeof value}`);
}

/**
 * JSON text as Python's `json.dumps(value, indent=2, sort_keys=True)`
 * writes it: keys sorted at every level, two-space indents, non-ASCII
 * escaped (stacpkg's `inspect --format json`).
 *
 * @example
 * ```ts
 * import { pythonJsonIndented } from "./python_json.ts";
 * import { equal } from "node:assert/strict";
 * equal(pythonJsonIndented({ b: ["ü"], a: {} }), '{\n  "a": {},\n  "b": [\n    "\\u00fc"\n  ]\n}');
 * ```
 *
 * @param value A JSON value.
 * @returns The text, without a final newline.
 */
export function pythonJsonIndented(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
  }, 2).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
