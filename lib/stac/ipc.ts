/**
 * Arrow IPC streams of STAC items (the stac-geoparquet columns) on web
 * streams: what `ferry items` commands pass each other on pipes.
 *
 * @module
 */
import * as arrow from "apache-arrow";
import { ItemsEncoder, ItemsSchemaInference } from "./items_encoder.ts";
import { decodeItemsBatch } from "./items_decoder.ts";
import { DEFAULT_BATCH_SIZE, ndjsonLinesOf } from "./json_input.ts";
import { StacInputError, type StacItem } from "./item.ts";
import { ByteQueue } from "./byte_queue.ts";

export { recordBatchesToIpc } from "../arrow_ipc.ts";
import { recordBatchesToIpc } from "../arrow_ipc.ts";

async function* encodeAll(
  first: StacItem[],
  encoder: ItemsEncoder,
  rest: AsyncIterator<StacItem[]>,
): AsyncIterable<arrow.RecordBatch> {
  // Each batch of items is let go before the next one is read: memory holds
  // one batch of items, not two.
  let items: StacItem[] | undefined = first;
  first = [];
  for (;;) {
    if (items.length > 0) {
      const batch = encoder.encode(items);
      items = undefined;
      yield batch;
    }
    const next = await rest.next();
    if (next.done) return;
    items = next.value;
  }
}

/** Options of {@linkcode itemsToRecordBatches} and {@linkcode itemsToIpc}. */
export interface ItemsToArrowOptions {
  /**
   * Regroup the incoming arrays into record batches of exactly this many
   * items (the last may be smaller), the schema inferred from the first
   * `batchSize` items; items after those are added to the batch being built
   * one by one, so that each can be let go at once. Without it, each
   * incoming array is one record batch and the first non-empty one gives the
   * schema.
   */
  batchSize?: number;
}

/**
 * Encodes batches of items as record batches of one schema, inferred from
 * the first non-empty batch (or the first `batchSize` items).
 *
 * @example Regrouping small arrays into batches of 2
 * ```ts
 * import { itemsToRecordBatches } from "./ipc.ts";
 * import { deepEqual } from "node:assert/strict";
 * const item = { type: "Feature" as const, stac_version: "1.0.0", id: "a", geometry: null, properties: {}, links: [], assets: {} };
 * async function* chunks() { yield [item]; yield [item, item]; yield [item, item]; }
 * const { batches } = await itemsToRecordBatches(chunks(), { batchSize: 2 });
 * deepEqual((await Array.fromAsync(batches)).map((b) => b.numRows), [2, 2, 1]);
 * ```
 *
 * @param batches Batches of items.
 * @param options Regrouping.
 * @returns The schema and the record batches.
 */
export async function itemsToRecordBatches(
  batches: AsyncIterable<StacItem[]>,
  options: ItemsToArrowOptions = {},
): Promise<{ schema: arrow.Schema; batches: AsyncIterable<arrow.RecordBatch> }> {
  const iterator = batches[Symbol.asyncIterator]();
  const size = options.batchSize;
  if (size === undefined) {
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
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`Invalid batch size ${size}: expected a positive integer`);
  }
  // The first batch gives the schema. Items parsed from NDJSON are held as
  // their lines (several times smaller than the objects) and parsed again.
  const inference = new ItemsSchemaInference();
  const first: (StacItem | string | undefined)[] = [];
  let carry: StacItem[] = [];
  while (first.length < size) {
    const next = await iterator.next();
    if (next.done) break;
    const chunk = next.value;
    const lines = ndjsonLinesOf(chunk);
    const take = Math.min(size - first.length, chunk.length);
    for (let i = 0; i < take; i++) {
      inference.observe(chunk[i]!);
      first.push(lines ? lines[i]! : chunk[i]!);
    }
    if (chunk.length > take) carry = chunk.slice(take);
  }
  const encoder = inference.encoder();
  return { schema: encoder.schema, batches: regroup(first, carry, encoder, iterator, size) };
}

/**
 * Encodes items that are all at hand as record batches of `batchSize` items,
 * with a schema made from every one of them: each property and asset key is
 * a column, and there is an overflow column only when some item has a part
 * no other column holds.
 *
 * @example
 * ```ts
 * import { allItemsToRecordBatches } from "./ipc.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 * const item = { type: "Feature" as const, stac_version: "1.0.0", id: "a", geometry: null, properties: {}, links: [], assets: {} };
 * const { schema, batches } = allItemsToRecordBatches([item, { ...item, id: "b", properties: { late: 1 } }], { batchSize: 1 });
 * equal(schema.fields.some((f) => f.name === "late"), true);
 * deepEqual((await Array.fromAsync(batches)).map((b) => b.numRows), [1, 1]);
 * ```
 *
 * @param items The items.
 * @param options Items per record batch (default 64000).
 * @returns The schema and the record batches.
 */
