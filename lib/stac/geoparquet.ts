/**
 * Writing stac-geoparquet files: streamed in row groups through parquet-wasm
 * (`transformParquetStream`) with the `geo` (GeoParquet 1.1, bbox covering)
 * and `stac-geoparquet` metadata, in the file's key-value metadata and in
 * the Arrow schema it embeds. Reading is in `geoparquet_read.ts`.
 *
 * @module
 */
import * as arrow from "apache-arrow";
import { loadParquetWasm, type ParquetWasm } from "../parquet_wasm.ts";
import { STAC_GEOPARQUET_KEY, STAC_GEOPARQUET_VERSION } from "./item_layout.ts";
import { ipcStreamOfBatch, itemsToRecordBatches, releaseIpcBatch } from "./ipc.ts";
import { itemsRecordBatchesOf } from "./foreign_items.ts";
import type { StacItem } from "./item.ts";
import { wkbTypeName } from "./wkb.ts";
import { failureGuard } from "../failure_guard.ts";

/** Options of the Parquet writers. */
export interface WriteParquetOptions {
  /** Rows per row group. @default 64000 */
  rowGroupSize?: number;
  /**
   * The batches are not used by anyone once written: free the memory of
   * batches read by `readIpcBatches` right away (see `releaseIpcBatch`).
   * @default false
   */
  releaseBatches?: boolean;
}

/** Rows per row group unless told otherwise. */
export const DEFAULT_ROW_GROUP_SIZE = 64000;

interface GeoStats {
  types: Set<string>;
  bbox: number[];
}

function geoStats(batch: arrow.RecordBatch, stats: GeoStats): void {
  const geometry = batch.getChild("geometry");
  if (geometry) {
    for (let i = 0; i < batch.numRows; i++) {
      const wkb = geometry.get(i) as Uint8Array | null;
      if (wkb) {
        const name = wkbTypeName(wkb);
        if (name) stats.types.add(name);
      }
    }
  }
  const bbox = batch.getChild("bbox");
  if (bbox && arrow.DataType.isStruct(bbox.type)) {
    const [xmin, ymin, xmax, ymax] = ["xmin", "ymin", "xmax", "ymax"].map((n) =>
      (bbox as arrow.Vector<arrow.Struct>).getChild(n)
    );
    if (!xmin || !ymin || !xmax || !ymax) return;
    for (let i = 0; i < batch.numRows; i++) {
      if (!bbox.isValid(i)) continue;
      let west = xmin.get(i);
      let east = xmax.get(i);
      // Crossing the antimeridian (west > east, as STAC and GeoParquet
      // write it): the file's box spans every longitude.
      if (west > east) [west, east] = [-180, 180];
      stats.bbox[0] = Math.min(stats.bbox[0]!, west);
      stats.bbox[1] = Math.min(stats.bbox[1]!, ymin.get(i));
      stats.bbox[2] = Math.max(stats.bbox[2]!, east);
      stats.bbox[3] = Math.max(stats.bbox[3]!, ymax.get(i));
    }
  }
}

/**
 * The GeoParquet 1.1 `geo` metadata for a schema.
 *
 * @param schema The Arrow schema (with a `geometry` column and a struct `bbox`).
 * @param stats Geometry types and bbox when known for the whole file.
 * @returns The metadata object.
 */
export function geoMetadata(schema: arrow.Schema, stats?: GeoStats): Record<string, unknown> {
  const column: Record<string, unknown> = {
    encoding: "WKB",
    geometry_types: stats ? [...stats.types].sort() : [],
  };
  if (stats && Number.isFinite(stats.bbox[0])) column.bbox = stats.bbox;
  const bbox = schema.fields.find((f) => f.name === "bbox");
  if (bbox && arrow.DataType.isStruct(bbox.type)) {
    column.covering = {
      bbox: {
        xmin: ["bbox", "xmin"],
        ymin: ["bbox", "ymin"],
        xmax: ["bbox", "xmax"],
        ymax: ["bbox", "ymax"],
      },
    };
  }
  return { version: "1.1.0", primary_column: "geometry", columns: { geometry: column } };
}

/**
 * Rows handed to parquet-wasm at once. Its memory never shrinks and large
 * inputs of varying size fragment it: with batches of 64000 NAIP items
 * (~150 MiB each) a writer's memory kept growing with the item count, with
 * slices of this size it stays flat.
 */
const WASM_SLICE_ROWS = 8192;

/**
 * The batch with the file's metadata (`geo`, `stac-geoparquet`) in its Arrow
 * schema: the writer embeds that schema in the file (`ARROW:schema`), which
 * is where Arrow readers (pyarrow) take the schema metadata from.
 */
