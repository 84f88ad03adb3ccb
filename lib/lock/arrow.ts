/**
 * Lock rows as Arrow record batches and Arrow IPC streams, the form lock
 * commands exchange on pipes.
 *
 * @module
 */
import * as arrow from "apache-arrow";
import { recordBatchesToIpc } from "../arrow_ipc.ts";
import { appenderOf, Checkpoint } from "../stac/column_builders.ts";
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
  // The items' column appenders: strings joined and encoded a few thousand
  // at a time, nulls in a bitmap.
  const checkpoint = new Checkpoint();
  const text = () => appenderOf({ k: "str", conv: false }, new arrow.Utf8(), checkpoint);
  const itemId = text();
  const assetKey = text();
  const storeType = text();
  const container = text();
  const endpoint = text();
  const key = text();
  const size = appenderOf({ k: "int", conv: true }, new arrow.Int64(), checkpoint);
  const etag = text();
  const lastModified = text();
  const checksum = text();
  // One pass over the rows, each field read by name (no lookup by a
  // computed key per value).
  for (let i = 0; i < length; i++) {
    const row = rows[i]!;
    itemId.append(row.item_id);
    assetKey.append(row.asset_key);
    storeType.append(row.store_type);
    container.append(row.store_container);
    endpoint.append(row.store_endpoint_url);
    key.append(row.key);
    size.append(row.size_bytes);
    etag.append(row.etag);
    lastModified.append(row.last_modified);
    checksum.append(row.checksum);
  }
  const columns: Record<(typeof LOCK_COLUMNS)[number], arrow.Data> = {
    item_id: itemId.finish(),
    asset_key: assetKey.finish(),
    store_type: storeType.finish(),
    store_container: container.finish(),
    store_endpoint_url: endpoint.finish(),
    key: key.finish(),
    size_bytes: size.finish(),
    etag: etag.finish(),
    last_modified: lastModified.finish(),
    checksum: checksum.finish(),
  };
  const data = arrow.makeData({
    type: new arrow.Struct(schema.fields),
    length,
    nullCount: 0,
    children: LOCK_COLUMNS.map((name) => columns[name]),
  });
  return new arrow.RecordBatch(schema, data);
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