export function allItemsToRecordBatches(
  items: readonly StacItem[],
  options: ItemsToArrowOptions = {},
): { schema: arrow.Schema; batches: AsyncIterable<arrow.RecordBatch> } {
  const size = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`Invalid batch size ${size}: expected a positive integer`);
  }
  const encoder = ItemsEncoder.infer(items, { complete: true });
  async function* batches(): AsyncIterable<arrow.RecordBatch> {
    for (let i = 0; i < items.length; i += size) yield encoder.encode(items.slice(i, i + size));
  }
  return { schema: encoder.schema, batches: batches() };
}

async function* regroup(
  first: (StacItem | string | undefined)[],
  carry: StacItem[],
  encoder: ItemsEncoder,
  rest: AsyncIterator<StacItem[]>,
  size: number,
): AsyncIterable<arrow.RecordBatch> {
  if (first.length > 0) {
    const builder = encoder.builder();
    for (let i = 0; i < first.length; i++) {
      const held = first[i]!;
      first[i] = undefined;
      builder.add(typeof held === "string" ? JSON.parse(held) : held);
    }
    first.length = 0;
    yield builder.finish();
  }
  let builder = encoder.builder();
  let items: StacItem[] | undefined = carry;
  carry = [];
  for (;;) {
    for (let i = 0; i < items.length; i++) {
      builder.add(items[i]!);
      if (builder.length === size) {
        const batch = builder.finish();
        builder = encoder.builder();
        yield batch;
      }
    }
    items = undefined;
    const next = await rest.next();
    if (next.done) break;
    items = next.value;
  }
  if (builder.length > 0) yield builder.finish();
}

/**
 * Encodes batches of items as an Arrow IPC stream with the stac-geoparquet
 * columns (schema from the first batch; see `item_layout.ts` for how later
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
 * @param options Regrouping into batches of `batchSize` items.
 * @returns The IPC stream bytes.
 */
