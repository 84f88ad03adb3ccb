/**
 * Reading Parquet files of STAC Items, streamed in batches: ferry's and the
 * reference implementation's stac-geoparquet, and tables other tools write
 * from STAC JSON (DuckDB's `read_ndjson`: the geometry a GeoJSON struct, the
 * properties in one struct, JSON-typed columns for values of mixed kinds).
 *
 * @module
 */
import * as arrow from "apache-arrow";
import { loadParquetWasm, type ParquetWasm } from "../parquet_wasm.ts";
import { type AsyncBuffer, parquetMetadataAsync, parquetSchema, type SchemaTree } from "hyparquet";
import { openAsBlob } from "node:fs";
import {
  isFerrySchema,
  JSON_ENCODING_KEY,
  OVERFLOW_COLUMN,
  stacGeoparquetExtras,
} from "./item_layout.ts";
import { ItemsEncoder, ItemsSchemaInference } from "./items_encoder.ts";
import { decodeItemsBatch, itemsSchemaProblem } from "./items_decoder.ts";
import { itemFilter, type ItemFilters } from "./json_input.ts";
import { StacInputError, type StacItem } from "./item.ts";
import { DEFAULT_ROW_GROUP_SIZE } from "./geoparquet.ts";

/** Options of {@linkcode readItemsParquet}. */
export interface ReadParquetOptions {
  /** Rows per yielded batch. @default 64000 */
  batchSize?: number;
  /** The source name for errors. @default the path, or "parquet" */
  source?: string;
}

async function openParquet(
  source: Blob | Uint8Array | string,
  name: string,
): Promise<{ file: ParquetWasm.ParquetFile; blob: Blob }> {
  let blob: Blob;
  if (typeof source === "string") blob = await openAsBlob(source);
  else if (source instanceof Uint8Array) blob = new Blob([source as Uint8Array<ArrayBuffer>]);
  else blob = source;
  if (blob.size < 12) {
    throw new StacInputError(`Not a Parquet file (${blob.size} bytes)`, { source: name });
  }
  try {
    const pw = await loadParquetWasm();
    return { file: await pw.ParquetFile.fromFile(blob), blob };
  } catch (error) {
    throw new StacInputError(
      `Not a Parquet file or truncated (${error instanceof Error ? error.message : error})`,
      { source: name },
      { cause: error },
    );
  }
}

/** A Parquet leaf of JSON text (logical or converted type `JSON`). */
function isJsonLeaf(node: SchemaTree): boolean {
  const e = node.element;
  return node.children.length === 0 &&
    (e.logical_type?.type === "JSON" || e.converted_type === "JSON");
}

/**
 * The Arrow field with `ferry:encoding = json` on every string leaf that the
 * Parquet schema stores as JSON text (the Arrow schema a Parquet reader gives
 * does not say), so that decoding parses them; the same field when none.
 */
function markJsonLeaves(field: arrow.Field, node: SchemaTree): arrow.Field {
  const t = field.type;
  if (node.children.length === 0) {
    if (!isJsonLeaf(node) || !arrow.DataType.isUtf8(t)) return field;
    const metadata = new Map([...field.metadata, [JSON_ENCODING_KEY, "json"]]);
    return new arrow.Field(field.name, t, field.nullable, metadata);
  }
  if (arrow.DataType.isList(t)) {
    // A LIST group holds one repeated group holding the element (or, in old
    // files, the repeated element itself).
    const repeated = node.children[0]!;
    const element = repeated.children.length === 1 ? repeated.children[0]! : repeated;
    const child = t.children[0]!;
    const marked = markJsonLeaves(child, element);
    return marked === child
      ? field
      : new arrow.Field(field.name, new arrow.List(marked), field.nullable, field.metadata);
  }
  if (arrow.DataType.isStruct(t) && t.children.length === node.children.length) {
    const children = t.children.map((c, k) => markJsonLeaves(c, node.children[k]!));
    return children.every((c, k) => c === t.children[k])
      ? field
      : new arrow.Field(field.name, new arrow.Struct(children), field.nullable, field.metadata);
  }
  return field;
}

/**
 * The file's Arrow schema, its JSON text leaves marked (see
 * {@linkcode markJsonLeaves}); `marked` when there are some.
 */
