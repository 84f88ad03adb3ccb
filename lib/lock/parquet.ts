/**
 * `assets.lock.parquet`: writing lock rows as Parquet while they stream
 * (hyparquet-writer, one row group per flush), and reading a lock row group by
 * row group (hyparquet), tolerating stacpkg's locks.
 *
 * @module
 */
import { ByteWriter, ParquetWriter } from "hyparquet-writer";
import { type AsyncBuffer, parquetMetadataAsync, parquetReadObjects } from "hyparquet";
import { fileAsyncBuffer } from "../_file_buffer.ts";
import { compressors } from "hyparquet-compressors";
import { LOCK_COLUMNS, LOCK_SCHEMA_METADATA, type LockRow, missingLockColumns } from "./schema.ts";
import { toLockRow } from "./schema.ts";

/** Options of {@linkcode writeLockParquet}. */
export interface WriteLockParquetOptions {
  /** Rows per row group. @default 65536 */
  rowGroupSize?: number | undefined;
  /** Write column statistics (min/max); off, the writer is about 3x faster. @default true */
  statistics?: boolean | undefined;
}

type SchemaElement = {
  name: string;
  type?: "BYTE_ARRAY" | "INT64";
  converted_type?: "UTF8";
  repetition_type?: "REQUIRED" | "OPTIONAL";
  num_children?: number;
};

function lockParquetSchema(): SchemaElement[] {
  return [
    { name: "schema", num_children: LOCK_COLUMNS.length },
    ...LOCK_COLUMNS.map((name): SchemaElement =>
      name === "size_bytes" ? { name, type: "INT64", repetition_type: "OPTIONAL" } : {
        name,
        type: "BYTE_ARRAY",
        converted_type: "UTF8",
        repetition_type: name === "item_id" || name === "asset_key" ? "REQUIRED" : "OPTIONAL",
      }
    ),
  ];
}

/**
 * Writes lock rows as Parquet to `sink`, streaming: each row group goes out
 * when it is full, so memory holds at most one row group.
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
 * @param options Row group size.
 * @returns The number of rows written.
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
  const out = sink.getWriter();
  const bytes = new ByteWriter();
  const drain = async () => {
    if (bytes.index === 0) return;
    const chunk = new Uint8Array(bytes.buffer, 0, bytes.index).slice();
    bytes.index = 0;
    await out.write(chunk);
  };
  Object.assign(bytes, { flush: drain, finish: drain });
  let rows = 0;
  try {
    const writer = new ParquetWriter({
      writer: bytes,
      // deno-lint-ignore no-explicit-any
      schema: lockParquetSchema() as any,
      kvMetadata: Object.entries(LOCK_SCHEMA_METADATA).map(([key, value]) => ({ key, value })),
      createdBy: "ferry",
      statistics: options.statistics ?? true,
    });
    let pending: LockRow[] = [];
    const flushGroup = async (group: LockRow[]) => {
      await writer.write({
        columnData: LOCK_COLUMNS.map((name) => ({
          name,
          data: group.map((row) =>
            name === "size_bytes" && row.size_bytes !== null ? BigInt(row.size_bytes) : row[name]
          ),
        })),
        rowGroupSize: group.length,
      });
      await drain();
    };
    for await (const batch of batches) {
      for (const row of batch) {
        pending.push(row);
        if (pending.length >= rowGroupSize) {
          const group = pending;
          pending = [];
          await flushGroup(group);
        }
      }
      rows += batch.length;
    }
    if (pending.length > 0) await flushGroup(pending);
    await writer.finish();
    await out.close();
  } catch (error) {
    await out.abort(error).catch(() => {});
    throw error;
  }
  return { rows };
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
}

/**
 * Reads a lock (ferry's or stacpkg's) row group by row group. Unknown columns
 * are dropped, missing optional ones are null.
 *
 * @param source A file path, the bytes, or a Blob.
 * @param options Name for errors.
 * @returns Arrays of rows, one per row group.
 * @throws {SyntaxError} For a file that is not Parquet, is truncated, lacks a
 *   required column, or has a bad row (named by its number, from 1).
 */
export async function* readLockParquet(
  source: string | Uint8Array | Blob,
  options: ReadLockParquetOptions = {},
): AsyncIterable<LockRow[]> {
  const name = options.name ?? (typeof source === "string" ? source : "asset lock");
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
    let start = 0;
    for (const group of metadata.row_groups) {
      const end = start + Number(group.num_rows);
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
