/**
 * The schema of every item of an NDJSON stream, before its first record
 * batch is made: the first of the two reads of a file. The stream is cut into
 * blocks of whole lines, read by workers (one a core: the process that takes
 * the batches has nothing to do yet) while this thread reads the file, its
 * reads going on meanwhile. The blocks' shapes are joined in order, so the
 * schema (also its column order) is the one a single read gives. Where no
 * worker can be started, this thread reads every block.
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
import { NdjsonBlocks } from "./ndjson_blocks.ts";

/** Block results not yet joined, at most (this thread's are small: shapes only). */
const MAX_PENDING_BLOCKS = 8;

/** Options of {@linkcode ndjsonItemsEncoder}. */
export interface NdjsonSchemaOptions {
  /** The input's name in errors. @default "stdin" */
  source?: string;
  /** Keep only the items that pass. */
  filters?: ItemFilters;
  /** Bytes per block of lines. @default 4194304 */
  blockSize?: number;
  /** Let workers read the blocks (after the first). @default true */
  worker?: boolean;
}

/** Blocks a worker holds at most: one it reads, one waiting. */
const WORKER_BLOCKS = 2;

/** Workers reading blocks at most (one a core; this thread reads the file). */
const MAX_WORKERS = 4;

/** A worker reading blocks, or none where it does not start (this thread reads them then). */
class BlockWorker {
  #worker: Worker | undefined;
  /** The worker answered once: it runs, blocks are moved to it rather than copied. */
  #running = false;
  readonly #waiting: {
    /** The block, kept here until the worker is known to run. */
    block: Uint8Array<ArrayBuffer> | undefined;
    resolve: (result: NdjsonBlockShapes) => void;
  }[] = [];

  /**
   * @param options What every block is read with.
   * @param recycle Takes back the buffer of a block read.
   */
  constructor(
    readonly options: NdjsonBlockOptions,
    readonly recycle: (buffer: ArrayBuffer) => void,
  ) {
    const url = new URL("./ndjson_block_worker.ts", import.meta.url);
    try {
      // A build that left the module out (deno compile without --include) reads here,
      // without the worker's "module not found" on stderr.
      if (url.protocol === "file:") Deno.statSync(url);
      this.#worker = new Worker(url.href, { type: "module" });
    } catch {
      return;
    }
    this.#worker.onmessage = (
      event: MessageEvent<
        { result: NdjsonBlockShapes | { failure: string }; block: Uint8Array<ArrayBuffer> }
      >,
    ) => {
      this.#running = true;
      const next = this.#waiting.shift();
      if (!next) return;
      const { result, block } = event.data;
      this.recycle((next.block ?? block).buffer);
      // An unexpected failure in the worker (a bug): its message is the error.
      next.resolve("failure" in result ? { error: { line: 1, message: result.failure } } : result);
    };
    this.#worker.onerror = (event) => {
      // The worker could not start (e.g. a build without its module): this
      // thread reads the blocks it kept for that case.
      event.preventDefault();
      this.close();
      for (const next of this.#waiting.splice(0)) {
        next.resolve(
          next.block
            ? observeNdjsonBlock(next.block, this.options)
            : { error: { line: 1, message: "The block reader stopped" } },
        );
      }
    };
  }

  /** Whether the worker runs (or may). */
  get available(): boolean {
    return this.#worker !== undefined;
  }

  /** Blocks handed to the worker and not read yet. */
  get held(): number {
    return this.#waiting.length;
  }

  /** The block's shapes; the block is taken. */
  read(block: Uint8Array<ArrayBuffer>): Promise<NdjsonBlockShapes> {
    const worker = this.#worker!;
    const options = this.options;
    return new Promise((resolve) => {
      if (this.#running) {
        this.#waiting.push({ block: undefined, resolve });
        worker.postMessage({ block, options }, [block.buffer]);
      } else {
        // Copied until the worker is known to run: read here should it not start.
        this.#waiting.push({ block, resolve });
        worker.postMessage({ block, options });
      }
    });
  }

  close(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
  }
}

/** The running worker holding the fewest blocks; undefined when none runs. */
function leastBusy(workers: readonly BlockWorker[] | undefined): BlockWorker | undefined {
  let best: BlockWorker | undefined;
  for (const w of workers ?? []) if (w.available && (!best || w.held < best.held)) best = w;
  return best;
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
  const blocks = new NdjsonBlocks(stream, options.blockSize ?? 4 * 2 ** 20);
  const inference = new ItemsSchemaInference();
  /** Each block's result, in order, until joined. */
  const pending: Promise<NdjsonBlockShapes>[] = [];
  const blockOptions = { source, firstLine: 1, filters: options.filters };
  let workers: BlockWorker[] | undefined;
  let firstLine = 1;
  const join = (result: NdjsonBlockShapes) => {
    if ("error" in result) {
      const line = firstLine + result.error.line - 1;
      throw new StacInputError(result.error.message, { source, line });
    }
    inference.observeShapes(result.shapes);
    firstLine += result.lines;
  };
  try {
    for (let block = await blocks.next(), n = 0; block; block = await blocks.next(), n++) {
      // The first block here (small inputs start no worker); then the workers,
      // this thread only reading the file (its reads go on while it waits).
      if (n > 0 && options.worker !== false && workers === undefined) {
        const count = Math.max(1, Math.min(navigator.hardwareConcurrency, MAX_WORKERS));
        const recycle = (buffer: ArrayBuffer) => blocks.recycle(buffer);
        workers = Array.from({ length: count }, () => new BlockWorker(blockOptions, recycle));
      }
      let worker = leastBusy(workers);
      while (worker !== undefined && worker.held >= WORKER_BLOCKS) {
        join(await pending.shift()!);
        worker = leastBusy(workers);
      }
      if (worker) pending.push(worker.read(block));
      else {
        pending.push(Promise.resolve(observeNdjsonBlock(block, blockOptions)));
        blocks.recycle(block.buffer);
      }
      while (pending.length > MAX_PENDING_BLOCKS) join(await pending.shift()!);
    }
    while (pending.length > 0) join(await pending.shift()!);
  } catch (error) {
    await blocks.cancel(error);
    throw error;
  } finally {
    for (const worker of workers ?? []) worker.close();
  }
  return inference.encoder({ complete: true });
}
