/**
 * Lock rows as Arrow record batches and Arrow IPC streams, the form lock
 * commands exchange on pipes.
 *
 * @module
 */
import * as arrow from "apache-arrow";
import { recordBatchesToIpc } from "../arrow_ipc.ts";
import {
  LOCK_COLUMNS,
  LOCK_SCHEMA_METADATA,
  type LockRow,
  missingLockColumns,
  toLockRow,
} from "./schema.ts";

/**
 * The Arrow schema of a lock: strings everywhere, `size_bytes` int64,
 * `item_id` and `asset_key` not nullable, kind and version in the metadata.
 *
 * @returns The schema.
 */
export function lockArrowSchema(): arrow.Schema {
  const fields = LOCK_COLUMNS.map((name) =>
    new arrow.Field(
      name,
      name === "size_bytes" ? new arrow.Int64() : new arrow.Utf8(),
      name !== "item_id" && name !== "asset_key",
    )
  );
  return new arrow.Schema(fields, new Map(Object.entries(LOCK_SCHEMA_METADATA)));
}

/**
 * Lock rows as one record batch of the lock schema.
 *
 * @example Round trip through a record batch
 * ```ts
 * import { lockRowsFromRecordBatch, lockRowsToRecordBatch } from "./arrow.ts";
 * import { deepEqual } from "node:assert/strict";
 * const rows = [{
 *   item_id: "a", asset_key: "data", store_type: "file" as const, store_container: null,
 *   store_endpoint_url: null, key: "/d/a.tif", size_bytes: 3, etag: null,
 *   last_modified: null, checksum: null,
 * }];
 * deepEqual(lockRowsFromRecordBatch(lockRowsToRecordBatch(rows), 0), rows);
 * ```
 *
 * @param rows The rows.
 * @returns The batch.
 */
export function lockRowsToRecordBatch(rows: readonly LockRow[]): arrow.RecordBatch {
  const schema = lockArrowSchema();
  const length = rows.length;
  const itemId = new Utf8Builder(length);
  const assetKey = new Utf8Builder(length);
  const storeType = new Utf8Builder(length);
  const container = new Utf8Builder(length);
  const endpoint = new Utf8Builder(length);
  const key = new Utf8Builder(length);
  const size = new Array<number | null>(length);
  const etag = new Utf8Builder(length);
  const lastModified = new Utf8Builder(length);
  const checksum = new Utf8Builder(length);
  // One pass over the rows, each field read by name (no lookup by a
  // computed key per value).
  for (let i = 0; i < length; i++) {
    const row = rows[i]!;
    itemId.add(i, row.item_id);
    assetKey.add(i, row.asset_key);
    storeType.add(i, row.store_type);
    container.add(i, row.store_container);
    endpoint.add(i, row.store_endpoint_url);
    key.add(i, row.key);
    size[i] = row.size_bytes;
    etag.add(i, row.etag);
    lastModified.add(i, row.last_modified);
    checksum.add(i, row.checksum);
  }
  const columns: Record<(typeof LOCK_COLUMNS)[number], arrow.Data> = {
    item_id: itemId.finish("item_id"),
    asset_key: assetKey.finish("asset_key"),
    store_type: storeType.finish("store_type"),
    store_container: container.finish("store_container"),
    store_endpoint_url: endpoint.finish("store_endpoint_url"),
    key: key.finish("key"),
    size_bytes: int64Data(size),
    etag: etag.finish("etag"),
    last_modified: lastModified.finish("last_modified"),
    checksum: checksum.finish("checksum"),
  };
  const data = arrow.makeData({
    type: new arrow.Struct(schema.fields),
    length,
    nullCount: 0,
    children: LOCK_COLUMNS.map((name) => columns[name]),
  });
  return new arrow.RecordBatch(schema, data);
}

const encoder = new TextEncoder();

/** A validity bitmap with every bit set (rows `0..length-1` valid). */
function allValid(length: number): Uint8Array {
  return new Uint8Array((length + 7) >> 3).fill(255);
}

/**
 * One string column as Arrow `Utf8` data, built directly: the column's
 * strings joined and encoded at once, and encoded one by one only when
 * they are not all ASCII.
 */
class Utf8Builder {
  readonly #length: number;
  readonly #offsets: Int32Array;
  readonly #parts: string[] = [];
  #bitmap: Uint8Array | undefined;
  #nullCount = 0;
  #total = 0;

  constructor(length: number) {
    this.#length = length;
    this.#offsets = new Int32Array(length + 1);
  }

  /** Sets row `i` (rows are added in order). */
  add(i: number, value: string | null): void {
    if (value === null) {
      this.#bitmap ??= allValid(this.#length);
      this.#bitmap[i >> 3]! &= ~(1 << (i & 7));
      this.#nullCount++;
    } else {
      this.#parts.push(value);
      this.#total += value.length;
    }
    this.#offsets[i + 1] = this.#total;
  }

  finish(name: string): arrow.Data<arrow.Utf8> {
    const length = this.#length;
    const offsets = this.#offsets;
    const parts = this.#parts;
    let total = this.#total;
    // UTF-8 is one byte per UTF-16 unit exactly when every character is ASCII.
    let bytes = encoder.encode(parts.join(""));
    if (bytes.byteLength !== total) {
      const encoded = parts.map((part) => encoder.encode(part));
      const valid = this.#bitmap;
      total = 0;
      for (let i = 0, p = 0; i < length; i++) {
        if (!valid || (valid[i >> 3]! & (1 << (i & 7)))) total += encoded[p++]!.byteLength;
        offsets[i + 1] = total;
      }
      bytes = new Uint8Array(total);
      let at = 0;
      for (const part of encoded) {
        bytes.set(part, at);
        at += part.byteLength;
      }
    }
    if (total > 0x7fffffff) {
      throw new RangeError(`Column "${name}" of ${length} lock rows is too large: ${total} bytes`);
    }
    return arrow.makeData({
      type: new arrow.Utf8(),
      length,
      nullCount: this.#nullCount,
      nullBitmap: this.#bitmap ?? null,
      valueOffsets: offsets,
      data: bytes,
    });
  }
}

