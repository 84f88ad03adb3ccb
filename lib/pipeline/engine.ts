/**
 * The one bounded, back-pressured engine that every byte-moving command uses.
 *
 * ## Memory accounting
 *
 * `memoryLimitBytes` is a hard ceiling on the bytes the pipeline buffers,
 * across all workers. Each object, once its size is known (a HEAD), reserves
 * from the shared {@linkcode MemoryBudget} a lease of
 *
 * - its chunk working set: `chunkSizeBytes × (consumerHoldsChunks + 2)` (the
 *   chunks the destination's put may still hold, the one handed over, the
 *   one being filled), capped at the object's size, and
 * - what the destination's put buffers on its own, as its driver reports
 *   it (`putBufferBytesOf`: S3 parts in flight, Swift's look-ahead),
 *
 * and returns it when the put settles. A lease is granted whole or not at
 * all, so workers never deadlock on each other; objects wait in line. When
 * the limit is smaller than one object's working set, the object reads
 * smaller chunks instead of exceeding the limit. Not counted: the piece the
 * source driver is handing over (≤ 256 KiB for files, a network read for
 * HTTP) and the runtime itself.
 *
 * @module
 */
import type { RetryOptions } from "../stores/retry_store.ts";
import type { OpenOptions } from "../stores/registry.ts";
import { checkMemoryLimit, MemoryBudget } from "./memory_budget.ts";
import { pooledMap } from "./pool.ts";
import type { ExpectedDigest } from "./hash_stream.ts";
import {
  type IfExists,
  type ObjectRef,
  transferObject,
  type TransferResult,
  type TransferTask,
} from "./transfer.ts";

/** The tuning every byte-moving command shares (its flags are in `flags.ts`). */
export interface PipelineOptions {
  /** Objects in flight. @default 4 */
  maxWorkers?: number | undefined;
  /**
   * Bytes per chunk read from a source. Small chunks are faster and lighter
   * here: each chunk is a fresh buffer (one still referenced by a put cannot
   * be reused safely), and fresh megabyte buffers cost page faults and are
   * freed late by the garbage collector. S3 parts stay at least 5 MiB.
   * @default 256 KiB
   */
  chunkSizeBytes?: number | undefined;
  /** Hard ceiling on buffered bytes across all workers. @default 256 MiB */
  memoryLimitBytes?: number | undefined;
  /** Parts in flight per object for multipart destinations. @default 4 */
  putMaxConcurrency?: number | undefined;
  /** Cancels every transfer; the results end with the abort reason thrown. */
  signal?: AbortSignal | undefined;
  /** Compute MD5 in flight as well as SHA-256 (`TransferOptions.md5`). @default where it checks something */
  md5?: boolean | undefined;
  /** Compare plain-MD5 ETags with the MD5 computed in flight. @default true */
  etagCheck?: boolean | undefined;
  /** How an existing destination is checked (`read`: always re-hash it). @default "auto" */
  existingCheck?: "auto" | "read" | undefined;
  /** Whole-object retries on transient errors. */
  retry?: RetryOptions | undefined;
  /** Chunks a destination's put may still hold when it asks for more. @default 2 */
  consumerHoldsChunks?: number | undefined;
  /** What a destination's put buffers on its own, per object. @default as the destination's driver reports */
  putBufferBytes?: number | ((task: TransferTask, size: number) => number) | undefined;
  /** Use this budget (e.g. shared between runs, or observed by a test). */
  budget?: MemoryBudget | undefined;
  /** Called when an object starts and with every piece of bytes read. */
  onEvent?: ((event: PipelineEvent) => void) | undefined;
}

/** What the engine reports as it goes (progress displays listen to these). */
export type PipelineEvent =
  | { type: "start"; task: TransferTask }
  | { type: "bytes"; bytes: number }
  | { type: "done"; result: TransferResult };

/** The defaults of {@linkcode PipelineOptions}. */
export const PIPELINE_DEFAULTS = {
  maxWorkers: 4,
  chunkSizeBytes: 256 * 1024,
  memoryLimitBytes: 256 * 1024 * 1024,
  putMaxConcurrency: 4,
} as const;

