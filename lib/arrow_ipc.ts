/**
 * Record batches of one schema as an Arrow IPC stream on a web stream: what
 * `ferry items` and `ferry asset-lock` commands pass each other on pipes.
 *
 * @module
 */
import * as arrow from "apache-arrow";

/** The IPC end-of-stream marker: continuation token and a zero length. */
const EOS_BYTES = 8;

/**
 * Writes record batches of one schema as an Arrow IPC stream, one chunk a
 * batch, pulled on demand (back-pressured: one batch in flight).
 *
 * @example
 * ```ts
 * import * as arrow from "apache-arrow";
 * import { recordBatchesToIpc } from "./arrow_ipc.ts";
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
  // One writer for the stream; its output is taken as views of the batches'
  // own buffers (no copy of a whole batch), small pieces joined.
  const sink = new ChunkSink();
  const writer = new arrow.RecordBatchStreamWriter({ autoDestroy: false });
  writer.reset(sink, schema);
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
      writer.write(next.value);
      started = true;
      for (const chunk of sink.take()) controller.enqueue(chunk);
    },
    async cancel(reason) {
      await iterator?.return?.(reason);
    },
  });
}

/** Collects what an Arrow writer writes, joining small pieces. */
class ChunkSink extends arrow.AsyncByteQueue {
  static readonly JOIN_BELOW = 256 * 1024;
  #out: Uint8Array[] = [];
  #small: Uint8Array[] = [];
  #smallSize = 0;

  override write(value: Parameters<arrow.AsyncByteQueue["write"]>[0]): void {
    const chunk = value as Uint8Array;
    if (chunk.byteLength >= ChunkSink.JOIN_BELOW) {
      this.#join();
      this.#out.push(chunk);
    } else {
      this.#small.push(chunk);
      this.#smallSize += chunk.byteLength;
      if (this.#smallSize >= ChunkSink.JOIN_BELOW) this.#join();
    }
  }

  #join(): void {
    if (this.#small.length === 0) return;
    const joined = new Uint8Array(this.#smallSize);
    let o = 0;
    for (const c of this.#small) {
      joined.set(c, o);
      o += c.byteLength;
    }
    this.#out.push(joined);
    this.#small = [];
    this.#smallSize = 0;
  }

  /** The chunks written since the last call. */
  take(): Uint8Array[] {
    this.#join();
    const out = this.#out;
    this.#out = [];
    return out;
  }
}
