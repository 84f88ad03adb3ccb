/**
 * parquet-wasm, loaded on first use: compiling its module costs tens of MiB
 * of resident memory, which commands that never write (or read) Parquet
 * through it need not pay (relocate, validate, `items from-ndjson`).
 *
 * @module
 */
import type * as ParquetWasm from "parquet-wasm";

export type { ParquetWasm };

let loading: Promise<typeof ParquetWasm> | undefined;

/** @returns The parquet-wasm module, loaded once. */
export function loadParquetWasm(): Promise<typeof ParquetWasm> {
  return loading ??= import("parquet-wasm");
}
