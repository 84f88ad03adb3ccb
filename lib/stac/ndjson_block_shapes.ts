/**
 * The shapes of the items of one block of NDJSON lines (a part of a file cut
 * after a newline), read from their bytes; the lines the byte reader does
 * not take are parsed. Runs on the main thread or in a worker (no Arrow
 * here), so that a file's blocks can be read on two cores and their shapes
 * joined in order.
 *
 * @module
 */
import { ItemShapes, type PlainItemShapes } from "./item_shapes.ts";
import { observeItemLine } from "./item_line_shapes.ts";
import { confirmItemLine } from "./item_line_fit.ts";
import { itemFilter, type ItemFilters, parseNdjsonLine } from "./json_input.ts";
import { StacInputError } from "./item.ts";

/** What to read a block with. */
export interface NdjsonBlockOptions {
  /** The input's name in errors. */
  source: string;
  /** The number of the block's first line (1-based). */
  firstLine: number;
  /** Keep only the items that pass (each kept line is parsed then). */
  filters?: ItemFilters | undefined;
}

/** The shapes of a block's items and its number of lines, or the first bad line (its text without the position). */
export type NdjsonBlockShapes =
  | { shapes: PlainItemShapes; lines: number }
  | { error: { line: number; message: string } };

/**
 * The shapes of the items of a block of NDJSON lines.
 *
 * @example
 * ```ts
 * import { observeNdjsonBlock } from "./ndjson_block_shapes.ts";
 * import { deepEqual } from "node:assert/strict";
 * const block = new TextEncoder().encode('{"type":"Feature","id":"a","geometry":null,"properties":{"n":1}}\n{"type":\n');
 * deepEqual(observeNdjsonBlock(block, { source: "x.ndjson", firstLine: 5 }), {
 *   error: { line: 6, message: "Invalid JSON: Unexpected end of JSON input" },
 * });
 * ```
 *
 * @param block Whole lines (the last one may lack its newline).
 * @param options Source name, first line number, filters.
 * @returns The shapes, or the first bad line.
 */
export function observeNdjsonBlock(
  block: Uint8Array,
  options: NdjsonBlockOptions,
): NdjsonBlockShapes {
  const shapes = new ItemShapes();
  const keep = itemFilter(options.filters);
  let line = options.firstLine;
  try {
    for (let start = 0; start < block.length; line++) {
      if (keep === undefined) {
        const end = confirmItemLine(shapes, block, start);
        if (end >= 0) {
          start = end + 1;
          continue;
        }
      }
      let end = block.indexOf(0x0a, start);
      if (end < 0) end = block.length;
      const bytes = block.subarray(start, end);
      start = end + 1;
      if (keep === undefined && observeItemLine(shapes, bytes)) continue;
      const item = parseNdjsonLine(bytes, { source: options.source, line });
      if (item !== undefined && (keep === undefined || keep(item))) shapes.observe(item);
    }
  } catch (error) {
    if (!(error instanceof StacInputError) || error.line === undefined) throw error;
    const prefix = `${error.source}:${error.line}: `;
    const message = error.message.startsWith(prefix)
      ? error.message.slice(prefix.length)
      : error.message;
    return { error: { line: error.line, message } };
  }
  return { shapes: shapes.toPlain(), lines: line - options.firstLine };
}