export function itemsToIpc(
  batches: AsyncIterable<StacItem[]>,
  options: ItemsToArrowOptions = {},
): ReadableStream<Uint8Array> {
  let inner: ReadableStreamDefaultReader<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!inner) {
        const { schema, batches: records } = await itemsToRecordBatches(batches, options);
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

const CONTINUATION = 0xffffffff;
const MAX_METADATA_BYTES = 64 * 2 ** 20;
const EOS = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

/** One IPC message, framed, in a complete stream of its own. */
interface RawMessage {
  type: arrow.MessageHeader;
  /** `lead`, then this message, then the end-of-stream marker. */
  stream: Uint8Array;
  /** This message alone (a view into `stream`). */
  message: Uint8Array;
}

/**
 * Reads the next message, or undefined at the end of the stream, into one
 * buffer after copies of `lead` (the schema and dictionary messages).
 */
async function nextMessage(
  queue: ByteQueue,
  lead: readonly Uint8Array[],
): Promise<RawMessage | undefined> {
  const head = new Uint8Array(8);
  if (!(await queue.fill(4))) {
    if (queue.empty) return undefined;
    throw new RangeError("truncated message prefix");
  }
  queue.take(4, head, 0);
  const view = new DataView(head.buffer);
  let metaLength = view.getUint32(0, true);
  if (metaLength === CONTINUATION) {
    if (!(await queue.fill(4))) throw new RangeError("truncated message prefix");
    queue.take(4, head, 4);
    metaLength = view.getUint32(4, true);
  }
  if (metaLength === 0) return undefined;
  if (metaLength > MAX_METADATA_BYTES) {
    throw new RangeError(`message metadata of ${metaLength} bytes`);
  }
  if (!(await queue.fill(metaLength))) throw new RangeError("truncated message metadata");
  const meta = new Uint8Array(metaLength);
  queue.take(metaLength, meta, 0);
  const message = arrow.Message.decode(meta);
  const bodyLength = Number(message.bodyLength);
  if (!Number.isSafeInteger(bodyLength) || bodyLength < 0 || bodyLength > 2 ** 31) {
    throw new RangeError(`message body of ${bodyLength} bytes`);
  }
  let at = 0;
  for (const part of lead) at += part.byteLength;
  const size = 8 + metaLength + bodyLength;
  let stream = messageBuffer(at + size + EOS.byteLength);
  at = 0;
  for (const part of lead) {
    stream.set(part, at);
    at += part.byteLength;
  }
  const view8 = new DataView(stream.buffer, at, 8);
  view8.setUint32(0, CONTINUATION, true);
  view8.setUint32(4, metaLength, true);
  stream.set(meta, at + 8);
  const read = await queue.readInto(bodyLength, stream, at + 8 + metaLength);
  if (read === undefined) throw new RangeError("truncated message body");
  stream = read;
  stream.set(EOS, at + size);
  return { type: message.headerType, stream, message: stream.subarray(at, at + size) };
}

/** The one-batch IPC stream each batch read by {@linkcode readIpcBatches} came from. */
interface BatchStream {
  schema: arrow.Schema;
  bytes: Uint8Array;
  /** Batches (the whole one, or its slices) not yet released. */
  holders: number;
}

/** Per batch read (or slice of one): its message's stream; `whole` when it is all of it. */
const batchStreams = new WeakMap<arrow.RecordBatch, { stream: BatchStream; whole: boolean }>();

/**
 * The bytes of a complete Arrow IPC stream holding just this batch (schema,
 * dictionaries, the batch, end marker), for batches that
 * {@linkcode readIpcBatches} read: a writer can hand them on (e.g. to
 * parquet-wasm) without serializing the batch again.
 *
 * @param batch A record batch.
 * @param schema When given, only a batch read with this very schema object
 *   (the one `readIpcBatches` returned) has its bytes returned.
 * @returns The stream bytes, or undefined for a batch from elsewhere.
 */
export function ipcStreamOfBatch(
  batch: arrow.RecordBatch,
  schema?: arrow.Schema,
): Uint8Array | undefined {
  const entry = batchStreams.get(batch);
  return entry?.whole && (schema === undefined || entry.stream.schema === schema)
    ? entry.stream.bytes
    : undefined;
}

/**
 * Frees at once the memory of a batch that {@linkcode readIpcBatches} read
 * (its message's buffer), instead of whenever garbage collection gets to it:
 * with large batches and little else on the JS heap that can be long, and
 * memory grows with the number of batches. The batch (and any view of its
 * data) must not be used afterwards. Batches from elsewhere are left alone.
 *
 * @example
 * ```ts
 * import * as arrow from "apache-arrow";
 * import { readIpcBatches, releaseIpcBatch } from "./ipc.ts";
 * import { equal } from "node:assert/strict";
 * const bytes = arrow.tableToIPC(arrow.tableFromArrays({ x: new Float64Array([1, 2]) }), "stream");
 * const { batches } = await readIpcBatches(new Blob([bytes as Uint8Array<ArrayBuffer>]).stream());
 * for await (const batch of batches) equal(releaseIpcBatch(batch), true);
 * ```
 *
 * @param batch A record batch.
 * @returns Whether memory was released.
 */
export function releaseIpcBatch(batch: arrow.RecordBatch): boolean {
  const entry = batchStreams.get(batch);
  if (!entry) return false;
  batchStreams.delete(batch);
  if (--entry.stream.holders > 0) return false;
  // Moved (any view left of it is detached), then read into again or freed.
  const memory = (entry.stream.bytes.buffer as ArrayBuffer).transfer();
  if (spareMessageBuffers.length < MAX_SPARE_MESSAGE_BUFFERS) spareMessageBuffers.push(memory);
  else memory.transfer(0);
  return true;
}

/** Memory of released messages, read into again: a fresh one costs a page fault a page. */
const spareMessageBuffers: ArrayBuffer[] = [];
const MAX_SPARE_MESSAGE_BUFFERS = 2;

/** An array of `size` bytes for a message: in the memory of a released one when it fits. */
function messageBuffer(size: number): Uint8Array<ArrayBuffer> {
  const k = spareMessageBuffers.findIndex((b) => b.byteLength >= size && b.byteLength <= 2 * size);
  if (k < 0) return new Uint8Array(size);
  return new Uint8Array(spareMessageBuffers.splice(k, 1)[0]!, 0, size);
}

/**
 * Cuts a batch into slices of at most `rows` rows (views, no copy). For a
 * batch read by {@linkcode readIpcBatches}, releasing every slice with
 * {@linkcode releaseIpcBatch} releases the batch's memory; the batch itself
 * is then no longer to be released or used.
 *
 * @example
 * ```ts
 * import * as arrow from "apache-arrow";
 * import { sliceIpcBatch } from "./ipc.ts";
 * import { deepEqual } from "node:assert/strict";
 * const [batch] = arrow.tableFromArrays({ x: new Float64Array(5) }).batches;
 * deepEqual(sliceIpcBatch(batch!, 2).map((b) => b.numRows), [2, 2, 1]);
 * ```
 *
 * @param batch The batch.
 * @param rows Rows per slice.
 * @returns The slices (the batch itself when it is small enough).
 */
export function sliceIpcBatch(batch: arrow.RecordBatch, rows: number): arrow.RecordBatch[] {
  if (batch.numRows <= rows) return [batch];
  const slices: arrow.RecordBatch[] = [];
  for (let start = 0; start < batch.numRows; start += rows) {
    slices.push(batch.slice(start, Math.min(batch.numRows, start + rows)));
  }
  const entry = batchStreams.get(batch);
  if (entry) {
    batchStreams.delete(batch);
    entry.stream.holders += slices.length - 1;
    for (const slice of slices) batchStreams.set(slice, { stream: entry.stream, whole: false });
  }
  return slices;
}

/** What a stream that is not Arrow IPC seems to be, from its first bytes. */
function notIpcHint(start: Uint8Array): string {
  const text = new TextDecoder().decode(start).replace(/^\ufeff/, "").trimStart();
  if (text.startsWith("PAR1")) {
    return ": this is a Parquet file; read it with `ferry items from-parquet FILE` " +
      "(or `ferry asset-lock from-parquet FILE`)";
  }
  if (text.startsWith("{") || text.startsWith("[")) {
    return ": this looks like JSON; read it with `ferry items from-ndjson` or `ferry items from-json` first";
  }
  if (start[0] === 0x1f && start[1] === 0x8b) return ": this is gzip-compressed data";
  return "";
}

/**
 * Reads an Arrow IPC stream into its schema and record batches, one message
 * at a time: each batch's buffers are views into one copy of its message.
 *
 * @example
 * ```ts
 * import * as arrow from "apache-arrow";
 * import { ipcStreamOfBatch, readIpcBatches } from "./ipc.ts";
 * import { equal } from "node:assert/strict";
 * const bytes = arrow.tableToIPC(arrow.tableFromArrays({ x: new Float64Array([1, 2]) }), "stream");
 * const { schema, batches } = await readIpcBatches(new Blob([bytes as Uint8Array<ArrayBuffer>]).stream());
 * const [batch] = await Array.fromAsync(batches);
 * equal(schema.fields[0]!.name, "x");
 * equal(batch!.numRows, 2);
 * equal(arrow.tableFromIPC(ipcStreamOfBatch(batch!)!).numRows, 2);
 * ```
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
  const queue = new ByteQueue(stream);
  let first: RawMessage | undefined;
  let schema: arrow.Schema;
  let start: Uint8Array = new Uint8Array();
  try {
    // The first bytes, for a hint when they are not Arrow (an IPC stream is longer).
    await queue.fill(16);
    start = queue.peek(16);
    first = await nextMessage(queue, []);
    if (first === undefined) {
      throw new StacInputError("Empty input: expected an Arrow IPC stream", { source });
    }
    if (first.type !== arrow.MessageHeader.Schema) {
      throw new RangeError(`the stream starts with a message of type ${first.type}, not a schema`);
    }
    schema = arrow.tableFromIPC(first.stream).schema;
  } catch (error) {
    await queue.cancel(error);
    if (error instanceof StacInputError) throw error;
    throw new StacInputError(
      `Not an Arrow IPC stream (${error instanceof Error ? error.message : error})${
        notIpcHint(start)
      }`,
      { source },
      { cause: error },
    );
  }
  const lead: Uint8Array[] = [first.message];
  async function* batches() {
    let row = 1;
    try {
      for (
        let m = await nextMessage(queue, lead);
        m !== undefined;
        m = await nextMessage(queue, lead)
      ) {
        if (m.type === arrow.MessageHeader.DictionaryBatch) {
          lead.push(m.message);
          continue;
        }
        if (m.type !== arrow.MessageHeader.RecordBatch) {
          throw new RangeError(`unexpected message of type ${m.type}`);
        }
        for (const batch of arrow.tableFromIPC(m.stream).batches) {
          batchStreams.set(batch, {
            stream: { schema, bytes: m.stream, holders: 1 },
            whole: true,
          });
          yield batch;
          row += batch.numRows;
        }
      }
    } catch (error) {
      await queue.cancel(error);
      if (error instanceof StacInputError) throw error;
      throw new StacInputError(
        `Broken Arrow IPC stream (${error instanceof Error ? error.message : error})`,
        { source, row },
        { cause: error },
      );
    }
  }
  return { schema, batches: batches() };
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