function withFileMetadata(
  batch: ParquetWasm.RecordBatch,
  metadata: Map<string, string>,
): ParquetWasm.RecordBatch {
  const schema = batch.schema;
  const merged = new Map([...schema.metadata(), ...metadata]);
  const withMetadata = schema.withMetadata(merged);
  schema.free();
  try {
    return batch.withSchema(withMetadata);
  } finally {
    batch.free();
  }
}

function toWasmBatches(
  pw: typeof ParquetWasm,
  batch: arrow.RecordBatch,
  schema: arrow.Schema,
): ParquetWasm.RecordBatch[] {
  if (batch.numRows > WASM_SLICE_ROWS) {
    const out: ParquetWasm.RecordBatch[] = [];
    for (let start = 0; start < batch.numRows; start += WASM_SLICE_ROWS) {
      const slice = batch.slice(start, Math.min(batch.numRows, start + WASM_SLICE_ROWS));
      out.push(...toWasmBatches(pw, slice, schema));
    }
    return out;
  }
  // A batch read from an IPC stream hands on its own bytes: no second encode.
  const own = ipcStreamOfBatch(batch, schema);
  const bytes = own ?? arrow.tableToIPC(new arrow.Table(schema, [batch]), "stream");
  const table = pw.Table.fromIPCStream(bytes);
  // Copied into wasm memory: a serialization of our own is freed at once.
  if (!own) (bytes.buffer as ArrayBuffer).transfer(0);
  try {
    return table.recordBatches();
  } finally {
    // Freed now, not whenever a JS garbage collection gets to it: until then
    // the wasm memory of every batch so far stays taken.
    table.free();
  }
}

/**
 * Writes Arrow record batches of one schema as a stac-geoparquet file,
 * streamed: row groups go to `sink` as they fill, so memory does not grow
 * with the number of rows. The `geo` metadata names the geometry types and
 * bbox of the file when the input is a single batch; with more batches they
 * are not known when the writer starts and `geometry_types` is `[]`
 * ("unknown", as GeoParquet allows) without a file bbox.
 *
 * @param schema The schema of every batch.
 * @param batches The batches.
 * @param sink Where the file's bytes go (closed at the end, aborted on error).
 * @param options Row group size.
 * @returns The number of rows written.
 */
export async function writeRecordBatchesParquet(
  schema: arrow.Schema,
  batches: AsyncIterable<arrow.RecordBatch>,
  sink: WritableStream<Uint8Array>,
  options: WriteParquetOptions = {},
): Promise<{ rows: number }> {
  const rowGroupSize = options.rowGroupSize ?? DEFAULT_ROW_GROUP_SIZE;
  if (!Number.isInteger(rowGroupSize) || rowGroupSize < 1) {
    throw new RangeError(`Invalid row group size ${rowGroupSize}: expected a positive integer`);
  }
  const pw = await loadParquetWasm();
  const iterator = batches[Symbol.asyncIterator]();
  const pending: arrow.RecordBatch[] = [];
  let done = false;
  while (pending.length < 2) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    if (next.value.numRows > 0) pending.push(next.value);
  }
  let stats: GeoStats | undefined;
  if (done) {
    stats = { types: new Set(), bbox: [Infinity, Infinity, -Infinity, -Infinity] };
    for (const b of pending) geoStats(b, stats);
  }
  const stacMeta = schema.metadata.get(STAC_GEOPARQUET_KEY) ??
    JSON.stringify({ version: STAC_GEOPARQUET_VERSION });
  const fileMetadata = new Map([
    ["geo", JSON.stringify(geoMetadata(schema, stats))],
    [STAC_GEOPARQUET_KEY, stacMeta],
  ]);
  const props = new pw.WriterPropertiesBuilder()
    .setCompression(pw.Compression.ZSTD)
    .setMaxRowGroupSize(rowGroupSize)
    .setKeyValueMetadata(fileMetadata)
    .build();
  let rows = 0;
  const queue: ParquetWasm.RecordBatch[] = [];
  // parquet-wasm ends the file quietly when its input stream fails: the
  // failure is kept here and thrown once the writer is done.
  let failure: { error: unknown } | undefined;
  const failed = (): { error: unknown } | undefined => failure;
  const wasmBatches = new ReadableStream<ParquetWasm.RecordBatch>({
    async pull(controller) {
      try {
        while (queue.length === 0) {
          let batch = pending.shift();
          if (!batch && !done) {
            const next = await iterator.next();
            if (next.done) done = true;
            else batch = next.value;
          }
          if (!batch) {
            controller.close();
            return;
          }
          rows += batch.numRows;
          if (batch.numRows > 0) {
            for (const wasmBatch of toWasmBatches(pw, batch, schema)) {
              queue.push(withFileMetadata(wasmBatch, fileMetadata));
            }
          }
          if (options.releaseBatches) releaseIpcBatch(batch);
        }
        controller.enqueue(queue.shift()!);
      } catch (error) {
        failure ??= { error };
        throw error;
      }
    },
    async cancel(reason) {
      await iterator.return?.(reason);
    },
  });
  // The empty file still needs a schema: parquet-wasm writes it from the first batch.
  if (pending.length === 0 && done) {
    const withMetadata = new arrow.Schema(
      schema.fields,
      new Map([...schema.metadata, ...fileMetadata]),
    );
    const empty = arrow.tableToIPC(new arrow.Table(withMetadata), "stream");
    const bytes = pw.writeParquet(pw.Table.fromIPCStream(empty), props);
    const writer = sink.getWriter();
    await writer.write(bytes);
    await writer.close();
    return { rows: 0 };
  }
  const out = await pw.transformParquetStream(wasmBatches, props);
  if (failure) {
    await (out as ReadableStream<Uint8Array>).cancel().catch(() => {});
    await sink.abort(failure.error).catch(() => {});
    throw failure.error;
  }
  // A failure while the file streams out: stop and report it, not the file.
  const guard = failureGuard(failed);
  try {
    await (out as ReadableStream<Uint8Array>).pipeThrough(guard).pipeTo(sink);
  } catch (error) {
    throw failed()?.error ?? error;
  }
  const late = failed();
  if (late) throw late.error;
  return { rows };
}