/** Whole numbers (or nulls) as Arrow `Int64` data. */
function int64Data(values: readonly (number | null)[]): arrow.Data<arrow.Int64> {
  const length = values.length;
  const out = new BigInt64Array(length);
  let bitmap: Uint8Array | undefined;
  let nullCount = 0;
  for (let i = 0; i < length; i++) {
    const value = values[i]!;
    if (value === null) {
      bitmap ??= allValid(length);
      bitmap[i >> 3]! &= ~(1 << (i & 7));
      nullCount++;
    } else {
      out[i] = BigInt(value);
    }
  }
  return arrow.makeData({
    type: new arrow.Int64(),
    length,
    nullCount,
    nullBitmap: bitmap ?? null,
    data: out,
  });
}

/**
 * The lock rows of a record batch written by ferry, stacpkg or any tool that
 * has the required columns; other columns are dropped.
 *
 * @param batch The batch.
 * @param firstRow The number of rows before this batch (for error positions).
 * @param source What the batch came from, for errors.
 * @returns The rows.
 * @throws {SyntaxError} When a required column is missing or a value is bad.
 */
export function lockRowsFromRecordBatch(
  batch: arrow.RecordBatch,
  firstRow: number,
  source = "asset lock",
): LockRow[] {
  const names = batch.schema.fields.map((f) => f.name);
  const missing = missingLockColumns(names);
  if (missing.length > 0) {
    throw new SyntaxError(`Invalid ${source}: missing column(s) ${missing.join(", ")}`);
  }
  const columns = LOCK_COLUMNS.filter((c) => names.includes(c)).map((c) =>
    [c, batch.getChild(c)!] as const
  );
  const rows: LockRow[] = [];
  for (let i = 0; i < batch.numRows; i++) {
    const record: Record<string, unknown> = {};
    for (const [name, vector] of columns) record[name] = vector.get(i);
    try {
      rows.push(toLockRow(record, `row ${firstRow + i + 1}`));
    } catch (error) {
      throw new SyntaxError(`Invalid ${source}: ${(error as Error).message}`);
    }
  }
  return rows;
}

/**
 * Lock rows as an Arrow IPC stream (one record batch per input array).
 *
 * @param batches Arrays of rows.
 * @returns The IPC bytes.
 */
export function lockRowsToIpc(
  batches: AsyncIterable<LockRow[]> | Iterable<LockRow[]>,
): ReadableStream<Uint8Array> {
  // Pull-based: one batch is encoded per read, so a slow reader slows the
  // source, and a failing source errors the stream with its own error.
  return recordBatchesToIpc(lockArrowSchema(), recordBatchesOf(batches));
}

async function* recordBatchesOf(
  batches: AsyncIterable<LockRow[]> | Iterable<LockRow[]>,
): AsyncIterable<arrow.RecordBatch> {
  for await (const rows of batches) {
    if (rows.length > 0) yield lockRowsToRecordBatch(rows);
  }
}

/**
 * Reads lock rows from an Arrow IPC stream.
 *
 * @example Round trip through IPC
 * ```ts
 * import { lockRowsFromIpc, lockRowsToIpc } from "./arrow.ts";
 * import { equal } from "node:assert/strict";
 * const row = {
 *   item_id: "a", asset_key: "data", store_type: "memory" as const, store_container: "m",
 *   store_endpoint_url: null, key: "k", size_bytes: null, etag: null,
 *   last_modified: null, checksum: null,
 * };
 * let n = 0;
 * for await (const rows of lockRowsFromIpc(lockRowsToIpc([[row, row]]))) n += rows.length;
 * equal(n, 2);
 * ```
 *
 * @param stream IPC bytes.
 * @param source What the stream is, for errors. @default "asset lock on stdin"
 * @returns Arrays of rows, one per record batch.
 * @throws {SyntaxError} When the stream is not Arrow IPC or lacks lock columns.
 */
export async function* lockRowsFromIpc(
  stream: ReadableStream<Uint8Array>,
  source = "asset lock on stdin",
): AsyncIterable<LockRow[]> {
  let reader: arrow.AsyncRecordBatchStreamReader;
  try {
    reader = await arrow.RecordBatchReader.from(stream) as arrow.AsyncRecordBatchStreamReader;
    await reader.open();
  } catch (error) {
    throw new SyntaxError(
      `Invalid ${source}: not an Arrow IPC stream (${(error as Error).message})`,
    );
  }
  let seen = 0;
  let checked = false;
  for await (const batch of reader) {
    if (!checked) {
      const missing = missingLockColumns(batch.schema.fields.map((f) => f.name));
      if (missing.length > 0) {
        throw new SyntaxError(`Invalid ${source}: missing column(s) ${missing.join(", ")}`);
      }
      checked = true;
    }
    const rows = lockRowsFromRecordBatch(batch, seen, source);
    seen += rows.length;
    yield rows;
  }
  if (!checked && reader.schema) {
    const missing = missingLockColumns(reader.schema.fields.map((f) => f.name));
    if (missing.length > 0) {
      throw new SyntaxError(`Invalid ${source}: missing column(s) ${missing.join(", ")}`);
    }
  }
}
