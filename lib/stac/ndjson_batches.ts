/**
 * NDJSON bytes straight into Arrow record batches of items: what
 * `ferry items from-ndjson` runs. Input that can be read twice (a file) is:
 * first a byte scan of every line's keys and value kinds
 * ({@linkcode ItemsSchemaInference.observeJsonLine}), so that the schema
 * holds every item before the first batch is written, then every line read
 * from its bytes into the columns ({@linkcode ItemsBatchBuilder.addJsonLine}).
 * A stream that can be read once gets its schema from the first `batchSize`
 * items, parsed with `JSON.parse` (later items that do not fit go to the
 * overflow column). Either way only a line the byte readers do not take
 * (odd keys, a bad item) is parsed, checked and added as an item, so the
 * result is the same as parsing every line.
 *
 * @module
 */
import type * as arrow from "apache-arrow";
import { type ItemsEncoder, ItemsSchemaInference } from "./items_encoder.ts";
import { ndjsonItemsEncoder } from "./ndjson_schema.ts";
import type { ItemsBatchBuilder } from "./item_batch_builder.ts";
import { DEFAULT_BATCH_SIZE, itemFilter, type ItemFilters, parseNdjsonLine } from "./json_input.ts";
import { StacInputError, type StacItem } from "./item.ts";
import { NdjsonBlocks } from "./ndjson_blocks.ts";

/** Bytes read at a time: whole lines, straight into one buffer read into again. */
const BLOCK_SIZE = 4 * 2 ** 20;

/**
 * Input that can be read more than once (a file, or a pipe saved to one):
 * each `stream()` gives all of its bytes again. A `Blob` is one.
 */
export interface RereadableInput {
  /** A new stream of all the bytes. */
  stream(): ReadableStream<Uint8Array> | Promise<ReadableStream<Uint8Array>>;
}

/** Options of {@linkcode ndjsonToRecordBatches}. */
export interface NdjsonToArrowOptions {
  /** The input's name in errors. @default "stdin" */
  source?: string;
  /** Items per record batch (and the number the schema is inferred from). @default 64000 */
  batchSize?: number;
  /** Keep only the items that pass. */
  filters?: ItemFilters;
}

/**
 * Reads NDJSON items (one a line, blank lines skipped) into record batches of
 * one schema. Memory holds one batch: its columns, and (for a stream read
 * once) the lines of the first batch until the schema is known. Input read
 * twice is checked whole before the first batch: a bad line fails the call.
 *
 * @example
 * ```ts
 * import { ndjsonToRecordBatches } from "./ndjson_batches.ts";
 * import { equal } from "node:assert/strict";
 * const item = { type: "Feature", stac_version: "1.0.0", id: "a", geometry: null, properties: { n: 1 }, links: [], assets: {} };
 * const text = [item, { ...item, id: "b" }, { ...item, id: "c", properties: { n: "x" } }]
 *   .map((v) => JSON.stringify(v)).join("\n");
 * const { batches } = await ndjsonToRecordBatches(new Blob([text]).stream(), { batchSize: 2 });
 * const rows = (await Array.fromAsync(batches)).map((b) => b.numRows);
 * equal(rows.join(), "2,1");
 * ```
 *
 * @param input The NDJSON bytes: a stream (read once), or input read twice.
 * @param options Source name, batch size, filters.
 * @returns The schema and the batches.
 * @throws {StacInputError} Naming the line of a bad item.
 */
export async function ndjsonToRecordBatches(
  input: ReadableStream<Uint8Array> | RereadableInput,
  options: NdjsonToArrowOptions = {},
): Promise<{ schema: arrow.Schema; batches: AsyncIterable<arrow.RecordBatch> }> {
  const size = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`Invalid batch size ${size}: expected a positive integer`);
  }
  if (input instanceof ReadableStream) {
    const reader = new NdjsonBatchReader(input, size, options);
    const schema = await reader.inferSchema();
    return { schema, batches: reader.batches() };
  }
  const encoder = await ndjsonItemsEncoder(await input.stream(), options);
  const reader = new NdjsonBatchReader(await input.stream(), size, options, encoder);
  return { schema: encoder.schema, batches: reader.batches() };
}

