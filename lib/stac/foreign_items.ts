/**
 * Record batches of items from any writer in ferry's layout. Batches ferry
 * wrote pass as they are; batches of another writer (stacpkg,
 * stac-geoparquet, DuckDB) are decoded into items and encoded again with a
 * schema made from theirs, so that every column they have (also one of
 * Arrow type `null`) is kept and nothing goes to an overflow column.
 *
 * @module
 */
import type * as arrow from "apache-arrow";
import { isFerrySchema } from "./item_layout.ts";
import { ItemsEncoder } from "./items_encoder.ts";
import { decodeItemsBatch, itemsSchemaProblem } from "./items_decoder.ts";
import { releaseIpcBatch } from "./ipc.ts";
import { StacInputError, type StacItem } from "./item.ts";

/**
 * Record batches of items in ferry's layout, from batches of items in any
 * stac-geoparquet-like layout. Batches another writer made are each decoded
 * and encoded again (and, when read by `readIpcBatches`, their memory
 * released once decoded).
 *
 * @example A stacpkg-like batch with an all-null datetime keeps the column
 * ```ts
 * import * as arrow from "apache-arrow";
 * import { itemsRecordBatchesOf } from "./foreign_items.ts";
 * import { equal } from "node:assert/strict";
 * const table = arrow.tableFromArrays({ id: ["a", "b"] });
 * const schema = new arrow.Schema([...table.schema.fields, new arrow.Field("datetime", new arrow.Null())]);
 * const data = arrow.makeData({ type: new arrow.Struct(schema.fields), length: 2, nullCount: 0,
 *   children: [table.batches[0]!.data.children[0]!, arrow.makeData({ type: new arrow.Null(), length: 2, nullCount: 2 })] });
 * async function* batches() { yield new arrow.RecordBatch(schema, data); }
 * const out = await itemsRecordBatchesOf(schema, batches());
 * equal(out.schema.fields.some((f) => f.name === "datetime"), true);
 * equal((await Array.fromAsync(out.batches))[0]!.numRows, 2);
 * ```
 *
 * @param schema The schema of the batches.
 * @param batches The batches.
 * @param options The input's name in errors.
 * @returns The schema and batches in ferry's layout.
 * @throws {StacInputError} When the batches are not a table of items (no
 *   `id`, a geometry neither WKB nor GeoJSON), or a row cannot be read
 *   (naming it).
 */
export async function itemsRecordBatchesOf(
  schema: arrow.Schema,
  batches: AsyncIterable<arrow.RecordBatch>,
  options: { source?: string } = {},
): Promise<{ schema: arrow.Schema; batches: AsyncIterable<arrow.RecordBatch> }> {
  if (isFerrySchema(schema) && ItemsEncoder.fromSchema(schema)) return { schema, batches };
  const source = options.source ?? "stdin";
  const problem = itemsSchemaProblem(schema);
  if (problem) throw new StacInputError(`Not a table of STAC items: ${problem}`, { source });
  let row = 1;
  /** `work()`, a failure named by the first row of the batch at hand. */
  const attempt = <T>(work: () => T): T => {
    try {
      return work();
    } catch (error) {
      throw new StacInputError(
        `Cannot read items (${error instanceof Error ? error.message : error})`,
        { source, row },
        { cause: error },
      );
    }
  };
  const decoded = (batch: arrow.RecordBatch) =>
    attempt(() => {
      const items = decodeItemsBatch(batch);
      releaseIpcBatch(batch);
      return items;
    });
  const iterator = batches[Symbol.asyncIterator]();
  // The first batch's items tell what the schema does not (is a bbox list 3D?).
  const first = await iterator.next();
  let firstItems: StacItem[] | undefined = first.done ? [] : decoded(first.value);
  const encoder = ItemsEncoder.forArrowSchema(schema, firstItems);
  async function* encoded(): AsyncIterable<arrow.RecordBatch> {
    let items = firstItems!;
    firstItems = undefined;
    for (;;) {
      if (items.length > 0) {
        const batch = attempt(() => encoder.encode(items));
        row += batch.numRows;
        yield batch;
      }
      const next = await iterator.next();
      if (next.done) return;
      items = decoded(next.value);
    }
  }
  return { schema: encoder.schema, batches: encoded() };
}