/**
 * Writes batches of items as a stac-geoparquet file, streamed in row groups.
 * The schema comes from the first batch; see `item_layout.ts` for how items
 * of other shapes are kept.
 *
 * @example Writing and reading back in memory
 * ```ts
 * import { writeItemsParquet } from "./geoparquet.ts";
 * import { readItemsParquet } from "./geoparquet_read.ts";
 * import { equal } from "node:assert/strict";
 * const item = { type: "Feature" as const, stac_version: "1.0.0", id: "a",
 *   geometry: { type: "Point" as const, coordinates: [1, 2] }, bbox: [1, 2, 1, 2],
 *   properties: { datetime: "2020-01-01T00:00:00Z" }, links: [], assets: {} };
 * async function* batches() { yield [item]; }
 * const chunks: Uint8Array[] = [];
 * const { rows } = await writeItemsParquet(batches(), new WritableStream({ write(c) { chunks.push(c); } }));
 * equal(rows, 1);
 * const bytes = new Uint8Array(await new Blob(chunks as Uint8Array<ArrayBuffer>[]).arrayBuffer());
 * const back = (await Array.fromAsync(readItemsParquet(bytes))).flat();
 * equal(back[0]!.properties.datetime, "2020-01-01T00:00:00Z");
 * ```
 *
 * @param batches Batches of items.
 * @param sink Where the bytes go.
 * @param options Row group size.
 * @returns The number of rows written.
 */
export async function writeItemsParquet(
  batches: AsyncIterable<StacItem[]>,
  sink: WritableStream<Uint8Array>,
  options: WriteParquetOptions = {},
): Promise<{ rows: number }> {
  const { schema, batches: records } = await itemsToRecordBatches(batches);
  return writeRecordBatchesParquet(schema, records, sink, options);
}

/**
 * Writes record batches that may come from anywhere (e.g. an IPC stream from
 * another tool) as stac-geoparquet: batches in ferry's layout pass through;
 * others are decoded into items and encoded again with every column they
 * have (see `itemsRecordBatchesOf`).
 *
 * @param schema The schema of the batches.
 * @param batches The batches.
 * @param sink Where the bytes go.
 * @param options Row group size.
 * @returns The number of rows written.
 * @throws {RangeError} When the batches are not a table of items.
 */
export async function writeArrowAsItemsParquet(
  schema: arrow.Schema,
  batches: AsyncIterable<arrow.RecordBatch>,
  sink: WritableStream<Uint8Array>,
  options: WriteParquetOptions = {},
): Promise<{ rows: number }> {
  let records;
  try {
    records = await itemsRecordBatchesOf(schema, batches);
  } catch (error) {
    await sink.abort(error).catch(() => {});
    throw error;
  }
  return writeRecordBatchesParquet(records.schema, records.batches, sink, options);
}
