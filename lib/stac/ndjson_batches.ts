/**
 * NDJSON bytes straight into Arrow record batches of items: what
 * `ferry items from-ndjson` runs. The schema comes from the first
 * `batchSize` items, parsed with `JSON.parse`; after that each line is read
 * from its bytes into the columns ({@linkcode ItemsBatchBuilder.addJsonLine})
 * and only a line that does not fit the schema as it is (new keys, a value of
 * another type, a bad item) is parsed, checked and added as an item, so the
 * result is the same as parsing every line.
 *
 * @module
 */
import type * as arrow from "apache-arrow";
import { type ItemsEncoder, ItemsSchemaInference } from "./items_encoder.ts";
import type { ItemsBatchBuilder } from "./item_batch_builder.ts";
import {
  DEFAULT_BATCH_SIZE,
  type ItemFilters,
  itemMatcher,
  parseNdjsonLine,
} from "./json_input.ts";
import type { StacItem } from "./item.ts";
import { concatBytes } from "../bytes.ts";

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
 * one schema. Memory holds one batch: its columns, and for the first batch
 * its lines until the schema is known.
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
 * @param stream The NDJSON bytes.
 * @param options Source name, batch size, filters.
 * @returns The schema and the batches.
 * @throws {StacInputError} Naming the line of a bad item.
 */
export async function ndjsonToRecordBatches(
  stream: ReadableStream<Uint8Array>,
  options: NdjsonToArrowOptions = {},
): Promise<{ schema: arrow.Schema; batches: AsyncIterable<arrow.RecordBatch> }> {
  const size = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`Invalid batch size ${size}: expected a positive integer`);
  }
  const reader = new NdjsonBatchReader(stream, size, options);
  const schema = await reader.inferSchema();
  return { schema, batches: reader.batches() };
}

class NdjsonBatchReader {
  readonly #chunks: AsyncIterator<Uint8Array>;
  readonly #size: number;
  readonly #source: string;
  readonly #keep: ((item: StacItem) => boolean) | undefined;
  #carry: Uint8Array[] = [];
  #line = 0;
  #ended = false;
  #inference: ItemsSchemaInference | undefined = new ItemsSchemaInference();
  /** The first batch's lines (copied) and their numbers, until the schema is known. */
  #held: ({ bytes: Uint8Array; line: number } | undefined)[] = [];
  #encoder: ItemsEncoder | undefined;
  #builder: ItemsBatchBuilder | undefined;
  readonly #done: arrow.RecordBatch[] = [];

  constructor(stream: ReadableStream<Uint8Array>, size: number, options: NdjsonToArrowOptions) {
    this.#chunks = stream[Symbol.asyncIterator]();
    this.#size = size;
    this.#source = options.source ?? "stdin";
    const f = options.filters;
    const filtering = !!(f?.collections?.length || f?.providers?.length || f?.itemIds?.length);
    this.#keep = filtering ? itemMatcher(f) : undefined;
  }

  /** Reads until `batchSize` items (or the end) are there and returns their schema. */
  async inferSchema(): Promise<arrow.Schema> {
    while (this.#inference && await this.#readChunk());
    if (this.#inference) this.#startBuilding();
    return this.#encoder!.schema;
  }

  async *batches(): AsyncIterable<arrow.RecordBatch> {
    for (;;) {
      while (this.#done.length > 0) yield this.#done.shift()!;
      if (this.#ended) break;
      await this.#readChunk();
    }
    const builder = this.#builder!;
    if (builder.length > 0) yield builder.finish();
  }

  /** Takes the next chunk's whole lines; false at the end of the input. */
  async #readChunk(): Promise<boolean> {
    const next = await this.#chunks.next();
    if (next.done) {
      this.#ended = true;
      if (this.#carry.length > 0) this.#takeLine(concatBytes(this.#carry));
      this.#carry = [];
      return false;
    }
    const chunk = next.value;
    let start = 0;
    let nl = chunk.indexOf(0x0a);
    if (this.#carry.length > 0) {
      if (nl < 0) {
        this.#carry.push(chunk);
        return true;
      }
      this.#carry.push(chunk.subarray(0, nl));
      const line = concatBytes(this.#carry);
      this.#carry = [];
      this.#takeLine(line);
      start = nl + 1;
      nl = chunk.indexOf(0x0a, start);
    }
    for (; nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      this.#takeLine(chunk.subarray(start, nl));
      start = nl + 1;
    }
    if (start < chunk.length) this.#carry.push(chunk.slice(start));
    return true;
  }

  #takeLine(bytes: Uint8Array): void {
    const line = ++this.#line;
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
      builder.add(item);
    }
    if (builder.length === this.#size) {
      this.#done.push(builder.finish());
      this.#builder = this.#encoder!.builder();
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
