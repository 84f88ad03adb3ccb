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
  // One pass over the rows, each field read by name (no lookup by a
  // computed key per value), into one array per column.
  const itemId = new Array<string>(length);
  const assetKey = new Array<string>(length);
  const storeType = new Array<string>(length);
  const container = new Array<string | null>(length);
  const endpoint = new Array<string | null>(length);
  const key = new Array<string>(length);
  const size = new Array<number | null>(length);
  const etag = new Array<string | null>(length);
  const lastModified = new Array<string | null>(length);
  const checksum = new Array<string | null>(length);
  for (let i = 0; i < length; i++) {
    const row = rows[i]!;
    itemId[i] = row.item_id;
    assetKey[i] = row.asset_key;
    storeType[i] = row.store_type;
    container[i] = row.store_container;
    endpoint[i] = row.store_endpoint_url;
    key[i] = row.key;
    size[i] = row.size_bytes;
    etag[i] = row.etag;
    lastModified[i] = row.last_modified;
    checksum[i] = row.checksum;
  }
  const columns: Record<(typeof LOCK_COLUMNS)[number], arrow.Data> = {
    item_id: utf8Data(itemId, "item_id"),
    asset_key: utf8Data(assetKey, "asset_key"),
    store_type: utf8Data(storeType, "store_type"),
    store_container: utf8Data(container, "store_container"),
    store_endpoint_url: utf8Data(endpoint, "store_endpoint_url"),
    key: utf8Data(key, "key"),
    size_bytes: int64Data(size),
    etag: utf8Data(etag, "etag"),
    last_modified: utf8Data(lastModified, "last_modified"),
    checksum: utf8Data(checksum, "checksum"),
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
function utf8Data(values: readonly (string | null)[], name: string): arrow.Data<arrow.Utf8> {
  const length = values.length;
  const offsets = new Int32Array(length + 1);
  const parts: string[] = [];
  let bitmap: Uint8Array | undefined;
  let nullCount = 0;
  let total = 0;
  for (let i = 0; i < length; i++) {
    const value = values[i]!;
    if (value === null) {
      bitmap ??= allValid(length);
      bitmap[i >> 3]! &= ~(1 << (i & 7));
      nullCount++;
    } else {
      parts.push(value);
      total += value.length;
    }
    offsets[i + 1] = total;
  }
  // UTF-8 is one byte per UTF-16 unit exactly when every character is ASCII.
  let bytes = encoder.encode(parts.join(""));
  if (bytes.byteLength !== total) {
    const encoded = parts.map((part) => encoder.encode(part));
    total = 0;
    for (let i = 0, p = 0; i < length; i++) {
      if (values[i] !== null) total += encoded[p++]!.byteLength;
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
    nullCount,
    nullBitmap: bitmap ?? null,
    valueOffsets: offsets,
    data: bytes,
  });
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
