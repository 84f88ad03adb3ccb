/**
 * Arrow IPC streams of STAC items (the stac-geoparquet columns) on web
 * streams: what `ferry items` commands pass each other on pipes.
 *
 * @module
 */
import * as arrow from "apache-arrow";
import { decodeItemsBatch, ItemsEncoder } from "./arrow_items.ts";
import { StacInputError, type StacItem } from "./item.ts";

const EOS_BYTES = 8;

/**
 * Writes record batches of one schema as an Arrow IPC stream, one chunk a
 * batch, pulled on demand (back-pressured: one batch in flight).
 *
 * @example
 * ```ts
 * import * as arrow from "apache-arrow";
 * import { recordBatchesToIpc } from "./ipc.ts";
 * import { equal } from "node:assert/strict";
 * const t = arrow.tableFromArrays({ x: new Float64Array([1, 2]) });
 * async function* one() { yield* t.batches; }
 * const bytes = new Uint8Array(await new Response(recordBatchesToIpc(t.schema, one())).arrayBuffer());
 * equal(arrow.tableFromIPC(bytes).numRows, 2);
 * ```
 *
 * @param schema The schema of every batch.
 * @param batches The batches.
 * @returns The IPC stream bytes.
 */
export function recordBatchesToIpc(
  schema: arrow.Schema,
  batches: AsyncIterable<arrow.RecordBatch>,
): ReadableStream<Uint8Array> {
  const schemaOnly = arrow.tableToIPC(new arrow.Table(schema), "stream");
  const headerLength = schemaOnly.byteLength - EOS_BYTES;
  let iterator: AsyncIterator<arrow.RecordBatch> | undefined;
  let started = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      iterator ??= batches[Symbol.asyncIterator]();
      const next = await iterator.next();
      if (next.done) {
        if (!started) controller.enqueue(schemaOnly.subarray(0, headerLength));
        controller.enqueue(schemaOnly.subarray(headerLength));
        controller.close();
        return;
      }
      const bytes = arrow.tableToIPC(new arrow.Table(schema, [next.value]), "stream");
      controller.enqueue(
        bytes.subarray(started ? headerLength : 0, bytes.byteLength - EOS_BYTES),
      );
      started = true;
    },
    async cancel(reason) {
      await iterator?.return?.(reason);
    },
  });
}

async function* encodeAll(
  first: StacItem[],
  encoder: ItemsEncoder,
  rest: AsyncIterator<StacItem[]>,
): AsyncIterable<arrow.RecordBatch> {
  if (first.length > 0) yield encoder.encode(first);
  for (let next = await rest.next(); !next.done; next = await rest.next()) {
    if (next.value.length > 0) yield encoder.encode(next.value);
  }
}

/**
 * Encodes batches of items as record batches of one schema, inferred from
 * the first non-empty batch.
 *
 * @param batches Batches of items.
 * @returns The schema and the record batches.
 */
export async function itemsToRecordBatches(
  batches: AsyncIterable<StacItem[]>,
): Promise<{ schema: arrow.Schema; batches: AsyncIterable<arrow.RecordBatch> }> {
  const iterator = batches[Symbol.asyncIterator]();
  let first: StacItem[] = [];
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
    if (next.value.length > 0) {
      first = next.value;
      break;
    }
  }
  const encoder = ItemsEncoder.infer(first);
  return { schema: encoder.schema, batches: encodeAll(first, encoder, iterator) };
}

/**
 * Encodes batches of items as an Arrow IPC stream with the stac-geoparquet
 * columns (schema from the first batch; see `arrow_items.ts` for how later
 * batches that do not fit are kept).
 *
 * @example Items through IPC and back
 * ```ts
 * import { itemsFromIpc, itemsToIpc } from "./ipc.ts";
 * import { equal } from "node:assert/strict";
 * const item = { type: "Feature" as const, stac_version: "1.0.0", id: "a", geometry: null, properties: {}, links: [], assets: {} };
 * async function* batches() { yield [item]; yield [{ ...item, id: "b", properties: { new: 1 } }]; }
 * const back = (await Array.fromAsync(itemsFromIpc(itemsToIpc(batches())))).flat();
 * equal(back[1]!.properties.new, 1);
 * ```
 *
 * @param batches Batches of items.
 * @returns The IPC stream bytes.
 */
export function itemsToIpc(batches: AsyncIterable<StacItem[]>): ReadableStream<Uint8Array> {
  let inner: ReadableStreamDefaultReader<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!inner) {
        const { schema, batches: records } = await itemsToRecordBatches(batches);
        inner = recordBatchesToIpc(schema, records).getReader();
      }
      const next = await inner.read();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel(reason) {
      await inner?.cancel(reason);
    },
  });
}

/**
 * Reads an Arrow IPC stream into its schema and record batches.
 *
 * @param stream The IPC bytes.
 * @param options The source name for errors.
 * @returns The schema and the batches.
 * @throws {StacInputError} When the bytes are not an Arrow IPC stream.
 */
export async function readIpcBatches(
  stream: ReadableStream<Uint8Array>,
  options: { source?: string } = {},
): Promise<{ schema: arrow.Schema; batches: AsyncIterable<arrow.RecordBatch> }> {
  const source = options.source ?? "stdin";
  let reader: arrow.AsyncRecordBatchStreamReader;
  try {
    reader = await arrow.RecordBatchReader.from(stream) as arrow.AsyncRecordBatchStreamReader;
    await reader.open();
  } catch (error) {
    throw new StacInputError(
      `Not an Arrow IPC stream (${error instanceof Error ? error.message : error})`,
      { source },
      { cause: error },
    );
  }
  if (!reader.schema) {
    throw new StacInputError("Empty input: expected an Arrow IPC stream", { source });
  }
  async function* batches() {
    let row = 1;
    try {
      for await (const batch of reader) {
        yield batch;
        row += batch.numRows;
      }
    } catch (error) {
      if (error instanceof StacInputError) throw error;
      throw new StacInputError(
        `Broken Arrow IPC stream (${error instanceof Error ? error.message : error})`,
        { source, row },
        { cause: error },
      );
    }
  }
  return { schema: reader.schema, batches: batches() };
}

/**
 * Reads an Arrow IPC stream of items (written by {@linkcode itemsToIpc} or
 * any stac-geoparquet-shaped Arrow stream) back into batches of items.
 *
 * @param stream The IPC bytes.
 * @param options The source name for errors.
 * @returns Batches of items, one per record batch.
 */
export async function* itemsFromIpc(
  stream: ReadableStream<Uint8Array>,
  options: { source?: string } = {},
): AsyncIterable<StacItem[]> {
  const { batches } = await readIpcBatches(stream, options);
  for await (const batch of batches) yield decodeItemsBatch(batch);
}
