/**
 * The terminal preview of a stream of record batches: the first rows as a
 * text table and the line `N rows x M columns (showing first 20)`.
 *
 * @module
 */
import * as arrow from "apache-arrow";

/** Rows shown in a preview. */
export const PREVIEW_ROWS = 20;
const CELL_WIDTH = 24;
const LINE_WIDTH = 200;

function cellText(value: unknown, type: arrow.DataType): string {
  if (value === null || value === undefined) return "";
  if (arrow.DataType.isTimestamp(type) && typeof value === "number") {
    return new Date(value).toISOString();
  }
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  if (typeof value === "bigint") return String(value);
  if (typeof value === "object") {
    const json = (value as { toJSON?: () => unknown }).toJSON?.() ?? value;
    return JSON.stringify(json, (_k, v) => (typeof v === "bigint" ? Number(v) : v));
  }
  return String(value);
}

function clip(text: string, width: number): string {
  const flat = text.replace(/\s+/g, " ");
  return flat.length <= width ? flat.padEnd(width) : flat.slice(0, width - 1) + "…";
}

/** Collects the first rows and the counts of a stream of record batches. */
export class Preview {
  #schema: arrow.Schema | undefined;
  #rows: string[][] = [];
  #total = 0;
  readonly #limit: number;

  /** @param limit Rows to keep. @default 20 */
  constructor(limit: number = PREVIEW_ROWS) {
    this.#limit = limit;
  }

  /**
   * Adds a batch.
   *
   * @param batch The batch.
   */
  add(batch: arrow.RecordBatch): void {
    this.#schema ??= batch.schema;
    for (let i = 0; i < batch.numRows && this.#rows.length < this.#limit; i++) {
      this.#rows.push(
        batch.schema.fields.map((f, j) => cellText(batch.getChildAt(j)?.get(i), f.type)),
      );
    }
    this.#total += batch.numRows;
  }

  /**
   * Sets the schema (for a stream without batches).
   *
   * @param schema The schema.
   */
  setSchema(schema: arrow.Schema): void {
    this.#schema ??= schema;
  }

  /**
   * The preview text.
   *
   * @example
   * ```ts
   * import * as arrow from "apache-arrow";
   * import { Preview } from "./preview.ts";
   * import { match } from "node:assert/strict";
   * const p = new Preview();
   * for (const b of arrow.tableFromArrays({ id: ["a", "b"] }).batches) p.add(b);
   * match(p.render(), /^2 rows x 1 columns \(showing first 20\)$/m);
   * ```
   *
   * @returns Header, rows and the count line, newline-terminated.
   */
  render(): string {
    const names = this.#schema?.fields.map((f) => f.name) ?? [];
    const line = (cells: string[]) => {
      const text = cells.map((c) => clip(c, CELL_WIDTH)).join(" │ ").trimEnd();
      return text.length <= LINE_WIDTH ? text : text.slice(0, LINE_WIDTH - 1) + "…";
    };
    const out = [line(names), line(names.map(() => "─".repeat(CELL_WIDTH)))];
    for (const row of this.#rows) out.push(line(row));
    out.push(
      `${this.#total} rows x ${names.length} columns (showing first ${
        Math.min(this.#limit, PREVIEW_ROWS)
      })`,
    );
    return out.join("\n") + "\n";
  }
}
