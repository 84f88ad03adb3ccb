/**
 * Items that arrive once (e.g. items transformed on their way through a
 * pipe) as record batches whose schema holds every item: they are encoded
 * with a schema from the first batch into a spool (an Arrow IPC stream kept
 * for a second read, e.g. a temporary file). When no item needed the
 * overflow column, the spooled batches come back without it; otherwise the
 * spool is read twice more, to observe every item and to encode it again.
 *
 * @module
 */
import * as arrow from "apache-arrow";
import { OVERFLOW_COLUMN } from "./item_layout.ts";
import { ItemsEncoder, ItemsSchemaInference } from "./items_encoder.ts";
import { decodeItemsBatch } from "./items_decoder.ts";
import {
  type ItemsToArrowOptions,
  itemsToRecordBatches,
  readIpcBatches,
  recordBatchesToIpc,
  releaseIpcBatch,
} from "./ipc.ts";
import type { StacItem } from "./item.ts";

/** Bytes kept for reading again (a temporary file). */
export interface ByteSpool {
  /** Where the bytes go; closed once all are written. */
  writable: WritableStream<Uint8Array>;
  /** A new stream of all the bytes written. */
  readable(): ReadableStream<Uint8Array> | Promise<ReadableStream<Uint8Array>>;
}

/** The batch without the column at `index`, in `schema` (the batch's, without that column). */
function withoutColumn(
  batch: arrow.RecordBatch,
  index: number,
  schema: arrow.Schema,
): arrow.RecordBatch {
  const children = batch.data.children.filter((_, j) => j !== index);
  const data = arrow.makeData({
    type: new arrow.Struct(schema.fields),
    length: batch.numRows,
    nullCount: 0,
    children,
  });
  return new arrow.RecordBatch(schema, data);
}

/**
 * Record batches of items with a schema that holds every item, for items
 * that can be read only once, through a spool (see the module doc).
 *
 * @example Late keys become columns
 * ```ts
 * import { itemsToRecordBatchesThroughSpool } from "./spooled_items.ts";
 * import { equal } from "node:assert/strict";
 * const chunks: Uint8Array[] = [];
 * const spool = {
 *   writable: new WritableStream<Uint8Array>({ write(c) { chunks.push(c); } }),
 *   readable: () => new Blob(chunks as Uint8Array<ArrayBuffer>[]).stream(),
 * };
 * const item = { type: "Feature" as const, stac_version: "1.0.0", id: "a", geometry: null, properties: {}, links: [], assets: {} };
 * async function* batches() { yield [item]; yield [{ ...item, id: "b", properties: { late: 1 } }]; }
 * const { schema } = await itemsToRecordBatchesThroughSpool(batches(), spool);
 * equal(schema.fields.some((f) => f.name === "late"), true);
 * equal(schema.fields.some((f) => f.name === "ferry:overflow"), false);
 * ```
 *
 * @param batches Batches of items.
 * @param spool Where the first encoding is kept.
 * @param options Regrouping into batches of `batchSize` items.
 * @returns The schema and the record batches.
 */
export async function itemsToRecordBatchesThroughSpool(
  batches: AsyncIterable<StacItem[]>,
  spool: ByteSpool,
  options: ItemsToArrowOptions = {},
): Promise<{ schema: arrow.Schema; batches: AsyncIterable<arrow.RecordBatch> }> {
  const first = await itemsToRecordBatches(batches, options);
  const overflowAt = first.schema.fields.findIndex((f) => f.name === OVERFLOW_COLUMN);
  let overflowed = false;
  async function* watched(): AsyncIterable<arrow.RecordBatch> {
    for await (const batch of first.batches) {
      const overflow = batch.data.children[overflowAt];
      if (overflow && overflow.nullCount < batch.numRows) overflowed = true;
      yield batch;
    }
  }
  await recordBatchesToIpc(first.schema, watched()).pipeTo(spool.writable);
  const reread = async () => (await readIpcBatches(await spool.readable())).batches;
  if (!overflowed) {
    const fields = first.schema.fields.filter((_, j) => j !== overflowAt);
    const schema = ItemsEncoder.fromSchema(new arrow.Schema(fields, first.schema.metadata))!.schema;
    const spooled = await reread();
    return {
      schema,
      batches: (async function* () {
        for await (const batch of spooled) yield withoutColumn(batch, overflowAt, schema);
      })(),
    };
  }
  const inference = new ItemsSchemaInference();
  for await (const batch of await reread()) {
    for (const item of decodeItemsBatch(batch)) inference.observe(item);
    releaseIpcBatch(batch);
  }
  const encoder = inference.encoder({ complete: true });
  const again = await reread();
  return {
    schema: encoder.schema,
    batches: (async function* () {
      for await (const batch of again) {
        const items = decodeItemsBatch(batch);
        releaseIpcBatch(batch);
        yield encoder.encode(items);
      }
    })(),
  };
}