/**
 * Checks the pipeline options up front.
 *
 * @example A limit below one chunk
 * ```ts
 * import { checkPipelineOptions } from "./engine.ts";
 * import { throws } from "node:assert/strict";
 * throws(() => checkPipelineOptions({ chunkSizeBytes: 2048, memoryLimitBytes: 1024 }), RangeError);
 * ```
 *
 * @param options The options.
 * @returns The four numbers with defaults applied.
 * @throws {RangeError} On a non-positive or non-integer value, or a limit below one chunk.
 */
export function checkPipelineOptions(options: PipelineOptions): {
  maxWorkers: number;
  chunkSizeBytes: number;
  memoryLimitBytes: number;
  putMaxConcurrency: number;
} {
  const maxWorkers = options.maxWorkers ?? PIPELINE_DEFAULTS.maxWorkers;
  const chunkSizeBytes = options.chunkSizeBytes ?? PIPELINE_DEFAULTS.chunkSizeBytes;
  const memoryLimitBytes = options.memoryLimitBytes ?? options.budget?.limitBytes ??
    PIPELINE_DEFAULTS.memoryLimitBytes;
  const putMaxConcurrency = options.putMaxConcurrency ?? PIPELINE_DEFAULTS.putMaxConcurrency;
  for (
    const [name, value] of [["maxWorkers", maxWorkers], [
      "putMaxConcurrency",
      putMaxConcurrency,
    ]] as const
  ) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`Invalid ${name} ${value}: expected a positive integer`);
    }
  }
  checkMemoryLimit(memoryLimitBytes, chunkSizeBytes);
  if (typeof options.putBufferBytes === "number" && options.putBufferBytes >= memoryLimitBytes) {
    throw new RangeError(
      `Invalid memoryLimitBytes ${memoryLimitBytes}: the destination's put buffers ${options.putBufferBytes} bytes per object`,
    );
  }
  return { maxWorkers, chunkSizeBytes, memoryLimitBytes, putMaxConcurrency };
}

/**
 * The store settings that keep a destination's own buffering in step with the
 * pipeline: parts of one chunk and `putMaxConcurrency` parts in flight. Pass
 * them to `openLocation`; what a destination then buffers is charged to the
 * budget as its driver reports it (`putBufferBytesOf`).
 *
 * @example
 * ```ts
 * import { destinationOpenOptions } from "./engine.ts";
 * import { equal } from "node:assert/strict";
 * const o = destinationOpenOptions({ chunkSizeBytes: 8 * 2 ** 20, putMaxConcurrency: 2 });
 * equal(o.partSizeBytes, 8 * 2 ** 20);
 * equal(o.putMaxConcurrency, 2);
 * ```
 *
 * @param options The pipeline options.
 * @returns `putMaxConcurrency` and `partSizeBytes` for `OpenOptions`.
 */
export function destinationOpenOptions(
  options: PipelineOptions,
): Pick<OpenOptions, "putMaxConcurrency" | "partSizeBytes"> {
  const { chunkSizeBytes, putMaxConcurrency } = checkPipelineOptions(options);
  return { putMaxConcurrency, partSizeBytes: chunkSizeBytes };
}

/**
 * Copies every task's object, at most `maxWorkers` at a time, within
 * `memoryLimitBytes`, and yields one result per task as each finishes
 * (completion order). A failed object is a result with `status: "failed"`,
 * never a throw; the caller decides whether to go on (a keep-going caller) or stop
 * (break out of the loop: objects in flight are cancelled and awaited).
 * Options are checked before any task is read.
 *
 * @example Two objects between memory stores
 * ```ts
 * import { runTransfers } from "./engine.ts";
 * import { MemoryStore } from "../stores/memory.ts";
 * import { putBytes } from "../stores/ext.ts";
 * import { equal } from "node:assert/strict";
 * const [a, b] = [new MemoryStore(), new MemoryStore()];
 * await putBytes(a, "1", new Uint8Array(100));
 * await putBytes(a, "2", new Uint8Array(300));
 * const tasks = ["1", "2"].map((key) => ({
 *   source: { store: a, key }, destination: { store: b, key: `copy/${key}` },
 * }));
 * let copied = 0;
 * for await (const r of runTransfers(tasks, { chunkSizeBytes: 64, memoryLimitBytes: 256 })) {
 *   if (r.status === "copied") copied++;
 * }
 * equal(copied, 2);
 * ```
 *
 * @param tasks The objects to copy (read lazily, never ahead of the workers).
 * @param options Workers, chunking, memory ceiling, signal and checks.
 * @returns The results, one per task.
 * @throws {RangeError} At once, on invalid options.
 */