class NdjsonBatchReader {
  readonly #blocks: NdjsonBlocks;
  readonly #size: number;
  readonly #source: string;
  readonly #keep: ((item: StacItem) => boolean) | undefined;
  #line = 0;
  #ended = false;
  #inference: ItemsSchemaInference | undefined;
  /** The first batch's lines (copied) and their numbers, until the schema is known. */
  #held: ({ bytes: Uint8Array; line: number } | undefined)[] = [];
  #encoder: ItemsEncoder | undefined;
  #builder: ItemsBatchBuilder | undefined;
  readonly #done: arrow.RecordBatch[] = [];

  /**
   * @param stream The NDJSON bytes.
   * @param size Items per batch.
   * @param options Source name and filters.
   * @param encoder The encoder of every item, when known; else the first batch gives the schema.
   */
  constructor(
    stream: ReadableStream<Uint8Array>,
    size: number,
    options: NdjsonToArrowOptions,
    encoder?: ItemsEncoder,
  ) {
    this.#blocks = new NdjsonBlocks(stream, BLOCK_SIZE);
    this.#size = size;
    this.#source = options.source ?? "stdin";
    this.#keep = itemFilter(options.filters);
    if (encoder) {
      this.#encoder = encoder;
      this.#builder = encoder.builder();
    } else this.#inference = new ItemsSchemaInference();
  }

  /** Reads until `batchSize` items (or the end) are there and returns their schema. */
  async inferSchema(): Promise<arrow.Schema> {
    while (this.#inference && await this.#readBlock());
    if (this.#inference) this.#startBuilding();
    return this.#encoder!.schema;
  }

  async *batches(): AsyncIterable<arrow.RecordBatch> {
    try {
      for (;;) {
        while (this.#done.length > 0) yield this.#done.shift()!;
        if (this.#ended) break;
        await this.#readBlock();
      }
      const builder = this.#builder!;
      if (builder.length > 0) yield builder.finish();
    } finally {
      // Stopped early (an error, a consumer that left): the input is let go.
      if (!this.#ended) await this.#blocks.cancel();
    }
  }

  /** Takes the next block's lines; false at the end of the input. */
  async #readBlock(): Promise<boolean> {
    const block = await this.#blocks.next();
    if (block === undefined) {
      this.#ended = true;
      return false;
    }
    for (let start = 0; start < block.length;) {
      let end = block.indexOf(0x0a, start);
      if (end < 0) end = block.length;
      this.#takeLine(block.subarray(start, end), ++this.#line);
      start = end + 1;
    }
    // Every line is in the columns, parsed, or copied (the first batch's, held).
    this.#blocks.recycle(block.buffer);
    return true;
  }

  #takeLine(bytes: Uint8Array, line: number): void {
    if (this.#inference) {
      const item = this.#parse(bytes, line);
      if (item === undefined) return;
      this.#inference.observe(item);
      this.#held.push({ bytes: bytes.slice(), line });
      if (this.#held.length === this.#size) this.#startBuilding();
      return;
    }
    const builder = this.#builder!;
    if (this.#keep !== undefined || !builder.addJsonLine(bytes)) {
      const item = this.#parse(bytes, line);
      if (item === undefined) return;
      this.#add(builder, item, line);
    }
    if (builder.length === this.#size) {
      this.#done.push(builder.finish());
      this.#builder = this.#encoder!.builder();
    }
  }

  /** Adds a parsed item; an item the schema cannot hold is named by its line. */
  #add(builder: ItemsBatchBuilder, item: StacItem, line: number): void {
    try {
      builder.add(item);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      throw new StacInputError(
        `${error.message} (did the input change after its first read?)`,
        { source: this.#source, line },
        { cause: error },
      );
    }
  }

  /** The line's item, or undefined for a blank line or one the filters drop. */
  #parse(bytes: Uint8Array, line: number): StacItem | undefined {
    const item = parseNdjsonLine(bytes, { source: this.#source, line });
    return item !== undefined && (this.#keep === undefined || this.#keep(item)) ? item : undefined;
  }

  #startBuilding(): void {
    const encoder = this.#encoder = this.#inference!.encoder();
    this.#inference = undefined;
    this.#builder = encoder.builder();
    const held = this.#held;
    this.#held = [];
    for (let i = 0; i < held.length; i++) {
      // Each line is let go once it is in the columns.
      const { bytes, line } = held[i]!;
      held[i] = undefined;
      if (this.#keep !== undefined || !this.#builder.addJsonLine(bytes)) {
        this.#builder.add(parseNdjsonLine(bytes, { source: this.#source, line })!);
      }
    }
    if (this.#builder.length === this.#size) {
      this.#done.push(this.#builder.finish());
      this.#builder = encoder.builder();
    }
  }
}
