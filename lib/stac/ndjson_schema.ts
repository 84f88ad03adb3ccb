/**
 * The schema of every item of an NDJSON stream, before its first record
 * batch is made: the first of the two reads of a file. The stream is cut into
 * blocks of whole lines; every other block is read by a worker while this
 * thread reads the others (the process that takes the batches has nothing to
 * do yet, so the second core is free), and the blocks' shapes are joined in
 * order, so the schema (also its column order) is the one a single read
 * gives. Where no worker can be started, this thread reads every block.
 *
 * @module
 */
import { type ItemsEncoder, ItemsSchemaInference } from "./items_encoder.ts";
import {
  type NdjsonBlockOptions,
  type NdjsonBlockShapes,
  observeNdjsonBlock,
} from "./ndjson_block_shapes.ts";
import type { ItemFilters } from "./json_input.ts";
import { StacInputError } from "./item.ts";

/** The pieces copied into a new array of its own (which can then be freed or moved). */
function ownBytes(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let length = 0;
  for (const p of parts) length += p.byteLength;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Frees a block's memory now (not whenever garbage collection gets to it). */
function free(block: Uint8Array<ArrayBuffer>): void {
  block.buffer.transfer(0);
}

/** Options of {@linkcode ndjsonItemsEncoder}. */
export interface NdjsonSchemaOptions {
  /** The input's name in errors. @default "stdin" */
  source?: string;
  /** Keep only the items that pass. */
  filters?: ItemFilters;
  /** Bytes per block of lines. @default 4194304 */
  blockSize?: number;
  /** Read every other block in a worker. @default true */
  worker?: boolean;
}

/** Blocks handed out and not yet joined, at most. */
const MAX_PENDING_BLOCKS = 3;

/** A worker reading blocks, or this thread where none starts (same results either way). */
class BlockReader {
  #worker: Worker | undefined;
  /** The worker answered once: it runs, blocks are moved to it rather than copied. */
  #running = false;
  readonly #waiting: {
    /** The block, kept here until the worker is known to run. */
    block: Uint8Array<ArrayBuffer> | undefined;
    options: NdjsonBlockOptions;
    resolve: (result: NdjsonBlockShapes) => void;
  }[] = [];

  constructor() {
    const url = new URL("./ndjson_block_worker.ts", import.meta.url);
    try {
      // A build that left the module out (deno compile without --include) reads here,
      // without the worker's "module not found" on stderr.
      if (url.protocol === "file:") Deno.statSync(url);
      this.#worker = new Worker(url.href, { type: "module" });
    } catch {
      return;
    }
    this.#worker.onmessage = (event: MessageEvent<NdjsonBlockShapes | { failure: string }>) => {
      this.#running = true;
      const next = this.#waiting.shift();
      if (!next) return;
      if (next.block) free(next.block);
      // An unexpected failure in the worker (a bug): its message is the error.
      if ("failure" in event.data) {
        next.resolve({ error: { line: next.options.firstLine, message: event.data.failure } });
      } else next.resolve(event.data);
    };
    this.#worker.onerror = (event) => {
      // The worker could not start (e.g. a build without its module): this
      // thread reads the blocks it kept for that case.
      event.preventDefault();
      this.close();
      for (const next of this.#waiting.splice(0)) {
        next.resolve(
          next.block
            ? observeNdjsonBlock(next.block, next.options)
            : { error: { line: next.options.firstLine, message: "The block reader stopped" } },
        );
      }
    };
  }

  /** The block's shapes; the block is taken (moved to the worker, or freed once read). */
  read(block: Uint8Array<ArrayBuffer>, options: NdjsonBlockOptions): Promise<NdjsonBlockShapes> {
    const worker = this.#worker;
    if (!worker) {
      const result = observeNdjsonBlock(block, options);
      free(block);
      return Promise.resolve(result);
    }
    return new Promise((resolve) => {
      if (this.#running) {
        this.#waiting.push({ block: undefined, options, resolve });
        worker.postMessage({ block, options }, [block.buffer]);
      } else {
        // Copied until the worker is known to run: read here should it not start.
        this.#waiting.push({ block, options, resolve });
        worker.postMessage({ block, options });
      }
    });
  }

  close(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
  }
}