export function runTransfers<T>(
  tasks: AsyncIterable<TransferTask<T>> | Iterable<TransferTask<T>>,
  options: PipelineOptions = {},
): AsyncIterable<TransferResult<T>> {
  const checked = checkPipelineOptions(options);
  const budget = options.budget ??
    new MemoryBudget(checked.memoryLimitBytes, {
      minRequestBytes: checked.chunkSizeBytes,
      name: "memoryLimitBytes",
    });
  if (budget.limitBytes < checked.chunkSizeBytes) {
    checkMemoryLimit(budget.limitBytes, checked.chunkSizeBytes);
  }
  return run(tasks, options, checked, budget);
}

async function* run<T>(
  tasks: AsyncIterable<TransferTask<T>> | Iterable<TransferTask<T>>,
  options: PipelineOptions,
  checked: ReturnType<typeof checkPipelineOptions>,
  budget: MemoryBudget,
): AsyncGenerator<TransferResult<T>> {
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const onEvent = options.onEvent;
  const onBytes = onEvent ? (bytes: number) => onEvent({ type: "bytes", bytes }) : undefined;
  const results = pooledMap(checked.maxWorkers, tasks, async (task: TransferTask<T>) => {
    onEvent?.({ type: "start", task });
    const result = await transferObject(task, {
      budget,
      chunkSizeBytes: checked.chunkSizeBytes,
      consumerHoldsChunks: options.consumerHoldsChunks,
      putBufferBytes: options.putBufferBytes,
      md5: options.md5,
      etagCheck: options.etagCheck,
      existingCheck: options.existingCheck,
      retry: options.retry,
      signal,
      onBytes,
    });
    onEvent?.({ type: "done", result });
    return result;
  }, { signal })[Symbol.asyncIterator]();
  let finished = false;
  try {
    while (true) {
      const next = await results.next();
      if (next.done) break;
      yield next.value;
    }
    finished = true;
  } finally {
    // A consumer that stops early cancels what is still in flight, then waits for it.
    if (!finished) stop.abort(new DOMException("The transfer run was stopped", "AbortError"));
    await results.return?.();
  }
}

/** Options of {@linkcode copyObject}. */
export interface CopyObjectOptions extends PipelineOptions {
  /** Facts the bytes must match (`size`, `sha256`, `md5`). */
  expected?: ExpectedDigest | undefined;
  /** What to do when the destination exists. @default "overwrite" */
  ifExists?: IfExists | undefined;
  /** Content type for the destination. @default the source's */
  contentType?: string | undefined;
}

/**
 * Copies one object through the pipeline: streamed within the memory limit,
 * hashed in flight, retried whole on transient errors, never half-visible.
 *
 * @example Copying between two memory stores
 * ```ts
 * import { copyObject } from "./engine.ts";
 * import { MemoryStore } from "../stores/memory.ts";
 * import { getBytes, putBytes } from "../stores/ext.ts";
 * import { equal } from "node:assert/strict";
 * const [a, b] = [new MemoryStore(), new MemoryStore()];
 * await putBytes(a, "x.bin", new Uint8Array([1, 2, 3]));
 * const result = await copyObject({ store: a, key: "x.bin" }, { store: b, key: "y.bin" });
 * equal(result.checksum?.slice(0, 4), "1220");
 * equal((await getBytes(b, "y.bin")).length, 3);
 * ```
 *
 * @param source Where the bytes are.
 * @param destination Where they go.
 * @param options Pipeline tuning, expected facts, what to do with an existing destination.
 * @returns What happened (`copied`, or `skipped` under `ifExists: "verify" | "keep"`).
 * @throws {Error} The object's failure (a `StoreError`, a `ChecksumMismatchError`, …).
 */
export async function copyObject(
  source: ObjectRef,
  destination: ObjectRef,
  options: CopyObjectOptions = {},
): Promise<TransferResult> {
  const { expected, ifExists, contentType, ...pipeline } = options;
  const task: TransferTask = {
    source,
    destination,
    expected,
    ifExists: ifExists ?? "overwrite",
    contentType,
  };
  for await (const result of runTransfers([task], pipeline)) {
    if (result.status === "failed") throw result.error;
    return result;
  }
  throw new Error("The transfer run ended without a result");
}