async function arrowSchemaOf(
  file: ParquetWasm.ParquetFile,
  blob: Blob,
): Promise<{ schema: arrow.Schema; marked: boolean }> {
  const schema = arrow.tableFromIPC(file.schema().intoIPCStream()).schema;
  if (isFerrySchema(schema)) return { schema, marked: false };
  const buffer: AsyncBuffer = {
    byteLength: blob.size,
    slice: (start, end) => blob.slice(start, end).arrayBuffer(),
  };
  const tree = parquetSchema(await parquetMetadataAsync(buffer));
  if (tree.children.length !== schema.fields.length) return { schema, marked: false };
  const fields = schema.fields.map((f, j) => markJsonLeaves(f, tree.children[j]!));
  return fields.every((f, j) => f === schema.fields[j])
    ? { schema, marked: false }
    : { schema: new arrow.Schema(fields, schema.metadata), marked: true };
}

/** The same data with another type of the same layout (only field metadata differs). */
function retyped(data: arrow.Data, type: arrow.DataType): arrow.Data {
  if (data.type === type) return data;
  const children = data.children.map((c, k) => retyped(c, type.children[k]!.type));
  return new arrow.Data(type, data.offset, data.length, data.nullCount, data.buffers, children);
}

/**
 * Reads a Parquet file's record batches as Arrow JS batches, streamed. The
 * string leaves a file of another writer stores as JSON text carry
 * `ferry:encoding = json`.
 *
 * @example
 * ```ts
 * import * as arrow from "apache-arrow";
 * import * as pw from "parquet-wasm";
 * import { readParquetBatches } from "./geoparquet_read.ts";
 * import { equal } from "node:assert/strict";
 * const ipc = arrow.tableToIPC(arrow.tableFromArrays({ x: new Float64Array([1, 2]) }), "stream");
 * const bytes = pw.writeParquet(pw.Table.fromIPCStream(ipc));
 * equal((await Array.fromAsync(readParquetBatches(bytes)))[0]!.numRows, 2);
 * ```
 *
 * @param source A path, a Blob or the bytes.
 * @param options Batch size and source name.
 * @returns Batches.
 * @throws {StacInputError} For a file that is not Parquet or is broken (naming the row).
 */
export async function* readParquetBatches(
  source: Blob | Uint8Array | string,
  options: ReadParquetOptions = {},
): AsyncIterable<arrow.RecordBatch> {
  const name = options.source ?? (typeof source === "string" ? source : "parquet");
  const { file, blob } = await openParquet(source, name);
  let row = 1;
  try {
    const { schema, marked } = await arrowSchemaOf(file, blob);
    const type = new arrow.Struct(schema.fields);
    const stream = await file.stream({ batchSize: options.batchSize ?? DEFAULT_ROW_GROUP_SIZE });
    for await (const wasmBatch of stream as ReadableStream<ParquetWasm.RecordBatch>) {
      const table = arrow.tableFromIPC(wasmBatch.intoIPCStream());
      for (const batch of table.batches) {
        yield marked
          ? new arrow.RecordBatch(schema, retyped(batch.data, type) as arrow.Data<arrow.Struct>)
          : batch;
        row += batch.numRows;
      }
    }
  } catch (error) {
    if (error instanceof StacInputError) throw error;
    throw new StacInputError(
      `Broken Parquet file (${error instanceof Error ? error.message : error})`,
      { source: name, row },
      { cause: error },
    );
  } finally {
    file.free();
  }
}

/**
 * The Arrow schema of a Parquet file (its JSON text leaves marked as in
 * {@linkcode readParquetBatches}).
 *
 * @param source A path, a Blob or the bytes.
 * @param options The source name for errors.
 * @returns The schema.
 * @throws {StacInputError} For a file that is not Parquet.
 */
export async function readParquetSchema(
  source: Blob | Uint8Array | string,
  options: { source?: string } = {},
): Promise<arrow.Schema> {
  const name = options.source ?? (typeof source === "string" ? source : "parquet");
  const { file, blob } = await openParquet(source, name);
  try {
    return (await arrowSchemaOf(file, blob)).schema;
  } catch (error) {
    throw new StacInputError(
      `Broken Parquet file (${error instanceof Error ? error.message : error})`,
      { source: name },
      { cause: error },
    );
  } finally {
    file.free();
  }
}

