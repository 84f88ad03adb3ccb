/**
 * `assets.lock.parquet`: writing lock rows as Parquet while they stream
 * (parquet-wasm, row group by row group), and reading a lock row group by
 * row group (hyparquet), tolerating stacpkg's locks.
 *
 * @module
 */
import * as arrow from "apache-arrow";
import { loadParquetWasm, type ParquetWasm } from "../parquet_wasm.ts";
import { type AsyncBuffer, parquetMetadataAsync, parquetReadObjects } from "hyparquet";
import { fileAsyncBuffer } from "../_file_buffer.ts";
import { compressors } from "hyparquet-compressors";
import { lockArrowSchema, lockRowsToRecordBatch } from "./arrow.ts";
import { DropFooterKeysStream } from "./_parquet_footer.ts";
import { LOCK_COLUMNS, LOCK_SCHEMA_METADATA, type LockRow, missingLockColumns } from "./schema.ts";
import { toLockRow } from "./schema.ts";
import { failureGuard } from "../failure_guard.ts";

/** Options of {@linkcode writeLockParquet}. */
export interface WriteLockParquetOptions {
  /** Rows per row group. @default 65536 */
  rowGroupSize?: number | undefined;
  /** Write column statistics (min/max). @default true */
  statistics?: boolean | undefined;
}

/**
 * Lock rows handed to parquet-wasm at once (its memory never shrinks, so
 * what it is given at a time stays small whatever the caller's batches).
 */
const WASM_SLICE_ROWS = 16384;

/** What parquet-wasm adds to every footer and a lock does not carry. */
const ARROW_SCHEMA_KEY = "ARROW:schema";

/**
 * Writes lock rows as Parquet to `sink`, streaming: each row group goes out
 * when it is full, so memory holds at most one row group. Strings are UTF8
 * byte arrays, `size_bytes` int64, `item_id` and `asset_key` required, Snappy
 * pages, the kind and version in the key-value metadata (and nothing else
 * there).
 *
 * @example Writing and reading back in memory
 * ```ts
 * import { readLockParquet, writeLockParquet } from "./parquet.ts";
 * import { equal } from "node:assert/strict";
 * const row = {
 *   item_id: "a", asset_key: "data", store_type: "file" as const, store_container: null,
 *   store_endpoint_url: null, key: "/x.tif", size_bytes: 5, etag: "e",
 *   last_modified: "2024-01-01T00:00:00.000Z", checksum: null,
 * };
 * const parts: Uint8Array<ArrayBuffer>[] = [];
 * const sink = new WritableStream<Uint8Array>({ write(c) { parts.push(c.slice()); } });
 * const { rows } = await writeLockParquet([[row, row]], sink);
 * equal(rows, 2);
 * const bytes = new Uint8Array(await new Blob(parts).arrayBuffer());
 * let n = 0;
 * for await (const batch of readLockParquet(bytes)) n += batch.length;
 * equal(n, 2);
 * ```
 *
 * @param batches Arrays of rows.
 * @param sink Where the bytes go; closed at the end, aborted on error.
 * @param options Row group size, statistics.
 * @returns The number of rows written.
 * @throws {RangeError} For a row group size that is not a positive integer.
 */