/** The number of lines in a block (the last may lack its newline). */
function linesIn(block: Uint8Array): number {
  let lines = 0;
  for (let at = block.indexOf(0x0a); at >= 0; at = block.indexOf(0x0a, at + 1)) lines++;
  return block.length > 0 && block[block.length - 1] !== 0x0a ? lines + 1 : lines;
}

/** Cuts byte chunks into blocks of whole lines of about `size` bytes. */
class BlockCutter {
  #chunks: Uint8Array[] = [];
  #bytes = 0;

  constructor(readonly size: number) {}

  /** Takes a chunk; a block when enough whole lines are there. */
  push(chunk: Uint8Array): Uint8Array<ArrayBuffer> | undefined {
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    if (this.#bytes < this.size) return undefined;
    const chunks = this.#chunks;
    for (let k = chunks.length - 1; k >= 0; k--) {
      const nl = chunks[k]!.lastIndexOf(0x0a);
      if (nl < 0) continue;
      const block = ownBytes([...chunks.slice(0, k), chunks[k]!.subarray(0, nl + 1)]);
      this.#chunks = [chunks[k]!.subarray(nl + 1), ...chunks.slice(k + 1)];
      this.#bytes -= block.length;
      return block;
    }
    // One line longer than a block: read on.
    return undefined;
  }

  /** The last block (what is left), if any. */
  end(): Uint8Array<ArrayBuffer> | undefined {
    const rest = this.#bytes > 0 ? ownBytes(this.#chunks) : undefined;
    this.#chunks = [];
    this.#bytes = 0;
    return rest;
  }
}

/**
 * The encoder of every item of an NDJSON stream (kept by the filters): a
 * byte scan of each line's keys and value kinds, parsing only the lines the
 * scan does not take. The schema has an overflow column only when some item
 * has a part no other column holds.
 *
 * @example
 * ```ts
 * import { ndjsonItemsEncoder } from "./ndjson_schema.ts";
 * import { equal } from "node:assert/strict";
 * const item = { type: "Feature", stac_version: "1.0.0", id: "a", geometry: null, properties: { n: 1 }, links: [], assets: {} };
 * const text = [item, { ...item, id: "b", properties: { late: "x" } }].map((v) => JSON.stringify(v)).join("\n");
 * const encoder = await ndjsonItemsEncoder(new Blob([text]).stream());
 * equal(encoder.schema.fields.some((f) => f.name === "late"), true);
 * equal(encoder.schema.fields.some((f) => f.name === "ferry:overflow"), false);
 * ```
 *
 * @param stream The NDJSON bytes.
 * @param options Source name, filters, block size, whether a worker helps.
 * @returns The encoder.
 * @throws {StacInputError} Naming the line of a bad item.
 */
export async function ndjsonItemsEncoder(
  stream: ReadableStream<Uint8Array>,
  options: NdjsonSchemaOptions = {},
): Promise<ItemsEncoder> {
  const source = options.source ?? "stdin";
  const cutter = new BlockCutter(options.blockSize ?? 4 * 2 ** 20);
  const inference = new ItemsSchemaInference();
  const pending: Promise<NdjsonBlockShapes>[] = [];
  let reader: BlockReader | undefined;
  let blocks = 0;
  let nextLine = 1;
  const join = (result: NdjsonBlockShapes) => {
    if ("error" in result) {
      throw new StacInputError(result.error.message, { source, line: result.error.line });
    }
    inference.observeShapes(result.shapes);
  };
  const read = async (block: Uint8Array<ArrayBuffer>) => {
    const blockOptions = { source, firstLine: nextLine, filters: options.filters };
    nextLine += linesIn(block);
    // The first block here (small inputs never start a worker), then every other one there.
    if (blocks++ % 2 === 1 && options.worker !== false) {
      reader ??= new BlockReader();
      pending.push(reader.read(block, blockOptions));
    } else {
      pending.push(Promise.resolve(observeNdjsonBlock(block, blockOptions)));
      free(block);
    }
    while (pending.length >= MAX_PENDING_BLOCKS) join(await pending.shift()!);
  };
  try {
    for await (const chunk of stream) {
      const block = cutter.push(chunk);
      if (block) await read(block);
    }
    const last = cutter.end();
    if (last) await read(last);
    while (pending.length > 0) join(await pending.shift()!);
  } finally {
    reader?.close();
  }
  return inference.encoder({ complete: true });
}