/**
 * Reads a file of STAC Items (ferry's or the reference implementation's
 * stac-geoparquet, or a table DuckDB wrote from STAC JSON) back into items,
 * streamed in batches. Null values become absent keys.
 *
 * @param source A path, a Blob or the bytes.
 * @param options Batch size and source name.
 * @returns Batches of items.
 * @throws {StacInputError} For a file that is not Parquet, truncated, or
 *   holds a value that cannot be an item part (naming the row).
 */
export async function* readItemsParquet(
  source: Blob | Uint8Array | string,
  options: ReadParquetOptions = {},
): AsyncIterable<StacItem[]> {
  const name = options.source ?? (typeof source === "string" ? source : "parquet");
  let row = 1;
  for await (const batch of readParquetBatches(source, options)) {
    try {
      yield decodeItemsBatch(batch);
    } catch (error) {
      throw new StacInputError(
        `Cannot read items (${error instanceof Error ? error.message : error})`,
        { source: name, row },
        { cause: error },
      );
    }
    row += batch.numRows;
  }
}

/** Options of {@linkcode readItemsParquetRecordBatches}. */
export interface ReadItemsParquetOptions extends ReadParquetOptions {
  /** Keep only the items that pass. */
  filters?: ItemFilters;
}

/**
 * Reads a file of STAC Items as record batches in ferry's layout, with a
 * schema that holds every item: a file ferry wrote passes as it is (its
 * items decoded only to filter them); any other file (another writer's, or
 * ferry's of before, with a `ferry:overflow` column) is read twice, once to
 * observe its items, once to encode them. Every column of the file is kept,
 * also one that holds nothing but nulls.
 *
 * @example
 * ```ts
 * import { writeItemsParquet } from "./geoparquet.ts";
 * import { readItemsParquetRecordBatches } from "./geoparquet_read.ts";
 * import { equal } from "node:assert/strict";
 * const item = { type: "Feature" as const, stac_version: "1.0.0", id: "a", geometry: null,
 *   properties: {}, links: [], assets: {} };
 * async function* items() { yield [item]; yield [{ ...item, id: "b", properties: { late: 1 } }]; }
 * const chunks: Uint8Array[] = [];
 * await writeItemsParquet(items(), new WritableStream({ write(c) { chunks.push(c); } }));
 * const bytes = new Uint8Array(await new Blob(chunks as Uint8Array<ArrayBuffer>[]).arrayBuffer());
 * const { schema } = await readItemsParquetRecordBatches(bytes);
 * equal(schema.fields.some((f) => f.name === "late"), true);
 * equal(schema.fields.some((f) => f.name === "ferry:overflow"), false);
 * ```
 *
 * @param source A path, a Blob or the bytes.
 * @param options Batch size, source name, filters.
 * @returns The schema and the batches.
 * @throws {StacInputError} For a file that is not Parquet or not a table of items.
 */
export async function readItemsParquetRecordBatches(
  source: Blob | Uint8Array | string,
  options: ReadItemsParquetOptions = {},
): Promise<{ schema: arrow.Schema; batches: AsyncIterable<arrow.RecordBatch> }> {
  const name = options.source ?? (typeof source === "string" ? source : "parquet");
  const read = { ...options, source: name };
  const schema = await readParquetSchema(source, read);
  const keep = itemFilter(options.filters);
  const complete = isFerrySchema(schema) && !schema.fields.some((c) => c.name === OVERFLOW_COLUMN);
  let encoder = complete ? ItemsEncoder.fromSchema(schema) : undefined;
  if (encoder && !keep) return { schema, batches: readParquetBatches(source, read) };
  if (!encoder) {
    const problem = itemsSchemaProblem(schema);
    if (problem) {
      throw new StacInputError(`Not a table of STAC items: ${problem}`, { source: name });
    }
    const inference = new ItemsSchemaInference();
    inference.declareColumns(schema);
    for await (const items of readItemsParquet(source, read)) {
      for (const item of items) if (keep === undefined || keep(item)) inference.observe(item);
    }
    encoder = inference.encoder({ complete: true, metadata: stacGeoparquetExtras(schema) });
  }
  const ready = encoder;
  async function* batches(): AsyncIterable<arrow.RecordBatch> {
    for await (const items of readItemsParquet(source, read)) {
      const kept = keep === undefined ? items : items.filter(keep);
      if (kept.length > 0) yield ready.encode(kept);
    }
  }
  return { schema: encoder.schema, batches: batches() };
}