export async function writeLockParquet(
  batches: AsyncIterable<LockRow[]> | Iterable<LockRow[]>,
  sink: WritableStream<Uint8Array>,
  options: WriteLockParquetOptions = {},
): Promise<{ rows: number }> {
  const rowGroupSize = options.rowGroupSize ?? 65536;
  if (!Number.isSafeInteger(rowGroupSize) || rowGroupSize < 1) {
    throw new RangeError(`Invalid row group size ${rowGroupSize}: expected a positive integer`);
  }
  const pw = await loadParquetWasm();
  const schema = lockArrowSchema();
  const iterator = (async function* () {
    yield* batches;
  })();
  let rows = 0;
  // parquet-wasm ends the file quietly when its input stream fails: the
  // failure is kept here and thrown instead of the file.
  let failure: { error: unknown } | undefined;
  const failed = (): { error: unknown } | undefined => failure;
  const pending: ParquetWasm.RecordBatch[] = [];
  /** The next wasm batches of the input, or false at its end. */
  const fill = async (): Promise<boolean> => {
    while (pending.length === 0) {
      const next = await iterator.next();
      if (next.done) return false;
      rows += next.value.length;
      pending.push(...toWasmBatches(pw, next.value, schema));
    }
    return true;
  };
  let more: boolean;
  try {
    more = await fill();
  } catch (error) {
    await sink.abort(error).catch(() => {});
    throw error;
  }
  // Made only now: parquet-wasm's key-value metadata is a hash map whose
  // order follows how many were made before, and a writer started at the
  // same time (build's items.parquet) makes its own first, as before.
  const props = new pw.WriterPropertiesBuilder()
    .setCompression(pw.Compression.SNAPPY)
    .setMaxRowGroupSize(rowGroupSize)
    .setStatisticsEnabled(
      options.statistics ?? true ? pw.EnabledStatistics.Chunk : pw.EnabledStatistics.None,
    )
    .setCreatedBy("ferry")
    .setKeyValueMetadata(new Map(Object.entries(LOCK_SCHEMA_METADATA)))
    .build();
  let out: ReadableStream<Uint8Array>;
  if (!more) {
    // No batch: parquet-wasm takes the schema from an empty table.
    const empty = arrow.tableToIPC(new arrow.Table(schema), "stream");
    const table = pw.Table.fromIPCStream(empty);
    const bytes = pw.writeParquet(table, props);
    out = ReadableStream.from([bytes]);
  } else {
    const input = new ReadableStream<ParquetWasm.RecordBatch>({
      async pull(controller) {
        try {
          if (await fill()) controller.enqueue(pending.shift()!);
          else controller.close();
        } catch (error) {
          failure ??= { error };
          throw error;
        }
      },
      async cancel(reason) {
        await iterator.return?.(reason);
      },
    });
    out = await pw.transformParquetStream(input, props) as ReadableStream<Uint8Array>;
  }
  // A failure of the input while the file streams out: the sink gets the
  // failure, not a file that ends early.
  const guard = failureGuard(failed);
  try {
    await out.pipeThrough(guard).pipeThrough(new DropFooterKeysStream(new Set([ARROW_SCHEMA_KEY])))
      .pipeTo(sink);
  } catch (error) {
    throw failed()?.error ?? error;
  }
  const late = failed();
  if (late) throw late.error;
  return { rows };
}

/** Lock rows as parquet-wasm record batches of at most {@linkcode WASM_SLICE_ROWS} rows. */
function toWasmBatches(
  pw: typeof ParquetWasm,
  rows: readonly LockRow[],
  schema: arrow.Schema,
): ParquetWasm.RecordBatch[] {
  const out: ParquetWasm.RecordBatch[] = [];
  for (let start = 0; start < rows.length; start += WASM_SLICE_ROWS) {
    const slice = rows.length <= WASM_SLICE_ROWS
      ? rows
      : rows.slice(start, start + WASM_SLICE_ROWS);
    const ipc = arrow.tableToIPC(new arrow.Table(schema, [lockRowsToRecordBatch(slice)]), "stream");
    const table = pw.Table.fromIPCStream(ipc);
    // Copied into wasm memory: the serialization is freed at once.
    (ipc.buffer as ArrayBuffer).transfer(0);
    try {
      out.push(...table.recordBatches());
    } finally {
      table.free();
    }
  }
  return out;
}

/**
 * Writes a lock to a local file atomically: a temporary file beside it,
 * renamed into place once complete.
 *
 * @param batches Arrays of rows.
 * @param path The destination path.
 * @param options Row group size.
 * @returns The number of rows written.
 */
export async function writeLockParquetFile(
  batches: AsyncIterable<LockRow[]> | Iterable<LockRow[]>,
  path: string,
  options: WriteLockParquetOptions = {},
): Promise<{ rows: number }> {
  const slash = path.lastIndexOf("/");
  const temp = `${slash === -1 ? "" : path.slice(0, slash + 1)}.${path.slice(slash + 1)}.${
    crypto.randomUUID().slice(0, 8)
  }.tmp`;
  const file = await Deno.open(temp, { write: true, createNew: true });
  try {
    const result = await writeLockParquet(batches, file.writable, options);
    await Deno.rename(temp, path);
    return result;
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}

/** Options of {@linkcode readLockParquet}. */
export interface ReadLockParquetOptions {
  /** The name used in errors. @default the path, or "asset lock" */
  name?: string | undefined;
  /** Rows per batch yielded, across row groups. @default one batch per row group */
  batchSize?: number | undefined;
}

/**
 * Reads a lock (ferry's or stacpkg's) row group by row group, or in batches
 * of `batchSize` rows. Unknown columns are dropped, missing optional ones are
 * null.
 *
 * @param source A file path, the bytes, or a Blob.
 * @param options Name for errors, batch size.
 * @returns Arrays of rows, one per row group (or per `batchSize` rows).
 * @throws {SyntaxError} For a file that is not Parquet, is truncated, lacks a
 *   required column, or has a bad row (named by its number, from 1).
 * @throws {RangeError} For a batch size that is not a positive integer.
 */
export async function* readLockParquet(
  source: string | Uint8Array | Blob,
  options: ReadLockParquetOptions = {},
): AsyncIterable<LockRow[]> {
  const name = options.name ?? (typeof source === "string" ? source : "asset lock");
  const { batchSize } = options;
  if (batchSize !== undefined && (!Number.isSafeInteger(batchSize) || batchSize < 1)) {
    throw new RangeError(`Invalid batch size ${batchSize}: expected a positive integer`);
  }
  const bad = (why: string) => new SyntaxError(`Invalid asset lock "${name}": ${why}`);
  let file: Deno.FsFile | undefined;
  try {
    let buffer: AsyncBuffer;
    if (typeof source === "string") {
      file = await Deno.open(source);
      buffer = await fileAsyncBuffer(file);
    } else if (source instanceof Uint8Array) {
      const copy = source.slice();
      buffer = copy.buffer as ArrayBuffer;
    } else {
      buffer = { byteLength: source.size, slice: (s, e) => source.slice(s, e).arrayBuffer() };
    }
    let metadata;
    try {
      metadata = await parquetMetadataAsync(buffer);
    } catch (error) {
      throw bad(`not a Parquet file or truncated (${(error as Error).message})`);
    }
    const names = metadata.schema.slice(1).map((e) => e.name);
    const missing = missingLockColumns(names);
    if (missing.length > 0) throw bad(`missing column(s) ${missing.join(", ")}`);
    const columns = LOCK_COLUMNS.filter((c) => names.includes(c));
    const ends: number[] = [];
    if (batchSize === undefined) {
      let end = 0;
      for (const group of metadata.row_groups) ends.push(end += Number(group.num_rows));
    } else {
      const total = Number(metadata.num_rows);
      for (let end = batchSize; end - batchSize < total; end += batchSize) {
        ends.push(Math.min(end, total));
      }
    }
    let start = 0;
    for (const end of ends) {
      let records: Record<string, unknown>[];
      try {
        records = await parquetReadObjects({
          file: buffer,
          metadata,
          columns,
          rowStart: start,
          rowEnd: end,
          compressors,
        });
      } catch (error) {
        throw bad(`rows ${start + 1}-${end} cannot be read (${(error as Error).message})`);
      }
      const rows: LockRow[] = [];
      for (let i = 0; i < records.length; i++) {
        try {
          rows.push(toLockRow(records[i]!, `row ${start + i + 1}`));
        } catch (error) {
          throw bad((error as Error).message);
        }
      }
      start = end;
      yield rows;
    }
  } finally {
    file?.close();
  }
}

/**
 * Every row of a lock, collected. For small locks and tests.
 *
 * @param source A file path, the bytes, or a Blob.
 * @param options Name for errors.
 * @returns The rows.
 */
export async function readLockParquetRows(
  source: string | Uint8Array | Blob,
  options: ReadLockParquetOptions = {},
): Promise<LockRow[]> {
  const out: LockRow[] = [];
  for await (const rows of readLockParquet(source, options)) out.push(...rows);
  return out;
}
